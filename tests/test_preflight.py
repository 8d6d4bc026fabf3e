"""Pre-flight of tabular input against what the configuration says: one error naming file, line
or record and column, before any component runs; optional values are not errors."""

from __future__ import annotations

import pytest
import tensorflow as tf

from mlops.data import DataError, preflight


def _csv(tmp_path, text: str) -> str:
    (tmp_path / "data.csv").write_text(text)
    return str(tmp_path)


def test_missing_cells_are_optional_values_not_errors(tmp_path):
    data = _csv(tmp_path, "fare,company,tips\n1.5,Acme,0\n,,1\n3.0,,0\n")
    summary = preflight(data, "auto", "tips", ["fare", "company"], 2, task="binary")
    assert summary["records_checked"] == 3


@pytest.mark.parametrize("text, task, classes, message", [
    ("fare,tips\n1.5,0\n2.5,2\n", "binary", 2,
     "line 3: label 'tips' is '2', outside the classes 0-1 (task: binary)"),
    ("bmi,progression\n0.1,151\n0.2,high\n", "regression", 0,
     "line 3: label 'progression' is 'high', not a number (task: regression)"),
    ("fare,tips\n1.5,\n", "binary", 2, "line 2: label 'tips' is empty"),
    ("fare,tips\n1.5,0\n12 dollars,1\n", "binary", 2,
     "line 3: column 'fare' holds text '12 dollars', but numbers from line 2 on"),
    ("fare,tips\n1.5,0\n", "binary", 2, None),
    # A second 'fare' (it was 'tips' upstream) would silently replace the first in ExampleGen.
    ("fare,tips,fare\n1.5,0,2.0\n", "binary", 2,
     "the header names column 'fare' twice (columns 1 and 3)"),
    ("fare,tips\n1.5,0\n1.5\n", "binary", 2, "line 3 has 1 field where the header has 2"),
    ("fare,tips\n1.5,0,7\n", "binary", 2, "line 2 has 3 fields where the header has 2"),
])
def test_csv_values_are_checked_against_the_task(tmp_path, text, task, classes, message):
    data = _csv(tmp_path, text)
    if message is None:
        assert preflight(data, "csv", "tips", ["fare"], classes, task=task)["records_checked"] == 1
        return
    label = "progression" if task == "regression" else "tips"
    feature = "bmi" if task == "regression" else "fare"
    with pytest.raises(DataError) as raised:
        preflight(data, "csv", label, [feature], classes, task=task)
    assert message in str(raised.value) and "data.csv" in str(raised.value)


def test_missing_column_is_named(tmp_path):
    data = _csv(tmp_path, "fare,tips\n1.5,0\n")
    with pytest.raises(DataError, match="column 'payment_type' is missing from the CSV header"):
        preflight(data, "csv", "tips", ["fare", "payment_type"], 2, task="binary")


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    (b"\xef\xbb\xbffare,tips\n1.5,0\n", "starts with a UTF-8 byte-order mark"),
    (b"fare;tips\n1.5;0\n", "the header is one column 'fare;tips': the file looks "
                             "semicolon-separated"),
    (b"fare\ttips\n1.5\t0\n", "the file looks tab-separated"),
    (b"fare,tips\n1.5,0\n2.5,1\n3.5,0\xe9\n", "line 4 is not UTF-8 text"),
    (b"fare,tip\n1.5,0\n", "column 'tips' is missing from the CSV header (columns: fare, tip)"),
])
def test_csv_that_is_not_comma_separated_utf8_is_named(tmp_path, content, message):
    (tmp_path / "data.csv").write_bytes(content)
    with pytest.raises(DataError) as raised:
        preflight(str(tmp_path), "auto", "tips", ["fare"], 2, task="binary")
    assert message in str(raised.value) and "data.csv" in str(raised.value)


def test_a_file_beside_the_csv_is_named(tmp_path):
    (tmp_path / "data.csv").write_text("fare,tips\n1.5,0\n")
    (tmp_path / "README.txt").write_text("Taxi trips, 2019.\n")
    with pytest.raises(DataError, match=r"mixes CSV files \(data.csv\) with files that are not "
                                        r"CSV \(README.txt\)"):
        preflight(str(tmp_path), "auto", "tips", ["fare"], 2, task="binary")


def test_preflight_reports_the_columns_it_saw(tmp_path):
    data = _csv(tmp_path, "fare,company,tips\n1.5,Acme,0\n")
    assert preflight(data, "csv", "tips", ["fare"], 2, task="binary")["columns"] == [
        "company", "fare", "tips"]


def _write(path, examples):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for features in examples:
            writer.write(tf.train.Example(features=tf.train.Features(feature=features))
                         .SerializeToString())


def _floats(*values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _ints(*values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _text(*values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def test_tfrecord_optional_scalar_feature_may_be_absent(tmp_path):
    _write(tmp_path / "part.tfrecord", [{"fare": _floats(1.0), "y": _ints(0)}, {"y": _ints(1)}])
    assert preflight(str(tmp_path), "tfrecord", "y", ["fare"], 2, task="binary")[
        "records_checked"] == 2


def test_tfrecord_feature_that_changes_kind_is_named(tmp_path):
    _write(tmp_path / "part.tfrecord", [{"fare": _floats(1.0), "y": _ints(0)},
                                        {"fare": _text(b"cheap"), "y": _ints(1)}])
    with pytest.raises(DataError, match=r"record 2: feature 'fare' holds text \(bytes\), but "
                                        r"numbers \(float\) in record 1"):
        preflight(str(tmp_path), "tfrecord", "y", ["fare"], 2, task="binary")

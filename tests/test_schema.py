"""The curated schema as `mlops schema` shows and promotes it, on CSV as CSV ExampleGen reads it:
a column with blank cells is optional, one that always had a value is required, and after
promotion a blank there is a TFDV anomaly."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_data_validation as tfdv

from components.common import csv_examples
from mlops import schema as schemas


def _csv_statistics(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    return csv_examples.statistics(csv_examples.examples([str(path)]))


def test_a_column_with_blanks_is_shown_optional_and_one_without_required(tmp_path):
    stats = _csv_statistics(tmp_path, "span", "fare,company,label\n1.5,a,0\n2.5,,1\n3.0,b,0\n")
    shown = schemas.describe(tfdv.infer_schema(stats, infer_feature_shape=True))
    lines = {line.split()[0]: line for line in shown.splitlines()[1:]}
    assert "required" in lines["fare"] and "optional (blanks)" in lines["company"]


def test_promotion_requires_a_value_where_every_example_had_one(tmp_path):
    """A list feature of varying length (no fixed shape) that was never empty: promoted, an empty
    one is an anomaly; the feature that was sometimes empty stays optional."""
    def example(tags, notes):
        return tf.train.Example(features=tf.train.Features(feature={
            "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=tags)),
            "notes": tf.train.Feature(bytes_list=tf.train.BytesList(value=notes)),
        })).SerializeToString()

    span = csv_examples.statistics([example([b"a"], [b"x"]), example([b"a", b"b"], []),
                                    example([b"c"], [b"y", b"z"])])
    inferred = tfdv.infer_schema(span, infer_feature_shape=True)
    path = schemas.promote(inferred, str(tmp_path / "schema.pbtxt"), "label", statistics=[span])
    curated = schemas.read(path)
    assert schemas.requires_a_value(tfdv.get_feature(curated, "tags"))
    assert not schemas.requires_a_value(tfdv.get_feature(curated, "notes"))
    blank = csv_examples.statistics([example([], [b"x"]), example([b"a"], [])])
    anomalies = tfdv.validate_statistics(blank, curated).anomaly_info
    assert set(anomalies) == {"tags"}

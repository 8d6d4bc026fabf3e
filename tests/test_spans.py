"""Data in spans: the demo spans, a user's files as the next span, and what a run reads."""

from __future__ import annotations

import os

import pytest

from mlops import data


def test_demo_spans_partition_the_digits_and_stop_after_the_last(tmp_path):
    import tensorflow as tf

    root = str(tmp_path / "digits")
    counts = []
    for expected in range(1, data.DEMO_SPANS + 1):
        span, span_dir = data.ingest(root, None)
        assert span == expected and span_dir.endswith(f"span-{expected}")
        counts.append(sum(1 for _ in tf.data.TFRecordDataset(
            os.path.join(span_dir, data.DIGITS_FILE))))
    assert sum(counts) == 1797 and min(counts) >= 599  # disjoint parts of the whole set
    with pytest.raises(data.DataError, match="3 spans"):
        data.ingest(root, None)
    # A run reads the newest span through ExampleGen's {SPAN} pattern.
    assert data.input_location(root) == (os.path.join(root, "span-3"), "span-{SPAN}/*")
    assert not [n for n in os.listdir(root) if n.startswith(".")]  # no temporary leftovers


def test_a_users_files_become_the_next_span(tmp_path):
    source = tmp_path / "incoming"
    source.mkdir()
    (source / "a.csv").write_text("x,label\n1,0\n")
    (source / "b.csv").write_text("x,label\n2,1\n")
    root = str(tmp_path / "data")
    assert data.ingest(root, str(source), "csv") == (1, os.path.join(root, "span-1"))
    assert data.ingest(root, str(source / "a.csv"), "csv")[0] == 2
    assert sorted(os.listdir(os.path.join(root, "span-1"))) == ["00000-a.csv", "00001-b.csv"]
    with pytest.raises(data.DataError, match="keep one format"):
        data.ingest(root, str(source), "tfrecord")


def test_flat_data_is_one_unversioned_input_and_is_not_mixed_with_spans(tmp_path):
    (tmp_path / "flat.csv").write_text("x,label\n1,0\n")
    assert data.input_location(str(tmp_path)) == (str(tmp_path), "*")
    # one file: ExampleGen reads its directory with the file's name as the pattern
    from mlops.config import load_config

    single = str(tmp_path / "flat.csv")
    assert data.input_location(single) == (single, "flat.csv")
    assert load_config(overrides={"data": single}, environ={}).input_base == str(tmp_path)
    with pytest.raises(data.DataError, match="not organised in spans"):
        data.ingest(str(tmp_path), None)

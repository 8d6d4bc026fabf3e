"""Serving skew (mlops skew): requests as served, against the training span, on small data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import tensorflow_data_validation as tfdv

from components.data_gate import checks
from mlops import skew

ROWS = 300


def _rows(seed: int, shift: float = 0.0, label: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"distance": rng.normal(10.0 + shift, 2.0, ROWS),
                          "city": rng.choice(["north", "south"], ROWS)})
    if label:
        frame["label"] = rng.integers(0, 2, ROWS)
    return frame


def _compare(requests: pd.DataFrame) -> skew.SkewReport:
    training = tfdv.generate_statistics_from_dataframe(_rows(0))
    schema = skew.serving_schema(None, [training], "label")
    return skew.compare(tfdv.generate_statistics_from_dataframe(requests), training, schema,
                        checks.Thresholds())


def test_requests_like_the_training_span_without_the_label_show_no_skew():
    report = _compare(_rows(1, label=False))
    assert not report.problems and not report.skewed
    assert {m.feature for m in report.measures} == {"distance", "city"}  # the label is not served
    assert report.text().endswith("No skew found.")


def test_shifted_requests_are_skew_naming_the_feature():
    report = _compare(_rows(1, shift=5.0, label=False))
    assert [m.feature for m in report.skewed] == ["distance"]
    assert "feature 'distance': quantile distance" in report.text()
    assert report.text().endswith("Skew found.")


def test_a_request_without_a_served_feature_is_a_serving_anomaly():
    report = _compare(_rows(1, label=False).drop(columns=["city"]))
    assert [(p.feature, p.kind) for p in report.problems] == [("city", "SCHEMA_MISSING_COLUMN")]


def test_requests_that_cannot_be_read_are_one_line_each(tmp_path):
    """An empty file, random bytes, a duplicated CSV column: named, never '0 requests ... No skew
    found' or a TFDV traceback."""
    import pytest

    training = tfdv.generate_statistics_from_dataframe(_rows(0))
    schema = skew.serving_schema(None, [training], "label")
    empty = tmp_path / "empty.csv"
    empty.write_text("distance,city\n")
    noise = tmp_path / "requests.tfrecord"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    twice = tmp_path / "twice.csv"
    twice.write_text("distance,city,distance\n1.0,north,2.0\n")
    cases = [(empty, "csv", "no requests in"), (noise, "tfrecord", "is not a TFRecord file"),
             (twice, "csv", "the header names column 'distance' twice (columns 1 and 3)")]
    for path, data_format, message in cases:
        with pytest.raises(skew.SkewError) as raised:
            skew.request_statistics(str(path), data_format, schema)
        assert str(raised.value).startswith(str(path)) or str(tmp_path) in str(raised.value)
        assert message in str(raised.value)


def test_csv_requests_are_read_as_csv_example_gen_read_the_training_data(tmp_path):
    """Blank cells are empty values (not absent features) on both sides: no presence anomaly and
    no skew for requests sampled from the training data itself."""
    from components.common import csv_examples

    frame = _rows(0)
    frame.loc[::7, "distance"] = np.nan  # a blank in one row of seven
    frame.to_csv(tmp_path / "train.csv", index=False)
    training = csv_examples.statistics(csv_examples.examples([str(tmp_path / "train.csv")]))
    schema = skew.serving_schema(None, [training], "label")
    frame.drop(columns=["label"]).sample(150, random_state=1).to_csv(tmp_path / "requests.csv",
                                                                     index=False)
    report = skew.compare(skew.request_statistics(str(tmp_path / "requests.csv"), "csv", schema),
                          training, schema, checks.Thresholds())
    assert not report.problems and not report.skewed, report.text()

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

"""The quantile distance on data nobody here wrote: TFX's taxi CSV (whose `trip_miles` made TFDV's
Jensen-Shannon divergence cry wolf) and scikit-learn's digits, as CSV ExampleGen would read them."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from components.common import csv_examples, feature_statistics
from components.data_gate import checks, drift


def _taxi() -> pd.DataFrame:
    import tfx

    return pd.read_csv(os.path.join(os.path.dirname(tfx.__file__), "examples",
                                    "chicago_taxi_pipeline/data/simple/data.csv"),
                       dtype=str, keep_default_na=False)


def _statistics(tmp_path, name: str, frame: pd.DataFrame):
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return csv_examples.statistics(csv_examples.examples([str(path)]))


def _measured(tmp_path, current: pd.DataFrame, reference: pd.DataFrame) -> dict:
    import tensorflow_data_validation as tfdv

    before = _statistics(tmp_path, "reference", reference)
    now = _statistics(tmp_path, "current", current)
    compared = checks.with_drift_comparators(tfdv.infer_schema(before), checks.Thresholds())
    anomalies = checks.validate(now, before, compared)
    return {d.feature: d for d in checks.drifts(now, before, compared, anomalies,
                                                checks.Thresholds())}


@pytest.fixture(scope="module")
def halves():
    frame = _taxi()
    order = np.random.default_rng(216).permutation(len(frame))
    return frame.iloc[order[:3000]], frame.iloc[order[3000:6000]]


def test_two_random_halves_of_the_taxi_csv_do_not_drift(tmp_path, halves):
    measured = _measured(tmp_path, halves[1], halves[0])
    assert measured["trip_miles"].measure == drift.QUANTILE_DISTANCE
    assert measured["payment_type"].measure == checks.L_INFTY
    assert [d.line() for d in measured.values() if d.drifted] == []
    assert measured["trip_miles"].value < measured["trip_miles"].limit / 2


def test_trip_miles_scaled_by_one_and_a_half_drifts(tmp_path, halves):
    scaled = halves[1].copy()
    scaled["trip_miles"] = (scaled["trip_miles"].astype(float) * 1.5).map("{:g}".format)
    measured = _measured(tmp_path, scaled, halves[0])
    assert [d.feature for d in measured.values() if d.drifted] == ["trip_miles"]


def test_outliers_do_not_move_the_quantile_distance(tmp_path, halves):
    """A few absurd trips (the CSV has one of 1,710 miles) are beyond the 90th percentile."""
    wild = halves[1].copy()
    wild.iloc[:10, wild.columns.get_loc("trip_miles")] = "5000"
    measured = _measured(tmp_path, wild, halves[0])
    assert not measured["trip_miles"].drifted


def test_digits_at_half_brightness_drift_and_the_noise_floor_counts_values(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = digits.data.astype(np.float32)
    order = np.random.default_rng(0).permutation(len(pixels))

    def stats(rows: np.ndarray):
        import tensorflow as tf

        return csv_examples.statistics([tf.train.Example(features=tf.train.Features(feature={
            "image_floats": tf.train.Feature(float_list=tf.train.FloatList(value=row))}))
            .SerializeToString() for row in rows])

    reference, same = stats(pixels[order[:300]]), stats(pixels[order[300:600]])
    dim = stats(pixels[order[300:600]] * 0.5)
    features = feature_statistics.features
    ordinary = drift.quantile_distance(features(same)["image_floats"].num_stats,
                                       features(reference)["image_floats"].num_stats)
    dimmed = drift.quantile_distance(features(dim)["image_floats"].num_stats,
                                     features(reference)["image_floats"].num_stats)
    # 300 images of 64 pixels: the floor counts 19,200 values, not 300 rows
    assert ordinary.noise_floor == pytest.approx(drift.NOISE_FACTOR * np.sqrt(2 / 19200))
    assert ordinary.value < checks.DEFAULT_NUMERIC_THRESHOLD < dimmed.value

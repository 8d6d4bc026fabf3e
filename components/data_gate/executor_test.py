"""DataGate executor on small statistics, as TFX hands the artifacts over: no pipeline run."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tfx.types import artifact_utils, standard_artifacts

from components.common.names import ACCEPT_DRIFT, DRIFT, PREVIOUS_STATISTICS_URI, VERDICT
from components.data_gate import checks, drift
from components.data_gate.drift import QUANTILE_DISTANCE
from components.data_gate.executor import THRESHOLDS_KEY, DataRejectedError, Executor
from components.pusher.destinations.base import SOURCE_RECORD

ROWS = 400


def _span(seed: int, shift: float = 0.0, cities=("north", "south", "east")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"distance": rng.normal(10.0 + shift, 2.0, ROWS),
                         "city": rng.choice(list(cities), ROWS),
                         "label": rng.integers(0, 2, ROWS)})


def _statistics(tmp_path, name: str, frame: pd.DataFrame):
    artifact = standard_artifacts.ExampleStatistics()
    artifact.uri = str(tmp_path / name)
    artifact.split_names = artifact_utils.encode_split_names(["train"])
    split_dir = tmp_path / name / "Split-train"
    split_dir.mkdir(parents=True)
    stats = tfdv.generate_statistics_from_dataframe(frame)
    (split_dir / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return artifact, stats


def _schema(tmp_path, schema):
    artifact = standard_artifacts.Schema()
    artifact.uri = str(tmp_path / "schema")
    os.makedirs(artifact.uri, exist_ok=True)
    tfdv.write_schema_text(schema, os.path.join(artifact.uri, "schema.pbtxt"))
    return artifact


def _anomalies(tmp_path, stats, schema):
    """ExampleValidator's output: the span against the schema."""
    artifact = standard_artifacts.ExampleAnomalies()
    artifact.uri = str(tmp_path / "anomalies")
    artifact.split_names = artifact_utils.encode_split_names(["train"])
    split_dir = tmp_path / "anomalies" / "Split-train"
    split_dir.mkdir(parents=True)
    (split_dir / "SchemaDiff.pb").write_bytes(
        tfdv.validate_statistics(stats, schema).SerializeToString())
    return artifact


def _publish(tmp_path, statistics_uri: str) -> str:
    """A serving root whose version 1 was trained on the span with `statistics_uri`."""
    version = tmp_path / "serving" / "m" / "1"
    version.mkdir(parents=True)
    (version / SOURCE_RECORD).write_text(json.dumps(
        {"model_uri": str(tmp_path / "model"), "statistics_uri": statistics_uri}))
    return str(tmp_path / "serving")


def _gate(tmp_path, frame: pd.DataFrame, previous: pd.DataFrame | None = None, schema=None,
          thresholds: checks.Thresholds = checks.Thresholds(), accept_drift: bool = False):
    """Runs the executor on `frame` (schema: curated, or inferred from `frame`); `previous` is the
    span of the model in production. Returns the result artifact."""
    current, stats = _statistics(tmp_path, "current", frame)
    schema = schema if schema is not None else tfdv.infer_schema(stats)
    serving_root = ""
    if previous is not None:
        before, _ = _statistics(tmp_path, "previous", previous)
        serving_root = _publish(tmp_path, before.uri)
    result = standard_artifacts.ExampleAnomalies()
    result.uri = str(tmp_path / "result")
    params = {THRESHOLDS_KEY: thresholds.to_json(), ACCEPT_DRIFT: int(accept_drift),
              "model_name": "m", "destinations": json.dumps(
                  [{"kind": "serving", "root": serving_root}] if serving_root else [])}
    Executor().Do({"statistics": [current], "schema": [_schema(tmp_path, schema)],
                   "anomalies": [_anomalies(tmp_path, stats, schema)]},
                  {"result": [result]}, params)
    return result


def _stopped(tmp_path, *args, **kwargs) -> str:
    with pytest.raises(DataRejectedError) as raised:
        _gate(tmp_path, *args, **kwargs)
    message = str(raised.value)
    assert "stops before Transform" in message
    return message


def test_first_span_passes_without_a_previous_one(tmp_path):
    result = _gate(tmp_path, _span(0))
    assert result.get_string_custom_property(VERDICT) == "passed (no previous span)"
    assert result.get_string_custom_property(PREVIOUS_STATISTICS_URI) == ""
    assert os.path.exists(os.path.join(result.uri, "Split-train", "SchemaDiff.pb"))


def test_an_ordinary_new_sample_passes_and_its_drift_is_recorded(tmp_path):
    result = _gate(tmp_path, _span(1), previous=_span(0))
    assert result.get_string_custom_property(VERDICT) == "passed"
    drift = json.loads(result.get_string_custom_property(DRIFT))
    assert drift["distance"]["measure"] == QUANTILE_DISTANCE
    assert drift["city"]["measure"] == checks.L_INFTY
    assert all(0.0 <= d["value"] < max(d["threshold"], d["noise_floor"]) and not d["drifted"]
               for d in drift.values())
    assert result.get_string_custom_property(PREVIOUS_STATISTICS_URI).endswith("previous")


def test_a_shifted_numeric_feature_stops_the_run_naming_it(tmp_path):
    message = _stopped(tmp_path, _span(1, shift=4.0), previous=_span(0))
    assert "feature 'distance': quantile distance" in message
    # 400 rows a span: sampling alone may move the distance by more than the threshold
    floor = drift.NOISE_FACTOR * (2 / ROWS) ** 0.5
    assert f"against noise floor {floor:.3f} of samples this small (threshold 0.05)" in message
    assert "--accept-drift" in message
    assert "'city'" not in message


def test_accepting_drift_lets_the_span_through_and_records_it(tmp_path):
    result = _gate(tmp_path, _span(1, shift=4.0), previous=_span(0), accept_drift=True)
    assert result.get_string_custom_property(VERDICT) == "drift accepted: distance"
    assert result.get_int_custom_property(ACCEPT_DRIFT) == 1
    assert json.loads(result.get_string_custom_property(DRIFT))["distance"]["drifted"]


def test_a_new_category_stops_the_run_against_the_curated_schema(tmp_path):
    _, stats = _statistics(tmp_path / "first", "s", _span(0))
    curated = tfdv.infer_schema(stats)
    message = _stopped(tmp_path, _span(1, cities=("north", "south", "east", "west")),
                       previous=_span(0), schema=curated)
    assert "feature 'city': ENUM_TYPE_UNEXPECTED_STRING_VALUES" in message and "west" in message
    assert "feature 'city': L-infinity distance" in message  # a quarter of the rows moved


def test_a_missing_column_and_a_changed_type_are_named_even_with_an_inferred_schema(tmp_path):
    span = _span(1).drop(columns=["city"])
    span["distance"] = span["distance"].round(1).astype(str)
    message = _stopped(tmp_path, span, previous=_span(0))
    assert "feature 'city': SCHEMA_MISSING_COLUMN" in message
    assert "feature 'distance': UNEXPECTED_DATA_TYPE: type changed from FLOAT" in message


def test_nan_values_are_a_problem_naming_the_feature_and_how_many(tmp_path):
    import tensorflow as tf

    path = tmp_path / "nan.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for value in [1.0, float("nan"), 2.0, float("nan")] * 5:
            writer.write(tf.train.Example(features=tf.train.Features(feature={
                "distance": tf.train.Feature(float_list=tf.train.FloatList(value=[value]))}))
                .SerializeToString())
    stats = tfdv.generate_statistics_from_tfrecord(str(path))
    assert [p.line() for p in checks.nan_problems(stats)] == [
        "feature 'distance': FLOAT_TYPE_HAS_NAN: 10 values are NaN (not a number)"]
    assert checks.nan_problems(tfdv.generate_statistics_from_dataframe(_span(0))) == []


def test_thresholds_come_from_the_schema_then_the_configuration(tmp_path):
    shifted, previous = _span(1, shift=4.0), _span(0)
    result = _gate(tmp_path / "config", shifted, previous=previous,
                   thresholds=checks.Thresholds(features={"distance": 2.0}))
    assert result.get_string_custom_property(VERDICT) == "passed"
    _, stats = _statistics(tmp_path / "first", "s", previous)
    curated = tfdv.infer_schema(stats)
    comparator = tfdv.get_feature(curated, "distance").drift_comparator
    comparator.jensen_shannon_divergence.threshold = 0.95
    result = _gate(tmp_path / "schema", shifted, previous=previous, schema=curated,
                   thresholds=checks.Thresholds(features={"distance": 0.01}))
    measured = json.loads(result.get_string_custom_property(DRIFT))["distance"]
    # a comparator the curated schema sets is TFDV's own measure, as the user asked
    assert measured["threshold"] == 0.95 and measured["measure"] == checks.JENSEN_SHANNON


def _csv_statistics(tmp_path, name: str, frame: pd.DataFrame):
    """Statistics of `frame` as CSV ExampleGen writes it (a blank cell: present, no values), as a
    StatisticsGen artifact."""
    from components.common import csv_examples

    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    stats = csv_examples.statistics(csv_examples.examples([str(path)]))
    artifact = standard_artifacts.ExampleStatistics()
    artifact.uri = str(tmp_path / name)
    artifact.split_names = artifact_utils.encode_split_names(["train"])
    (tmp_path / name / "Split-train").mkdir(parents=True)
    (tmp_path / name / "Split-train" / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return artifact, stats


def _with_blanks(seed: int, share: float, column: str = "distance") -> pd.DataFrame:
    frame = _span(seed)
    frame.loc[np.random.default_rng(seed + 100).random(ROWS) < share, column] = np.nan
    return frame


def test_blank_cells_count_as_missing(tmp_path):
    from components.common import feature_statistics

    frame = _with_blanks(0, 0.08)
    blanks = int(frame["distance"].isna().sum())
    _, stats = _csv_statistics(tmp_path, "blanks", frame)
    distance = feature_statistics.features(stats)["distance"]
    # TFDV: present in every example (a blank is an empty value list) ...
    assert distance.num_stats.common_stats.num_non_missing == ROWS
    # ... the platform: missing where blank.
    assert feature_statistics.missing(distance) == blanks > 0
    assert feature_statistics.with_values(distance) == ROWS - blanks


def test_a_column_whose_blanks_rise_stops_the_run_naming_both_fractions(tmp_path):
    current, stats = _csv_statistics(tmp_path, "current", _with_blanks(1, 0.6))
    before, _ = _csv_statistics(tmp_path, "previous", _with_blanks(0, 0.08))
    schema = tfdv.infer_schema(stats)
    result = standard_artifacts.ExampleAnomalies()
    result.uri = str(tmp_path / "result")
    with pytest.raises(DataRejectedError) as raised:
        Executor().Do({"statistics": [current], "schema": [_schema(tmp_path, schema)],
                       "anomalies": [_anomalies(tmp_path, stats, schema)]}, {"result": [result]},
                      {THRESHOLDS_KEY: checks.Thresholds().to_json(), ACCEPT_DRIFT: 0,
                       "model_name": "m", "destinations": json.dumps(
                           [{"kind": "serving", "root": _publish(tmp_path, before.uri)}])})
    lines = [line for line in str(raised.value).splitlines() if "MISSING" in line]
    now = _with_blanks(1, 0.6)["distance"].isna().mean() * 100
    was = _with_blanks(0, 0.08)["distance"].isna().mean() * 100
    assert lines == [f"  feature 'distance': {checks.MISSING_VALUES}: {now:.1f} % missing, was "
                     f"{was:.1f} % in the span of the model in production"]


def test_blanks_as_common_as_before_pass(tmp_path):
    _, now = _csv_statistics(tmp_path, "current", _with_blanks(1, 0.08))
    _, before = _csv_statistics(tmp_path, "previous", _with_blanks(0, 0.08))
    assert checks.missing_problems(now, before, checks.DEFAULT_MISSING_INCREASE) == []
    # switched off: even 60 % passes
    _, worse = _csv_statistics(tmp_path, "worse", _with_blanks(2, 0.6))
    assert checks.missing_problems(worse, before, 1.0) == []

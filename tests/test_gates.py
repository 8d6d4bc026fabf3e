"""The two custom components' executors, on artifacts as TFX hands them over."""

from __future__ import annotations

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tfx.types import artifact_utils, standard_artifacts

from components.anomalies_gate.executor import AnomaliesFoundError
from components.anomalies_gate.executor import Executor as AnomaliesGateExecutor
from components.blessing_gate.executor import Executor as BlessingGateExecutor


def _anomalies_artifact(tmp_path, train: pd.DataFrame, serving: pd.DataFrame):
    """ExampleValidator's output for data `serving` against the schema inferred from `train`."""
    schema = tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(train))
    anomalies = tfdv.validate_statistics(tfdv.generate_statistics_from_dataframe(serving), schema)
    artifact = standard_artifacts.ExampleAnomalies()
    artifact.uri = str(tmp_path / "anomalies")
    artifact.split_names = artifact_utils.encode_split_names(["eval"])
    split_dir = tmp_path / "anomalies" / "Split-eval"
    split_dir.mkdir(parents=True)
    (split_dir / "SchemaDiff.pb").write_bytes(anomalies.SerializeToString())
    return artifact


GOOD = pd.DataFrame({"pixels": [1.0, 2.0, 3.0] * 10, "colour": ["red", "blue", "red"] * 10})


def test_anomalies_stop_the_run_with_each_feature_named(tmp_path):
    drifted = pd.DataFrame({"pixels": ["dark", "light", "dark"] * 10,
                            "colour": ["red", "green", "red"] * 10})
    artifact = _anomalies_artifact(tmp_path, GOOD, drifted)
    with pytest.raises(AnomaliesFoundError) as raised:
        AnomaliesGateExecutor().Do({"anomalies": [artifact]}, {}, {})
    message = str(raised.value)
    assert "stops before training" in message
    assert "split 'eval', feature 'pixels'" in message
    assert "split 'eval', feature 'colour'" in message and "green" in message


def test_clean_data_passes(tmp_path):
    artifact = _anomalies_artifact(tmp_path, GOOD, GOOD.copy())
    AnomaliesGateExecutor().Do({"anomalies": [artifact]}, {}, {})  # does not raise


@pytest.mark.parametrize("saved_model, tflite, expected", [
    (1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 0)])
def test_blessed_only_when_every_evaluator_blessed(tmp_path, saved_model, tflite, expected):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    model.id = 42
    inputs = {"model": [model]}
    for key, verdict in (("saved_model_blessing", saved_model), ("tflite_blessing", tflite)):
        blessing = standard_artifacts.ModelBlessing()
        blessing.set_int_custom_property("blessed", verdict)
        inputs[key] = [blessing]
    output = standard_artifacts.ModelBlessing()
    output.uri = str(tmp_path / "blessing")
    (tmp_path / "blessing").mkdir()

    BlessingGateExecutor().Do(inputs, {"blessing": [output]}, {})

    assert output.get_int_custom_property("blessed") == expected
    assert output.get_int_custom_property("current_model_id") == 42
    assert output.get_string_custom_property("current_model") == model.uri
    assert (tmp_path / "blessing" / ("BLESSED" if expected else "NOT_BLESSED")).exists()

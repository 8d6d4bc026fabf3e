"""The BlessingGate executor, on artifacts as TFX hands them over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tfx.types import standard_artifacts

from components.blessing_gate.executor import VARIANTS_BLESSING_KEY, choose_variant
from components.blessing_gate.executor import Executor as BlessingGateExecutor
from components.common import model_layout

GATE = {"metrics": json.dumps([{"name": "SparseCategoricalAccuracy", "lower_bound": 0.85}])}


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

    BlessingGateExecutor().Do(inputs, {"blessing": [output]}, GATE)

    assert output.get_int_custom_property("blessed") == expected
    assert output.get_int_custom_property("current_model_id") == 42
    assert output.get_string_custom_property("current_model") == model.uri
    assert (tmp_path / "blessing" / ("BLESSED" if expected else "NOT_BLESSED")).exists()


def test_choose_variant_takes_the_smallest_eligible_one():
    sizes = {"float32": 22000, "dynamic": 9800, "float16": 13100, "int8": 9100}
    every = {v: True for v in sizes}
    assert choose_variant(sizes, every) == "int8"
    # A refused variant is never published, however small; float32 is always a candidate.
    assert choose_variant(sizes, {**every, "int8": False}) == "dynamic"
    assert choose_variant(sizes, {"float32": False, "dynamic": False}) == "float32"
    # Equal sizes: the less aggressive conversion wins.
    assert choose_variant({"float32": 10, "dynamic": 5, "float16": 5}, every) == "dynamic"


def _blessing(verdict: int):
    blessing = standard_artifacts.ModelBlessing()
    blessing.set_int_custom_property("blessed", verdict)
    return blessing


def _variants_blessing(verdicts: dict):
    blessing = _blessing(int(all(verdicts.values())))
    blessing.set_string_custom_property("variant_verdicts", json.dumps(verdicts))
    return blessing


def test_gate_records_the_mobile_variant_from_the_variants_evaluator(tmp_path):
    """Sizes come from the Model artifact's variant files, eligibility from the variants
    Evaluator's verdict per variant."""
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    model.id = 7
    for variant, size in (("float32", 400), ("dynamic", 150), ("float16", 220), ("int8", 100)):
        path = Path(model_layout.variant_file(model.uri, variant))
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x" * size)
    inputs = {"model": [model], "saved_model_blessing": [_blessing(1)],
              "tflite_blessing": [_blessing(1)],
              VARIANTS_BLESSING_KEY: [_variants_blessing(
                  {"dynamic": True, "float16": True, "int8": False})]}  # int8: outside the budget
    output = standard_artifacts.ModelBlessing()
    output.uri = str(tmp_path / "blessing")
    BlessingGateExecutor().Do(inputs, {"blessing": [output]}, GATE)
    assert output.get_string_custom_property("mobile_variant") == "dynamic"
    assert (output.get_string_custom_property("tflite_eligible_variants")
            == "float32,dynamic,float16")
    assert output.get_string_custom_property("tflite_refused_variants") == "int8"
    variants = json.loads(output.get_string_custom_property("tflite_variants"))
    assert {v: info["size_bytes"] for v, info in variants.items()} == {
        "float32": 400, "dynamic": 150, "float16": 220, "int8": 100}
    assert {v: info["eligible"] for v, info in variants.items()} == {
        "float32": True, "dynamic": True, "float16": True, "int8": False}
    assert output.get_int_custom_property("blessed") == 1  # a refused variant is not a refusal


@pytest.mark.parametrize("saved_model", [1, 0])
def test_a_model_without_tflite_is_gated_on_the_saved_model_alone(tmp_path, saved_model):
    """A stock TFX module's model has no TFLite form: its TFLite Evaluator skipped with a reason,
    which is not a refusal; the gate records the reason and picks no variant for phones."""
    model = standard_artifacts.Model()
    model.uri, model.id = str(tmp_path / "model"), 3
    skipped = _blessing(0)
    skipped.set_string_custom_property("skipped_reason", "the SavedModel has no 'serving_raw'")
    inputs = {"model": [model], "saved_model_blessing": [_blessing(saved_model)],
              "tflite_blessing": [skipped]}
    output = standard_artifacts.ModelBlessing()
    output.uri = str(tmp_path / "blessing")
    BlessingGateExecutor().Do(inputs, {"blessing": [output]}, GATE)
    assert output.get_int_custom_property("blessed") == saved_model
    assert "serving_raw" in output.get_string_custom_property("tflite_skipped_reason")
    assert not output.has_custom_property("mobile_variant")

"""The gate refuses a TFLite variant that loses accuracy and publishes the smallest one left.

The model here (tests/fixtures/outlier) is accurate in float but has one activation ~1000x larger
than the rest, which full-integer quantization cannot represent next to the others: a real failure
mode of int8 (activation outliers), made certain rather than left to chance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops import metadata
from mlops.report import summarize
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e

OUTLIER_MODULE = Path(__file__).parent / "fixtures/outlier/outlier_trainer.py"
BUDGET = 0.005  # the default, 0.5 accuracy points


def test_gate_refuses_a_variant_outside_the_budget_and_publishes_the_smallest_eligible(tmp_path):
    from components.trainer.tflite_variants import weight_types

    home = tmp_path / "home"
    result = run_cli("run", "--home", str(home), "--module-file", str(OUTLIER_MODULE),
                     "--train-steps", "300")
    assert result.returncode == 0, result.stdout + result.stderr

    summary = summarize(metadata.sqlite_store(str(home / "metadata/metadata.sqlite")),
                        "digits-pipeline")
    variants = summary.tflite_variants
    reference = variants["float32"]["value"]
    assert reference >= 0.85  # the float model is good...
    assert not variants["int8"]["eligible"]  # ...its int8 variant is not, and is refused
    assert variants["int8"]["value"] < reference - BUDGET
    assert variants["int8"]["size_bytes"] < min(
        info["size_bytes"] for v, info in variants.items() if v != "int8")  # though smallest
    eligible = {v: info for v, info in variants.items() if info["eligible"]}
    assert all(info["value"] >= reference - BUDGET for info in eligible.values())
    chosen = min(eligible, key=lambda v: eligible[v]["size_bytes"])
    assert summary.mobile_variant == chosen != "int8"
    assert "int8" in result.stdout and "refused" in result.stdout

    (version,) = [p for p in (home / "publish/mobile/digits").iterdir() if p.name.isdigit()]
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["variant"] == chosen
    assert manifest["variants"]["int8"]["eligible"] is False
    published = (version / "model.tflite").read_bytes()
    model_uri = next((home / "pipelines/digits-pipeline/Trainer/model").iterdir())
    chosen_file = model_uri / "Format-TFLite" / chosen / "tflite"
    assert weight_types(published) == weight_types(chosen_file.read_bytes())

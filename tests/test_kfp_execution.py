"""The compiled Kubeflow pipeline, executed task by task the way KFP's driver and launcher would
(tests/kfp_harness.py): it must reach a blessed, pushed model without a cluster.

With MLOPS_HARNESS_IMAGE set (`make test-image`), every task runs in that pipeline image through
podman or docker, as on a cluster; otherwise in this interpreter."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from mlops import data
from tests.conftest import E2E_TRAIN_STEPS, run_cli
from tests.kfp_harness import Harness

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    base = tmp_path_factory.mktemp("kfp-exec")
    data_root = base / "data"
    data.ingest(str(data_root), None)  # span 1
    data.ingest(str(data_root), None)  # span 2: the run must pick this one without TFX's driver
    result = run_cli("compile", "--home", str(base / "home"), "--data", str(data_root),
                     "--pipeline-root", str(base / "root"), "--allow-local-root",
                     "--train-steps", E2E_TRAIN_STEPS, "--output-dir", str(base / "spec"))
    assert result.returncode == 0, result.stderr
    harness = Harness(str(base / "spec" / "digits-pipeline.yaml"), str(base / "root"),
                      **_in_image(base))
    return base, harness.run()


def _in_image(base) -> dict:
    """The task command's `python`, inside the pipeline image, with `base` at the same path."""
    image = os.environ.get("MLOPS_HARNESS_IMAGE")
    if not image:
        return {}
    engine = shutil.which("podman") or shutil.which("docker")
    wrapper = base / "python-in-image"
    wrapper.write_text(f'#!/bin/sh\nexec {engine} run --rm -v {base}:{base} {image} python "$@"\n')
    wrapper.chmod(0o755)
    return {"python": str(wrapper), "env": {}}


def _metadata(results, task, key):
    (artifact,) = results[task].outputs[key]
    return artifact["metadata"]


def test_every_task_ran_and_the_model_was_blessed_and_pushed(executed):
    base, results = executed
    assert {"ImportExampleGen", "Trainer", "Evaluator", "EvaluatorTFLite", "BlessingGate",
            "Pusher"} <= set(results)
    assert _metadata(results, "BlessingGate", "blessing")["blessed"] == 1
    pushed = _metadata(results, "Pusher", "pushed_model")
    assert pushed["pushed"] == 1 and pushed["pushed_version"] == "1"
    destinations = json.loads(pushed["pushed_destinations"])
    serving = base / "home/publish/serving/digits/1"
    assert destinations["TF Serving"] == str(serving)
    assert (serving / "saved_model.pb").exists() and (serving / "tflite").exists()
    assert (base / "home/publish/mobile/digits/latest.json").exists()


def test_example_gen_took_the_newest_span_without_the_lifecycle_driver(executed):
    _, results = executed
    examples = _metadata(results, "ImportExampleGen", "examples")
    assert examples["span"] == 2
    assert "num_files:1" in examples["input_fingerprint"]


def test_first_run_had_no_baseline_so_value_thresholds_alone_gated_it(executed):
    _, results = executed
    assert results["LatestBlessedModelResolver-model-resolver"].outputs["model"] == []
    gate = _metadata(results, "BlessingGate", "blessing")
    assert gate["saved_model_accuracy"] >= 0.85 and "saved_model_baseline_accuracy" not in gate


def test_tflite_variants_are_judged_and_recorded_in_kfp_metadata(executed):
    """What the Kubeflow UI shows: the Trainer's op assessment on its Model, one Evaluator per
    quantized variant, and the variant the gate chose for the mobile bucket."""
    base, results = executed
    model = _metadata(results, "Trainer", "model")
    assert model["tflite_op_decision"] == "builtins only"
    assert set(json.loads(model["tflite_variant_sizes"])) == {
        "float32", "dynamic", "float16", "int8"}
    for variant in ("dynamic", "float16", "int8"):
        assert f"EvaluatorTFLite_{variant}" in results
    gate = _metadata(results, "BlessingGate", "blessing")
    manifest = json.loads((base / "home/publish/mobile/digits/1/manifest.json").read_text())
    assert gate["mobile_variant"] == manifest["variant"]

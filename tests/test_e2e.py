"""The whole chain on the digits data: trained, gated by both evaluators, pushed, traceable."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components.common import model_layout
from components.common.names import (
    EXAMPLES_AVAILABLE,
    EXAMPLES_EVALUATED,
    TFLITE_VARIANTS,
    VARIANTS_EVALUATOR_ID,
)
from mlops import metadata
from mlops.report import summarize
from tests.conftest import E2E_TRAIN_STEPS, read_examples, run_cli

pytestmark = pytest.mark.e2e

CHAIN = ["ImportExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "DataGate",
         "Transform", "Trainer", "ProductionBaseline", "Evaluator", "EvaluatorTFLite",
         VARIANTS_EVALUATOR_ID,
         "BlessingGate", "Pusher"]
DEFAULT_BUDGET = 0.005  # mlops/defaults.yaml tflite_accuracy_budget, 0.5 points


def _store(path: str):
    return metadata.sqlite_store(path)


def _eval_split(digits_run) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    store = _store(digits_run.metadata_path)
    run = metadata.latest_run(store, "digits-pipeline")
    (example_gen,) = [e for e in metadata.run_executions(store, run, "digits-pipeline")
                      if e.node_id == "ImportExampleGen"]
    serialized = read_examples(example_gen.outputs["examples"][0].uri + "/Split-eval/*")
    images, labels = [], []
    for raw in serialized:
        features = tf.train.Example.FromString(raw).features.feature
        images.append(features["image_floats"].float_list.value)
        labels.append(features["image_class"].int64_list.value[0])
    return serialized, np.array(images, np.float32), np.array(labels)


def test_every_component_ran_once_and_both_evaluators_blessed(digits_run):
    store = _store(digits_run.metadata_path)
    summary = summarize(store, "digits-pipeline")
    nodes = [e.node_id for e in summary.executions]
    assert sorted(nodes) == sorted(CHAIN)  # one execution per component, none missing
    assert all(e.state == "COMPLETE" for e in summary.executions)
    assert {e.model_format: e.blessed for e in summary.evaluations} == {
        "SavedModel": True, "TFLite": True}
    # The default gate metric for a multiclass model, recorded for both formats.
    assert all(e.primary == "sparse_categorical_accuracy" and e.value >= 0.85
               for e in summary.evaluations)
    assert summary.pushed
    # Progress and the summary reach the user.
    assert "Trainer ... done in" in digits_run.result.stdout
    assert "TFLite: sparse_categorical_accuracy" in digits_run.result.stdout
    # The next run's progress lines estimate the time left from these.
    durations = metadata.last_durations(store, "digits-pipeline")
    assert set(durations) == set(CHAIN) and durations["Trainer"] > 1.0


def test_tflite_evaluators_score_the_sample_and_the_saved_model_every_example(digits_run):
    """The TFLite Evaluators score at most tflite_eval_examples (20,000 by default) examples; the
    demo's eval split is smaller, so they score all of it, as the SavedModel Evaluator does, and
    TFMA counts the same examples for each."""
    import tensorflow_model_analysis as tfma

    eval_examples = len(_eval_split(digits_run)[0])

    def example_count(node, model_name=None):
        (evaluation,) = digits_run.outputs(node, "evaluation")
        result = tfma.load_eval_result(evaluation.uri, model_name=model_name)
        return dict(result.slicing_metrics)[()][""][""]["example_count"]["doubleValue"]

    assert example_count("Evaluator") == eval_examples
    (saved_model,) = digits_run.outputs("Evaluator", "evaluation")
    assert metadata.property_value(saved_model, EXAMPLES_EVALUATED) is None  # never sampled
    assert example_count("EvaluatorTFLite") == eval_examples
    for variant in TFLITE_VARIANTS:  # the quantized ones and their baseline, float32
        assert example_count(VARIANTS_EVALUATOR_ID, variant) == eval_examples, variant
    for node in ("EvaluatorTFLite", VARIANTS_EVALUATOR_ID):
        (evaluation,) = digits_run.outputs(node, "evaluation")
        assert metadata.property_value(evaluation, EXAMPLES_AVAILABLE) == eval_examples
        assert metadata.property_value(evaluation, EXAMPLES_EVALUATED) == eval_examples


def test_a_run_leaves_no_temporary_files(digits_run):
    """TFX builds and installs the module's wheels and AutoGraph writes generated code in the
    temporary directory, and neither removes them; a run does it in its own, then removes it."""
    assert list(digits_run.system_tmp.iterdir()) == []
    assert list((digits_run.home / "tmp").iterdir()) == []


def test_pushed_saved_model_serves_serialized_examples(digits_run):
    (version,) = digits_run.serving_versions
    assert version.name.isdigit()  # TF Serving's layout: integer version directories
    assert (version / "saved_model.pb").exists() and (version / "variables").is_dir()
    serialized, _, labels = _eval_split(digits_run)
    model = tf.saved_model.load(str(version))
    outputs = model.signatures["serving_default"](examples=tf.constant(serialized))
    accuracy = np.mean(outputs["classes"].numpy() == labels)
    assert accuracy >= 0.85, accuracy
    # The raw-tensor signature gives the same answer without tf.Example parsing.
    _, images, _ = _eval_split(digits_run)
    raw = model.signatures["serving_raw"](image_floats=tf.constant(images))
    np.testing.assert_allclose(raw["probabilities"], outputs["probabilities"], atol=1e-5)


def test_pushed_tflite_runs_in_interpreter_with_accuracy(digits_run):
    (version,) = digits_run.serving_versions
    _, images, labels = _eval_split(digits_run)
    interpreter = tf.lite.Interpreter(model_path=str(version / "tflite"))
    runner = interpreter.get_signature_runner("serving_default")
    probabilities = runner(image_floats=images)["probabilities"]
    assert probabilities.shape == (len(labels), 10)
    accuracy = np.mean(probabilities.argmax(axis=1) == labels)
    assert accuracy >= 0.85, accuracy


def test_unreachable_threshold_blocks_the_push(refused_run):
    """Same data and code, accuracy bound 0.999: cached up to the Trainer, evaluated, not pushed."""
    home = refused_run.home
    assert "Not pushed" in refused_run.result.stdout
    after = sorted(p.name for p in (home / "publish/serving/digits").iterdir())
    assert after == refused_run.served_before  # the earlier version is still the only one served
    summary = summarize(_store(str(home / "metadata/metadata.sqlite")), "digits-pipeline")
    states = {e.node_id: e.state for e in summary.executions}
    assert states["Trainer"] == "CACHED"  # nothing upstream of the gate was redone
    assert states["Evaluator"] == "COMPLETE"
    assert not any(e.blessed for e in summary.evaluations)
    assert not summary.pushed


def test_one_push_reached_every_destination(digits_run):
    import hashlib
    import json

    import tensorflow_hub as hub

    publish = digits_run.home / "publish"
    (serving,) = digits_run.serving_versions
    hub_version = publish / "hub/mlops/digits" / serving.name
    mobile_version = publish / "mobile/digits" / serving.name
    _, images, labels = _eval_split(digits_run)

    # TF Hub: the reusable module answers like the SavedModel.
    expected = tf.saved_model.load(str(serving)).signatures["serving_raw"](
        image_floats=tf.constant(images))["probabilities"]
    np.testing.assert_allclose(hub.load(str(hub_version))(images), expected, atol=1e-5)
    assert (publish / f"hub/mlops/digits/{serving.name}.tar.gz").exists()

    # Mobile bucket: latest.json names the version; the file matches its manifest and runs.
    latest = json.loads((publish / "mobile/digits/latest.json").read_text())
    manifest = json.loads((mobile_version / "manifest.json").read_text())
    model_bytes = (mobile_version / "model.tflite").read_bytes()
    assert latest["version"] == manifest["version"] == int(serving.name)
    assert hashlib.sha256(model_bytes).hexdigest() == manifest["sha256"]
    assert len(model_bytes) == manifest["size_bytes"]
    assert manifest["metrics"]["sparse_categorical_accuracy"] >= 0.85
    runner = tf.lite.Interpreter(model_content=model_bytes).get_signature_runner()
    accuracy = np.mean(runner(image_floats=images)["probabilities"].argmax(axis=1) == labels)
    assert accuracy >= 0.85


def test_runs_lists_the_run_with_its_verdict(digits_run):
    import json

    result = run_cli("runs", "--home", str(digits_run.home), "--format", "json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    (version,) = digits_run.serving_versions
    assert row["status"] == "COMPLETE" and row["executions"] == len(CHAIN)
    assert row["blessed"] is True and row["pushed_version"] == version.name


def test_lineage_on_sqlite_traces_the_pushed_model_to_span_1(digits_run):
    import json

    result = run_cli("lineage", "--home", str(digits_run.home), "--format", "json")
    assert result.returncode == 0, result.stderr
    trace = json.loads(result.stdout)
    (version,) = digits_run.serving_versions
    assert trace["target"]["pushed_version"] == version.name
    steps = {s["node_id"]: s["details"] for s in trace["steps"]}
    assert steps["ImportExampleGen"]["span"] == 1
    assert steps["Trainer"]["train_steps"] == int(E2E_TRAIN_STEPS)
    assert steps["Trainer"]["model"] == digits_run.outputs("Trainer", "model")[0].uri
    summary = summarize(_store(digits_run.metadata_path), "digits-pipeline")
    recorded = {e.model_format: e.metrics for e in summary.evaluations}
    metric = "sparse_categorical_accuracy"
    assert steps["Evaluator"]["metrics"][metric] == pytest.approx(recorded["SavedModel"][metric])
    assert steps["EvaluatorTFLite"]["metrics"][metric] == pytest.approx(recorded["TFLite"][metric])
    assert steps["Evaluator"]["baseline_metrics"] is None  # first run: no baseline
    eval_examples = len(_eval_split(digits_run)[0])  # fewer than tflite_eval_examples: all scored
    assert steps["EvaluatorTFLite"]["examples_scored"] == f"{eval_examples:,} of {eval_examples:,}"
    assert "examples_scored" not in steps["Evaluator"]
    assert steps["Pusher"]["destinations"]["TF Serving"] == str(version)


def _smallest_eligible(variants: dict) -> str:
    return min((v for v, info in variants.items() if info["eligible"]),
               key=lambda v: variants[v]["size_bytes"])


def test_mobile_bucket_gets_the_smallest_eligible_variant_with_metadata(digits_run):
    import json

    from ai_edge_litert.interpreter import Interpreter as LiteRtInterpreter

    from components.pusher import tflite_metadata
    from components.trainer.tflite_variants import weight_types

    mobile_version = digits_run.home / "publish/mobile/digits" / digits_run.serving_versions[0].name
    manifest = json.loads((mobile_version / "manifest.json").read_text())
    variants = manifest["variants"]
    model_uri = digits_run.outputs("Trainer", "model")[0].uri

    # Every variant was produced in the one Trainer run and evaluated; eligibility is the budget.
    assert set(variants) == set(TFLITE_VARIANTS)
    reference = variants["float32"]["value"]
    for variant, info in variants.items():
        with open(model_layout.variant_file(model_uri, variant), "rb") as handle:
            assert len(handle.read()) == info["size_bytes"]
        assert info["metric"] == "sparse_categorical_accuracy"
        assert info["eligible"] == (info["value"] >= reference - DEFAULT_BUDGET - 1e-6), variant
    assert manifest["variant"] == _smallest_eligible(variants)
    assert manifest["ops"]["decision"] == "builtins only"
    # The accuracy phones see in the manifest is the published variant's own.
    assert manifest["metrics"]["sparse_categorical_accuracy"] == pytest.approx(
        variants[manifest["variant"]]["value"])
    assert manifest["task"] == "multiclass"

    # The published file is the chosen variant (same stored weights) with TFLite metadata.
    published = (mobile_version / "model.tflite").read_bytes()
    with open(model_layout.variant_file(model_uri, manifest["variant"]), "rb") as handle:
        assert weight_types(published) == weight_types(handle.read())
    embedded = tflite_metadata.read_metadata(published)
    assert embedded["name"] == "digits" and embedded["version"] == str(manifest["version"])
    assert tflite_metadata.read_labels(published) == [str(i) for i in range(10)]
    (image_input,) = embedded["subgraph_metadata"][0]["input_tensor_metadata"]
    assert image_input["name"] == "image_floats"
    assert image_input["stats"] == {"min": [0.0], "max": [16.0]}  # raw pixel range in training
    assert image_input["process_units"][0]["options"] == {"mean": [0.0], "std": [1.0]}

    # It runs in TensorFlow's interpreter and in the standalone LiteRT runtime, same answers.
    _, images, labels = _eval_split(digits_run)
    tf_runner = tf.lite.Interpreter(model_content=published).get_signature_runner()
    litert_runner = LiteRtInterpreter(model_content=published).get_signature_runner()
    tf_probabilities = tf_runner(image_floats=images)["probabilities"]
    litert_probabilities = litert_runner(image_floats=images)["probabilities"]
    # Different kernels (XNNPACK in LiteRT) may round an int8 output one or two steps apart.
    np.testing.assert_allclose(litert_probabilities, tf_probabilities, atol=0.05)
    assert np.mean(litert_probabilities.argmax(axis=1) == tf_probabilities.argmax(axis=1)) >= 0.98
    assert np.mean(tf_probabilities.argmax(axis=1) == labels) >= 0.85

    # The on-device trainable model travels with it.
    assert manifest["on_device_training"]["signatures"] == ["infer", "restore", "save", "train"]
    assert (mobile_version / "trainable.tflite").stat().st_size == (
        manifest["on_device_training"]["size_bytes"])


def test_lineage_shows_the_op_assessment_and_the_variant_choice(digits_run):
    import json

    result = run_cli("lineage", "--home", str(digits_run.home), "--format", "json")
    assert result.returncode == 0, result.stderr
    steps = {s["node_id"]: s["details"] for s in json.loads(result.stdout)["steps"]}
    trainer = steps["Trainer"]
    assert trainer["tflite_op_decision"] == "builtins only"
    assert "FULLY_CONNECTED" in trainer["tflite_builtin_ops"].split(",")
    assert set(trainer["tflite_variant_sizes"]) == set(TFLITE_VARIANTS)
    manifest = json.loads(next((digits_run.home / "publish/mobile/digits").glob(
        "*/manifest.json")).read_text())
    assert steps["BlessingGate"]["mobile_variant"] == manifest["variant"]
    for variant in TFLITE_VARIANTS[1:]:
        step = steps[VARIANTS_EVALUATOR_ID]["variants"][variant]
        assert step["eligible"] == manifest["variants"][variant]["eligible"]
        assert step["sparse_categorical_accuracy"] == pytest.approx(
            manifest["variants"][variant]["value"])
        assert step["size_bytes"] == manifest["variants"][variant]["size_bytes"]

"""TFLite variants: each converts and runs, int8 really stores int8 weights, and an op outside the
builtin set is named before anything ships."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components.trainer import tflite_variants as tflite


class Classifier(tf.Module):
    """A small dense classifier on 64 raw features, like the digits model."""

    def __init__(self, exotic_op: str = ""):
        super().__init__()
        rng = np.random.default_rng(0)
        self.w1 = tf.Variable(rng.normal(0, 0.3, (64, 32)).astype(np.float32))
        self.b1 = tf.Variable(np.zeros(32, np.float32))
        self.w2 = tf.Variable(rng.normal(0, 0.3, (32, 10)).astype(np.float32))
        self.exotic_op = exotic_op

    @tf.function(input_signature=[tf.TensorSpec([None, 64], tf.float32, name="image_floats")])
    def serve(self, image_floats):
        hidden = tf.nn.relu(tf.matmul(image_floats / 16.0, self.w1) + self.b1)
        if self.exotic_op == "flex":  # Cumprod: no TFLite builtin, but a Flex (TF) kernel
            hidden = tf.math.cumprod(hidden, axis=1)
        elif self.exotic_op == "none":  # Igamma: no kernel in TFLite or in its Flex delegate
            hidden = tf.math.igamma(tf.ones_like(hidden), tf.abs(hidden) + 1.0)
        return {"probabilities": tf.nn.softmax(tf.matmul(hidden, self.w2))}


def _saved_model(tmp_path, exotic_op="") -> str:
    module = Classifier(exotic_op)
    path = str(tmp_path / (exotic_op or "model"))
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
    return path


@pytest.fixture(scope="module")
def features():
    from sklearn.datasets import load_digits

    return {"image_floats": load_digits().data.astype(np.float32)}


@pytest.fixture(scope="module")
def variants(tmp_path_factory, features):
    path = _saved_model(tmp_path_factory.mktemp("tflite"))
    representative = tflite.representative_dataset(features, count=200, seed=0)
    built = {v: tflite.convert(path, v, representative) for v in tflite.VARIANTS}
    built["int8_io"] = tflite.convert(path, "int8", representative, int8_io=True)
    return path, built


def _run(model: bytes, images: np.ndarray) -> np.ndarray:
    runner = tf.lite.Interpreter(model_content=model).get_signature_runner("serving_default")
    details = runner.get_input_details()["image_floats"]
    if details["dtype"] == np.int8:
        scale, zero = details["quantization"]
        images = np.clip(np.round(images / scale + zero), -128, 127).astype(np.int8)
    out = runner(image_floats=images)["probabilities"]
    if out.dtype == np.int8:
        scale, zero = runner.get_output_details()["probabilities"]["quantization"]
        out = (out.astype(np.float32) - zero) * scale
    return out


def test_every_variant_converts_runs_and_agrees_with_float32(variants, features):
    _, built = variants
    images = features["image_floats"][:200]
    reference = _run(built["float32"], images).argmax(axis=1)
    for name, model in built.items():
        predictions = _run(model, images).argmax(axis=1)
        assert np.mean(predictions == reference) >= 0.9, name


def test_quantized_variants_are_smaller_and_int8_stores_int8_weights(variants):
    _, built = variants
    sizes = {name: len(model) for name, model in built.items()}
    assert sizes["dynamic"] < sizes["float16"] < sizes["float32"]
    # On a model this small the flatbuffer's own overhead dominates; the 0.27x target is for the
    # real model, measured by `make bench-tflite`.
    assert sizes["int8"] < sizes["float16"]
    int8 = tflite.weight_types(built["int8"])
    assert int8.get("int8", 0) >= 2 and "float32" not in int8  # no float weights left
    assert "float32" in tflite.weight_types(built["float32"])
    assert "float16" in tflite.weight_types(built["float16"])
    runner = tf.lite.Interpreter(model_content=built["int8_io"]).get_signature_runner()
    assert runner.get_input_details()["image_floats"]["dtype"] == np.int8


def test_op_assessment_lists_builtins_and_names_an_op_outside_them(variants, tmp_path):
    path, _ = variants
    assessment = tflite.assess_ops(path)
    assert "FULLY_CONNECTED" in assessment.builtin_ops and assessment.select_tf_ops == ()
    assert assessment.decision == "builtins only"

    flex = _saved_model(tmp_path, exotic_op="flex")
    with pytest.raises(tflite.UnsupportedOpsError, match="builtin set: Cumprod"):
        tflite.assess_ops(flex)
    allowed = tflite.assess_ops(flex, allow_select_tf_ops=True)
    assert allowed.select_tf_ops == ("Cumprod",)
    assert allowed.decision == "SELECT_TF_OPS allowed for: Cumprod"
    # With allow_select_tf_ops the Flex variant converts and runs in tf.lite.Interpreter.
    assert _run(tflite.convert(flex, "float32", allow_select_tf_ops=True),
                np.ones((2, 64), np.float32)).shape == (2, 10)

    nowhere = _saved_model(tmp_path, exotic_op="none")
    with pytest.raises(tflite.UnsupportedOpsError, match="builtin or Flex: Igamma"):
        tflite.assess_ops(nowhere, allow_select_tf_ops=True)


def test_int8_without_calibration_data_is_refused(variants):
    path, _ = variants
    with pytest.raises(ValueError, match="representative dataset"):
        tflite.convert(path, "int8")
    with pytest.raises(ValueError, match="unknown TFLite variant"):
        tflite.convert(path, "int4")


def test_the_trainer_export_writes_nothing_when_an_op_is_not_allowed(tmp_path):
    """What the Trainer executor runs after run_fn: assessment first, so a refused model leaves
    no variant behind; allowed, the report records which ops need the Flex delegate."""
    flex = _saved_model(tmp_path, exotic_op="flex")
    written: dict[str, bytes] = {}
    options = tflite.MobileOptions(variants=("float32", "dynamic"))
    with pytest.raises(tflite.UnsupportedOpsError, match="Cumprod"):
        tflite.export_variants(flex, "serving_default", None, options, written.__setitem__)
    assert written == {}

    allowed = tflite.MobileOptions(variants=("float32", "dynamic"), allow_select_tf_ops=True)
    report = tflite.export_variants(flex, "serving_default", None, allowed, written.__setitem__)
    assert set(written) == {"float32", "dynamic"}
    assert report["assessment"]["select_tf_ops"] == ["Cumprod"]
    assert report["assessment"]["decision"] == "SELECT_TF_OPS allowed for: Cumprod"
    with pytest.raises(ValueError, match="int8 variant needs the raw training examples"):
        tflite.export_variants(flex, "serving_default", None,
                               tflite.MobileOptions(allow_select_tf_ops=True), written.__setitem__)
    with pytest.raises(ValueError, match="must include float32"):
        tflite.MobileOptions.from_config({"tflite_variants": ["int8"]})


def test_a_model_phones_cannot_run_is_a_skip_not_a_failed_run(tmp_path):
    """The Trainer after run_fn, on a model with an op outside the builtins (Flex not allowed):
    no TFLite model and the reason recorded (the tf_lite Evaluator, the gate and the Pusher read
    it: Serving and Hub are published, the mobile bucket skipped naming the op); allowed, the
    Flex model is there."""
    import json

    from tfx.types import standard_artifacts

    from components.common import model_layout
    from components.common.names import TFLITE_OP_DECISION, TFLITE_SKIPPED_REASON
    from components.trainer.executor import export_tflite

    def trained(name: str):
        module = Classifier("flex")
        model = standard_artifacts.Model()
        model.uri = str(tmp_path / name)
        tf.saved_model.save(module, model_layout.serving_dir(model.uri),
                            signatures={"serving_default": module.serve,
                                        "serving_raw": module.serve})
        return model

    refused = trained("refused")
    export_tflite(refused, {}, {"tflite_variants": ["float32", "dynamic"]})
    reason = refused.get_string_custom_property(TFLITE_SKIPPED_REASON)
    assert reason.startswith("ops outside the TFLite builtin set: Cumprod")
    report = json.loads(open(model_layout.report_file(refused.uri)).read())
    assert report == {"skipped": reason}
    assert not tf.io.gfile.exists(model_layout.serving_tflite_file(refused.uri))

    allowed = trained("allowed")
    export_tflite(allowed, {}, {"tflite_variants": ["float32"], "allow_select_tf_ops": True})
    assert allowed.get_string_custom_property(TFLITE_OP_DECISION) == \
        "SELECT_TF_OPS allowed for: Cumprod"
    assert tf.io.gfile.exists(model_layout.serving_tflite_file(allowed.uri))

"""The platform's Trainer executor: TFX's GenericExecutor (the user module's run_fn trains and
exports the SavedModel), then every TFLite variant converted from that SavedModel in the same run.

The op assessment and the variants' sizes are recorded as custom properties of the Model artifact,
so ML Metadata (`mlops lineage`, the Kubeflow UI) shows which ops the model needs and what was
decided, next to the model itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List

import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.trainer import executor as tfx_trainer_executor
from tfx.types import artifact_utils, standard_component_specs

from components.common import autograph, model_layout, tasks, transformed_label
from components.common.names import (
    CUSTOM_CONFIG,
    TFLITE_BUILTIN_OPS,
    TFLITE_ON_DEVICE_TRAINING,
    TFLITE_OP_DECISION,
    TFLITE_SELECT_TF_OPS,
    TFLITE_SKIPPED_REASON,
    TFLITE_VARIANT_SIZES,
)
from components.trainer import export, raw_signature, tflite_variants

RAW_EXAMPLES_KEY = "raw_examples"
TRANSFORM_GRAPH_KEY = standard_component_specs.TRANSFORM_GRAPH_KEY


def _write(path: str, content: bytes) -> None:
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(content)


def _read(path: str) -> str:
    if not tf.io.gfile.exists(path):
        return ""
    with tf.io.gfile.GFile(path, "r") as handle:
        return handle.read()


def record_report(model: types.Artifact, report: dict) -> None:
    assessment = report["assessment"]
    model.set_string_custom_property(TFLITE_BUILTIN_OPS, ",".join(assessment["builtin_ops"]))
    model.set_string_custom_property(TFLITE_SELECT_TF_OPS, ",".join(assessment["select_tf_ops"]))
    model.set_string_custom_property(TFLITE_OP_DECISION, assessment["decision"])
    model.set_string_custom_property(TFLITE_VARIANT_SIZES, json.dumps(
        {name: info["size_bytes"] for name, info in report["variants"].items()}))
    model.set_int_custom_property(TFLITE_ON_DEVICE_TRAINING, int(report["on_device_training"]))


def skip_tflite(model: types.Artifact, reason: str) -> None:
    """No TFLite model for this Model, and why: the tf_lite Evaluator then evaluates nothing, the
    gate judges the SavedModel alone and the Pusher skips the mobile bucket naming the reason."""
    logging.warning("No TFLite models: %s", reason)
    model.set_string_custom_property(TFLITE_SKIPPED_REASON, reason)
    _write(model_layout.report_file(model.uri), json.dumps({"skipped": reason}).encode())


class Executor(tfx_trainer_executor.GenericExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        autograph.skip_graph_ready_libraries()
        super().Do(input_dict, output_dict, exec_properties)
        model = artifact_utils.get_single_instance(output_dict["model"])
        config = json.loads(exec_properties.get(CUSTOM_CONFIG) or "null") or {}
        if config.get("label_from"):
            # The label is a Transform output: keep its Transform for every Evaluator.
            transformed_label.write(artifact_utils.get_single_uri(input_dict[TRANSFORM_GRAPH_KEY]),
                                    config["label_key"], model_layout.label_dir(model.uri))
        export_tflite(model, input_dict, config)


def export_tflite(model: types.Artifact, input_dict: Dict[str, List[types.Artifact]],
                  config: Dict[str, Any]) -> None:
    """After run_fn: every TFLite variant of the SavedModel, or why there is none (the run goes
    on: Serving and Hub need no TFLite). A SavedModel without the raw-tensor signature (a module
    written for stock TFX) gets one derived from its serving_default first."""
    options = tflite_variants.MobileOptions.from_config(config)
    serving_dir = model_layout.serving_dir(model.uri)
    task = config.get("task", tasks.MULTICLASS)
    train_pattern = None
    if input_dict.get(RAW_EXAMPLES_KEY):
        train_pattern = os.path.join(
            artifact_utils.get_split_uri(input_dict[RAW_EXAMPLES_KEY], "train"), "*")

    def write(variant: str, content: bytes) -> None:
        _write(model_layout.variant_file(model.uri, variant), content)
        if variant == "float32":  # where the stock TFLite Evaluator reads it
            _write(model_layout.serving_tflite_file(model.uri), content)

    with tempfile.TemporaryDirectory() as derived_dir:
        source = serving_dir
        if export.RAW_SIGNATURE not in signature_names(serving_dir):
            try:
                derived = derive_raw_signature(model, input_dict, config, derived_dir)
            except (ValueError, tf.errors.OpError) as err:
                # DerivationError names why; ExportError a feature phones cannot be sent; an op
                # error what the rebuilt call failed on. None of them is the run's problem.
                message = str(err).splitlines()[0] if str(err) else type(err).__name__
                skip_tflite(model, "no raw-tensor signature could be derived from "
                            f"serving_default: {message}")
                return
            source = derived_dir
            logging.info("Raw-tensor signature: %s", derived)
        raw_inputs = json.loads(_read(model_layout.inputs_file(model.uri)) or "{}")
        try:
            report = tflite_variants.export_variants(
                source, export.RAW_SIGNATURE, train_pattern, options, write, log=logging.info,
                output=tasks.prediction_key(task),
                fill_values=model_layout.fill_values(raw_inputs))
        except tflite_variants.UnsupportedOpsError as err:
            # A phone problem is not the run's problem: Serving and Hub still get the model.
            skip_tflite(model, str(err))
            return
    report["on_device_training"] = tf.io.gfile.exists(model_layout.trainable_file(model.uri))
    if source != serving_dir:
        report["raw_signature"] = derived
    _write(model_layout.report_file(model.uri), json.dumps(report, indent=2).encode())
    record_report(model, report)


def signature_names(saved_model_dir: str) -> set[str]:
    """The SavedModel's signatures, read from saved_model.pb without restoring the model."""
    from tensorflow.python.saved_model import loader_impl

    return set(loader_impl.parse_saved_model(saved_model_dir).meta_graphs[0].signature_def)


# How many raw examples the derived raw-tensor signature must agree with serving_default on.
AGREEMENT_EXAMPLES = 500


def derive_raw_signature(model: types.Artifact, input_dict: Dict[str, List[types.Artifact]],
                         config: Dict[str, Any], out_dir: str) -> str:
    """Saves at `out_dir` the model with a raw-tensor signature rebuilt from its serving_default
    (raw_signature.derive), checked against serving_default on raw eval examples; writes the
    raw inputs' description and, if the module wrote none, the TF Hub module. Returns what was
    derived, for the report."""
    import tensorflow_transform as tft

    if not input_dict.get(TRANSFORM_GRAPH_KEY) or not input_dict.get(RAW_EXAMPLES_KEY):
        raise raw_signature.DerivationError("the Trainer has no Transform graph or raw examples")
    tft_output = tft.TFTransformOutput(
        artifact_utils.get_single_uri(input_dict[TRANSFORM_GRAPH_KEY]))
    task = config.get("task", tasks.MULTICLASS)
    serving_dir = model_layout.serving_dir(model.uri)
    module = raw_signature.derive(serving_dir, tft_output, task)
    eval_files = tf.io.gfile.glob(os.path.join(
        artifact_utils.get_split_uri(input_dict[RAW_EXAMPLES_KEY], "eval"), "*"))
    serialized = [record.numpy() for record in tf.data.TFRecordDataset(
        eval_files, compression_type="GZIP").take(AGREEMENT_EXAMPLES)]
    agreed = raw_signature.check_agreement(
        module, serialized, config.get("prediction_key") or tasks.prediction_key(task))
    export.save_with_raw_signature(module, out_dir)
    # The Hub module too, unless the user's run_fn wrote its own.
    export.write_raw_forms(module, model.uri,
                           hub=not tf.io.gfile.exists(model_layout.hub_dir(model.uri)))
    return (f"derived from serving_default ({len(module.raw_feature_spec)} raw features), "
            f"agrees with it on {agreed} eval examples")

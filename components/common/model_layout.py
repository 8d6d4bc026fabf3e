"""Where each form of a trained model lives inside the Trainer's Model artifact.

    <model uri>/Format-Serving/           SavedModel (TF Serving), plus `tflite`: the float32 model
                                          where TFX's Evaluator (model_type tf_lite) looks for it
    <model uri>/Format-Hub/               reusable SavedModel for TF Hub
    <model uri>/Format-TFLite/<variant>/tflite    every TFLite variant (float32, dynamic, ...)
    <model uri>/Format-TFLite/trainable/tflite    the on-device trainable model, when exported
    <model uri>/Format-TFLite/report.json         op assessment and variant sizes
    <model uri>/Format-Label/             a label made by preprocessing_fn: its Transform alone
                                          (serialized raw tf.Examples in, the label out)
    <model uri>/raw_inputs.json           the raw-tensor inputs: dtype, shape, fill value if
                                          optional

Each variant sits alone in a directory under the file name `tflite` because TFMA's tf_lite loader
reads exactly `<model path>/tflite`. Pure path arithmetic (and the one reading of raw_inputs.json),
no TensorFlow import.
"""

from __future__ import annotations

import os

SERVING_DIR = "Format-Serving"
HUB_DIR = "Format-Hub"
TFLITE_DIR = "Format-TFLite"
TFLITE_FILE = "tflite"
TRAINABLE = "trainable"
REPORT_FILE = "report.json"
INPUTS_FILE = "raw_inputs.json"
LABEL_DIR = "Format-Label"


def serving_dir(model_uri: str) -> str:
    return os.path.join(model_uri, SERVING_DIR)


def hub_dir(model_uri: str) -> str:
    return os.path.join(model_uri, HUB_DIR)


def serving_tflite_file(model_uri: str) -> str:
    return os.path.join(serving_dir(model_uri), TFLITE_FILE)


def variant_dir(model_uri: str, variant: str) -> str:
    return os.path.join(model_uri, TFLITE_DIR, variant)


def variant_file(model_uri: str, variant: str) -> str:
    return os.path.join(variant_dir(model_uri, variant), TFLITE_FILE)


def trainable_file(model_uri: str) -> str:
    return variant_file(model_uri, TRAINABLE)


def report_file(model_uri: str) -> str:
    return os.path.join(model_uri, TFLITE_DIR, REPORT_FILE)


def label_dir(model_uri: str) -> str:
    return os.path.join(model_uri, LABEL_DIR)


def inputs_file(model_uri: str) -> str:
    return os.path.join(model_uri, INPUTS_FILE)


# What stands for a missing value of an optional raw input, by kind: TFMA's tf_lite evaluator
# feeds these for an absent feature, so the raw-tensor signature, every TFLite model and the gate
# all take them (components/trainer/export.py: FILL_VALUES).
MISSING_NUMBER, MISSING_TEXT = -1, ""


def missing_value(is_text: bool):
    return MISSING_TEXT if is_text else MISSING_NUMBER


def fill_values(raw_inputs: dict) -> dict:
    """{feature: fill value} of the optional features in a parsed raw_inputs.json."""
    return {name: spec["fill_value"] for name, spec in raw_inputs.items() if "fill_value" in spec}

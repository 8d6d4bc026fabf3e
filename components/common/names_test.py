"""components/common/names.py: the keys mirrored from TFX are TFX's, and the module imports
nothing (readers of ML Metadata import it without TFX or TensorFlow)."""

from __future__ import annotations

import ast
from pathlib import Path

from components.common import names


def test_names_imports_nothing():
    tree = ast.parse(Path(names.__file__).read_text(), filename=names.__file__)
    imports = [node.lineno for node in ast.walk(tree)
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert not imports, f"components/common/names.py imports at lines {imports}"


def test_examples_keys_are_tfx_example_gens():
    from tfx.components.example_gen import utils
    from tfx.types import standard_artifacts

    assert names.SPAN == utils.SPAN_PROPERTY_NAME
    assert names.VERSION == utils.VERSION_PROPERTY_NAME
    assert names.INPUT_FINGERPRINT == utils.FINGERPRINT_PROPERTY_NAME
    assert {names.SPAN, names.VERSION} <= set(standard_artifacts.Examples.PROPERTIES)


def test_blessing_keys_are_tfx_evaluators():
    from tfx.components.evaluator import constants

    assert names.BLESSED == constants.ARTIFACT_PROPERTY_BLESSED_KEY
    assert names.CURRENT_MODEL == constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY
    assert names.CURRENT_MODEL_ID == constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY
    assert names.BASELINE_MODEL_ID == constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY


def test_anomalies_blessed_key_is_tfx_example_validators():
    from tfx.components.example_validator import executor

    assert names.BLESSED == executor.ARTIFACT_PROPERTY_BLESSED_KEY


def test_execution_property_keys_are_tfx_component_specs():
    from tfx.types import standard_component_specs as specs

    assert names.MODULE_PATH == specs.MODULE_PATH_KEY
    assert names.TRAIN_ARGS == specs.TRAIN_ARGS_KEY
    assert names.EVAL_ARGS == specs.EVAL_ARGS_KEY
    assert names.CUSTOM_CONFIG == specs.CUSTOM_CONFIG_KEY
    assert names.INPUT_BASE == specs.INPUT_BASE_KEY
    assert names.SCHEMA_FILE == specs.SCHEMA_FILE_KEY
    trainer = specs.TrainerSpec.PARAMETERS
    assert {names.MODULE_PATH, names.TRAIN_ARGS, names.EVAL_ARGS,
            names.CUSTOM_CONFIG} <= set(trainer)
    assert names.INPUT_BASE in specs.FileBasedExampleGenSpec.PARAMETERS
    assert names.SCHEMA_FILE in specs.ImportSchemaGenSpec.PARAMETERS


def test_gate_verdicts_are_under_the_blessing_gates_input_keys():
    from components.blessing_gate.component import BlessingGateSpec

    assert {names.SAVED_MODEL_BLESSING, names.TFLITE_BLESSING} <= set(BlessingGateSpec.INPUTS)


def test_gate_keys():
    prefixes = {prefix for _, prefix in names.GATE_EVALUATORS.values()}
    assert prefixes == {names.SAVED_MODEL_PREFIX, names.TFLITE_PREFIX}
    assert names.gate_key(names.TFLITE_PREFIX, names.METRICS_SUFFIX) == "tflite_metrics"
    assert names.gate_key(names.SAVED_MODEL_PREFIX, names.FAILURES_SUFFIX) == \
        "saved_model_failures"
    keys = {names.gate_key(p, s) for p in prefixes for s in names.GATE_SUFFIXES}
    assert len(keys) == len(prefixes) * len(names.GATE_SUFFIXES)


def test_known_metrics_are_the_metrics_tfma_resolves():
    """tasks.KNOWN_METRICS, which the configuration is checked against without importing TFMA,
    is exactly what TFMA resolves a class name to: its registry, then tf_keras.metrics."""
    import inspect

    import tf_keras
    from tensorflow_model_analysis.metrics import metric_types

    from components.common import tasks

    keras = {name for name, value in vars(tf_keras.metrics).items()
             if inspect.isclass(value) and issubclass(value, tf_keras.metrics.Metric)}
    abstract = {"Metric", "MeanMetricWrapper", "MeanTensor"}
    assert tasks.KNOWN_METRICS == set(metric_types.registered_metrics()) | keras - abstract

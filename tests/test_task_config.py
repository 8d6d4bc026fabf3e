"""Task types, gate metrics and slices from configuration, down to the TFMA config the gate runs."""

from __future__ import annotations

import json

import pytest
import tensorflow_model_analysis as tfma

from components.common import tasks
from components.evaluation import gate_config
from mlops.config import ConfigError, load_config


def test_metric_names_and_directions_follow_tfma():
    assert tasks.metric_key("SparseCategoricalAccuracy") == "sparse_categorical_accuracy"
    assert tasks.metric_key("AUC") == "auc"
    assert tasks.metric_key("MeanAbsoluteError") == "mean_absolute_error"
    assert (tasks.lower_is_better("MeanAbsoluteError")
            and tasks.lower_is_better("BinaryCrossentropy"))
    assert not tasks.lower_is_better("AUC") and not tasks.lower_is_better("BinaryAccuracy")


@pytest.mark.parametrize("task, primary", [("multiclass", "SparseCategoricalAccuracy"),
                                           ("binary", "BinaryAccuracy"),
                                           ("regression", "MeanAbsoluteError")])
def test_each_task_has_default_gate_metrics(task, primary):
    config = load_config(overrides={"task": task}, environ={})
    assert config.metric_gates[0].name == primary
    assert config.trainer_custom_config()["task"] == task
    assert config.classes == {"multiclass": 10, "binary": 2, "regression": 0}[task]


def test_metrics_and_slices_from_a_config_file(tmp_path):
    config_file = tmp_path / "mlops.yaml"
    config_file.write_text(
        "task: binary\nlabel_key: big_tipper\nfeature_keys: [fare, payment_type]\n"
        "slices: [payment_type]\n"
        "metrics:\n"
        "  - {name: AUC, lower_bound: 0.7, max_change: 0.01,\n"
        "     slices: {payment_type=Credit Card: {lower_bound: 0.6}}}\n"
        "  - {name: BinaryAccuracy}\n")
    config = load_config(str(config_file), environ={})
    auc, accuracy = config.metric_gates
    assert (auc.name, auc.lower_bound, auc.max_change) == ("AUC", 0.7, 0.01)
    assert auc.slices == {"payment_type=Credit Card": {"lower_bound": 0.6}}
    assert accuracy.lower_bound is None and config.slices == ["payment_type"]


def test_metrics_from_the_environment_as_json():
    environ = {"MLOPS_TASK": "regression",
               "MLOPS_METRICS": json.dumps([{"name": "MeanAbsoluteError", "upper_bound": 50}])}
    (gate,) = load_config(environ=environ).metric_gates
    assert gate.upper_bound == 50 and gate.lower_is_better


@pytest.mark.parametrize("overrides, message", [
    ({"task": "ranking"}, "task must be one of multiclass, binary, regression"),
    ({"metrics": '[{"name": "AUC", "lower": 0.5}]'}, "unknown key(s) lower"),
    ({"metrics": '[{"name": "AUC", "lower_bound": "high"}]'}, "lower_bound must be a number"),
    ({"metrics": '[{"name": "AUC"}]'}, "no metric has a bound or max_change"),
    ({"metrics": '[{"name": "AUC", "max_change": -1}]'}, "at least 0"),
    ({"metrics": "[not json"}, "config key 'metrics' is not valid JSON"),
    ({"slices": "colour"}, "slice 'colour': 'colour' is not one of feature_keys"),
    ({"task": "regression", "labels": "a,b"}, "a regression model has no labels"),
])
def test_bad_gate_configuration_is_named(overrides, message):
    with pytest.raises(ConfigError, match=None) as raised:
        load_config(overrides=overrides, environ={})
    assert message in str(raised.value)


def _thresholds(config: tfma.EvalConfig, class_name: str):
    (metric,) = [m for m in config.metrics_specs[0].metrics if m.class_name == class_name]
    return metric


def test_bounds_hold_for_the_overall_slice_and_named_slices_only():
    """TFMA applies a plain `threshold` to every slice; the gate puts bounds on slices itself."""
    gate = tasks.MetricGate("AUC", lower_bound=0.7, max_change=0.01,
                            slices={"payment_type": {"lower_bound": 0.5},
                                    "payment_type=Cash": {"upper_bound": 0.99}})
    config = gate_config.eval_config("binary", "big_tipper", [gate], ["payment_type"],
                                     tflite=False)
    assert [s for s in config.slicing_specs] == [
        tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=["payment_type"])]
    auc = _thresholds(config, "AUC")
    assert not auc.HasField("threshold")
    overall, every_value, cash = auc.per_slice_thresholds
    assert list(overall.slicing_specs) == [tfma.SlicingSpec()]
    assert overall.threshold.value_threshold.lower_bound.value == 0.7
    change = overall.threshold.change_threshold
    assert change.direction == tfma.MetricDirection.HIGHER_IS_BETTER
    assert change.absolute.value == -0.01  # at most 0.01 below the model in production
    assert list(every_value.slicing_specs) == [tfma.SlicingSpec(feature_keys=["payment_type"])]
    assert list(cash.slicing_specs) == [tfma.SlicingSpec(feature_values={"payment_type": "Cash"})]
    assert cash.threshold.value_threshold.upper_bound.value == 0.99
    assert config.model_specs[0].prediction_key == "probabilities"


def test_errors_gate_downwards_and_variants_relative_for_regression():
    mae = tasks.MetricGate("MeanAbsoluteError", upper_bound=60, max_change=1.0)
    config = gate_config.eval_config("regression", "y", [mae], [], tflite=False,
                                     prediction_key="outputs")
    (overall,) = _thresholds(config, "MeanAbsoluteError").per_slice_thresholds
    assert overall.threshold.change_threshold.direction == tfma.MetricDirection.LOWER_IS_BETTER
    assert overall.threshold.change_threshold.absolute.value == 1.0
    assert config.model_specs[0].prediction_key == "outputs"
    variant = gate_config.variants_eval_config("regression", "y", ["float16", "int8"], mae, 0.5)
    (overall,) = _thresholds(variant, "MeanAbsoluteError").per_slice_thresholds
    # 0.5: at most 0.5 % worse than the float32 model's MAE.
    assert overall.threshold.change_threshold.relative.value == pytest.approx(0.005)
    assert [m.name for m in variant.model_specs] == ["float16", "int8", "float32"]
    assert [m.is_baseline for m in variant.model_specs] == [False, False, True]


@pytest.mark.parametrize("budget, limit", [(0.5, -0.005), (0, 0.0)])
def test_variant_budget_reaches_the_variants_evaluator(tmp_path, budget, limit):
    """`tflite_accuracy_budget` (points) is the change each variant may lose against float32:
    0 admits only variants at least as accurate as float32."""
    from tfx.utils import proto_utils

    from components.common.names import VARIANTS_EVALUATOR_ID
    from pipelines.pipeline import create_pipeline
    from pipelines.runner_args import pipeline_args

    config = load_config(overrides={"tflite_accuracy_budget": budget,
                                    "home": str(tmp_path)}, environ={})
    pipeline = create_pipeline(**pipeline_args(config, "tfrecord", "*"),
                               baseline_model_uri=str(tmp_path / "none"))
    (evaluator,) = [c for c in pipeline.components if c.id == VARIANTS_EVALUATOR_ID]
    eval_config = proto_utils.json_to_proto(evaluator.exec_properties["eval_config"],
                                            tfma.EvalConfig())
    assert [m.name for m in eval_config.model_specs] == ["dynamic", "float16", "int8", "float32"]
    (overall,) = _thresholds(eval_config, "SparseCategoricalAccuracy").per_slice_thresholds
    assert overall.threshold.change_threshold.absolute.value == pytest.approx(limit)

"""The gate's TFMA EvalConfigs, built from the configured task, metrics and slices.

Every bound is a per-slice threshold: TFMA applies a metric's plain `threshold` to every slice,
so with slices by `payment_type` a one-trip slice could fail the model. Here the metric's bounds and
its change threshold against the model in production hold for the overall slice; `slices` bounds
in the configuration add bounds for every value of a feature ('payment_type') or for one value
('payment_type=Cash').
"""

from __future__ import annotations

from typing import Optional, Sequence

import tensorflow_model_analysis as tfma

from components.common import tasks
from components.common.tasks import MetricGate


def slicing_spec(name: str) -> tfma.SlicingSpec:
    """'' -> the overall slice; 'payment_type' -> one slice per value; 'payment_type=Cash' -> that
    value only."""
    if not name:
        return tfma.SlicingSpec()
    if "=" in name:
        feature, value = name.split("=", 1)
        return tfma.SlicingSpec(feature_values={feature.strip(): value.strip()})
    return tfma.SlicingSpec(feature_keys=[name])


def _value_threshold(lower: Optional[float], upper: Optional[float]):
    if lower is None and upper is None:
        return None
    bounds = {}
    if lower is not None:
        bounds["lower_bound"] = {"value": lower}
    if upper is not None:
        bounds["upper_bound"] = {"value": upper}
    return tfma.GenericValueThreshold(**bounds)


def _change_threshold(gate: MetricGate, max_change: Optional[float], relative: bool = False):
    if max_change is None:
        return None
    if gate.lower_is_better:
        direction, limit = tfma.MetricDirection.LOWER_IS_BETTER, max_change
    else:
        direction, limit = tfma.MetricDirection.HIGHER_IS_BETTER, -max_change
    if relative:  # TFMA's relative change: (candidate - baseline) / baseline
        return tfma.GenericChangeThreshold(direction=direction, relative={"value": limit})
    return tfma.GenericChangeThreshold(direction=direction, absolute={"value": limit})


def metric_config(gate: MetricGate, max_change: Optional[float], relative: bool = False,
                  slice_bounds: bool = True) -> tfma.MetricConfig:
    config = tfma.MetricConfig(class_name=gate.name)
    overall = tfma.MetricThreshold()
    value = _value_threshold(gate.lower_bound, gate.upper_bound)
    change = _change_threshold(gate, max_change, relative)
    if value is not None:
        overall.value_threshold.CopyFrom(value)
    if change is not None:
        overall.change_threshold.CopyFrom(change)
    if overall.ByteSize():
        config.per_slice_thresholds.append(tfma.PerSliceMetricThreshold(
            slicing_specs=[tfma.SlicingSpec()], threshold=overall))
    for name, bounds in (gate.slices.items() if slice_bounds else ()):
        config.per_slice_thresholds.append(tfma.PerSliceMetricThreshold(
            slicing_specs=[slicing_spec(name)],
            threshold=tfma.MetricThreshold(value_threshold=_value_threshold(
                bounds.get("lower_bound"), bounds.get("upper_bound")))))
    return config


def _model_spec(task: str, label_key: str, tflite: bool, prediction_key: str = "",
                **kwargs) -> tfma.ModelSpec:
    if tflite:  # one output, the prediction
        return tfma.ModelSpec(model_type=tfma.TF_LITE, label_key=label_key, **kwargs)
    return tfma.ModelSpec(signature_name="serving_default", label_key=label_key,
                          prediction_key=prediction_key or tasks.prediction_key(task), **kwargs)


def _slicing_specs(slices: Sequence[str]) -> list[tfma.SlicingSpec]:
    return [tfma.SlicingSpec(), *(slicing_spec(s) for s in slices)]


# The plot each classifier's SavedModel evaluation adds (tfma_metrics.classification_plots).
CONFUSION_PLOTS = {tasks.BINARY: "ConfusionMatrixPlot",
                   tasks.MULTICLASS: "MultiClassConfusionMatrixPlot"}


def eval_config(task: str, label_key: str, metrics: Sequence[MetricGate], slices: Sequence[str],
                tflite: bool, prediction_key: str = "") -> tfma.EvalConfig:
    """The gate against the model in production. The Evaluator adds the baseline ModelSpec itself
    when there is a baseline; on a first run there is none and it drops the change thresholds, so
    value thresholds alone gate that run."""
    configs = [*(metric_config(gate, gate.max_change) for gate in metrics),
               tfma.MetricConfig(class_name="ExampleCount")]
    if task == tasks.BINARY:  # which slices hold one class only (tasks.not_computable)
        configs.append(tfma.MetricConfig(class_name="MeanLabel"))
    if not tflite and task in CONFUSION_PLOTS:  # the Kubeflow run page's confusion matrix
        configs.append(tfma.MetricConfig(class_name=CONFUSION_PLOTS[task]))
    return tfma.EvalConfig(
        model_specs=[_model_spec(task, label_key, tflite, prediction_key)],
        slicing_specs=_slicing_specs(slices),
        metrics_specs=[tfma.MetricsSpec(metrics=configs)])


def variants_eval_config(task: str, label_key: str, variants: Sequence[str], primary: MetricGate,
                         budget_points: float) -> tfma.EvalConfig:
    """Every quantized TFLite variant in one TFMA pass: one candidate ModelSpec per variant and the
    same model's float32 TFLite as the baseline. A variant is eligible when its primary metric keeps
    the configured bounds and is within the budget of float32 (TFMA validates each candidate
    apart). The ModelSpec names are the variant names components.evaluation.variant_models resolves.
    The budget is points of a rate for classifiers (0.5 -> 0.005 absolute), percent of float32's
    value for regression (relative)."""
    return tfma.EvalConfig(
        model_specs=[*(_model_spec(task, label_key, True, name=v) for v in variants),
                     _model_spec(task, label_key, True, name="float32", is_baseline=True)],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            metric_config(primary, budget_points / 100.0, relative=task == tasks.REGRESSION,
                          slice_bounds=False),
            tfma.MetricConfig(class_name="ExampleCount")])])

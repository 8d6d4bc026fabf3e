"""Reading TFMA's output: metrics per model (candidate, baseline, diff) and slice, and the
thresholds that failed."""

from __future__ import annotations

from typing import Dict


def slice_name(slice_key) -> str:
    """'' for the overall slice, 'payment_type=Cash' for one value of one feature."""
    return ", ".join(f"{feature}={value.decode() if isinstance(value, bytes) else value}"
                     for feature, value in slice_key)


def all_metrics(evaluation_uri: str,
                baseline_name: str = "baseline") -> Dict[str, Dict[str, Dict[str, float]]]:
    """{model: {slice name: {metric: value}}} from one read of a TFMA output, as plain numbers.

    `model` is "candidate", "baseline" (the model in production, when the Evaluator had one) or
    "diff" (candidate minus baseline). TFMA names the models only when there is a baseline;
    `baseline_name` is the baseline ModelSpec's name ('baseline' when the Evaluator adds it, the
    variant name 'float32' in the TFLite variant Evaluators)."""
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.slicer import slicer_lib

    result: Dict[str, Dict[str, Dict[str, float]]] = {
        "candidate": {}, "baseline": {}, "diff": {}}
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        name = slice_name(slicer_lib.deserialize_slice_key(metrics_for_slice.slice_key))
        for key_and_value in metrics_for_slice.metric_keys_and_values:
            key, value = key_and_value.key, key_and_value.value
            kind = ("diff" if key.is_diff else
                    "baseline" if key.model_name == baseline_name else "candidate")
            if value.HasField("double_value"):
                result[kind].setdefault(name, {})[key.name] = value.double_value.value
    return result


def metrics_by_model(evaluation_uri: str) -> Dict[str, Dict[str, Dict[str, float]]]:
    """{ModelSpec name: {slice name: {metric: value}}} (no diffs): an evaluation of several named
    candidates, such as the TFLite variants."""
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.slicer import slicer_lib

    result: Dict[str, Dict[str, Dict[str, float]]] = {}
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        name = slice_name(slicer_lib.deserialize_slice_key(metrics_for_slice.slice_key))
        for key_and_value in metrics_for_slice.metric_keys_and_values:
            key, value = key_and_value.key, key_and_value.value
            if not key.is_diff and value.HasField("double_value"):
                result.setdefault(key.model_name, {}).setdefault(name, {})[key.name] = \
                    value.double_value.value
    return result


def overall_metrics(evaluation_uri: str, model: str = "candidate",
                    baseline_name: str = "baseline") -> Dict[str, float]:
    """Every metric of one model on the overall slice (see all_metrics)."""
    return all_metrics(evaluation_uri, baseline_name)[model].get("", {})


def failed_thresholds(evaluation_uri: str) -> list[str]:
    """One line per threshold TFMA found broken: metric, slice, value and the bound."""
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.slicer import slicer_lib

    validation = tfma.load_validation_result(evaluation_uri)
    lines = []
    for failure in validation.metric_validations_per_slice:
        where = slice_name(slicer_lib.deserialize_slice_key(failure.slice_key)) or "overall"
        for item in failure.failures:
            what = ("change against the model in production of " if item.metric_key.is_diff
                    else "")
            value = item.metric_value.double_value.value
            shown = f"{value:+.4f}" if item.metric_key.is_diff else f"{value:.4f}"
            lines.append(f"{what}{item.metric_key.name} on {where} is {shown}, outside "
                         f"{_bounds_text(item.metric_threshold)}")
    return lines


def _bounds_text(threshold) -> str:
    """'lower_bound 0.7', 'upper_bound 5', 'absolute change -0.01 (higher is better)'."""
    if threshold.HasField("value_threshold"):
        bounds = threshold.value_threshold
        return " and ".join(f"{name} {getattr(bounds, name).value:g}"
                            for name in ("lower_bound", "upper_bound") if bounds.HasField(name))
    change = threshold.change_threshold
    direction = "lower" if change.direction == 1 else "higher"  # tfma.MetricDirection
    kinds = [f"{kind} change {getattr(change, kind).value:+g}"
             for kind in ("absolute", "relative") if change.HasField(kind)]
    return " and ".join(kinds) + f" ({direction} is better)"


# ROC points kept for the Kubeflow UI: every 20th of TFMA's 1,000 thresholds.
ROC_STRIDE = 20


def classification_plots(evaluation_uri: str, classes: int) -> Dict[str, object]:
    """The candidate's overall confusion matrix (`matrix`: rows = actual class, columns =
    predicted) and, for a binary classifier, its ROC points (`roc`: confidenceThreshold, recall,
    falsePositiveRate), from the evaluation's ConfusionMatrixPlot or
    MultiClassConfusionMatrixPlot; {} when it has none."""
    import tensorflow_model_analysis as tfma

    for plots_for_slice in tfma.load_plots(evaluation_uri):
        if plots_for_slice.slice_key.single_slice_keys:
            continue  # not the overall slice
        for key_and_value in plots_for_slice.plot_keys_and_values:
            if key_and_value.key.model_name not in ("", "candidate"):
                continue
            plot = key_and_value.value
            if plot.HasField("multi_class_confusion_matrix_at_thresholds"):
                matrix = [[0.0] * classes for _ in range(classes)]
                at_threshold = plot.multi_class_confusion_matrix_at_thresholds.matrices[0]
                for entry in at_threshold.entries:
                    if 0 <= entry.actual_class_id < classes and \
                            0 <= entry.predicted_class_id < classes:
                        matrix[entry.actual_class_id][entry.predicted_class_id] = \
                            entry.num_weighted_examples
                return {"matrix": matrix}
            if plot.HasField("confusion_matrix_at_thresholds"):
                matrices = list(plot.confusion_matrix_at_thresholds.matrices)
                roc = [{"confidenceThreshold": m.threshold, "recall": m.recall,
                        "falsePositiveRate": _rate(m.false_positives, m.true_negatives)}
                       for m in matrices[::ROC_STRIDE] + matrices[-1:]]
                half = min(matrices, key=lambda m: abs(m.threshold - 0.5))
                return {"matrix": [[half.true_negatives, half.false_positives],
                                   [half.false_negatives, half.true_positives]], "roc": roc}
    return {}


def _rate(part: float, rest: float) -> float:
    return part / (part + rest) if part + rest else 0.0

"""Reading TFMA's output: the overall-slice metrics of the candidate, the baseline and their diff."""

from __future__ import annotations

from typing import Dict


def overall_metrics(evaluation_uri: str, model: str = "candidate",
                    baseline_name: str = "baseline") -> Dict[str, float]:
    """Every metric of the overall slice from a TFMA output, as plain numbers.

    `model` is "candidate", "baseline" (the model in production, when the Evaluator had one) or
    "diff" (candidate minus baseline). TFMA names the models only when there is a baseline;
    `baseline_name` is the baseline ModelSpec's name ('baseline' when the Evaluator adds it, the
    variant name 'float32' in the TFLite variant Evaluators)."""
    import tensorflow_model_analysis as tfma

    metrics = {}
    for metrics_for_slice in tfma.load_metrics(evaluation_uri):
        if metrics_for_slice.slice_key.single_slice_keys:
            continue
        for key_and_value in metrics_for_slice.metric_keys_and_values:
            key, value = key_and_value.key, key_and_value.value
            kind = ("diff" if key.is_diff else
                    "baseline" if key.model_name == baseline_name else "candidate")
            if kind == model and value.HasField("double_value"):
                metrics[key.name] = value.double_value.value
    return metrics

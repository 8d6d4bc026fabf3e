"""What the Kubeflow run page shows of a run, written by the Pusher, the task that knows the end.

A task cannot read ML Metadata; the Pusher's inputs (the BlessingGate's blessing, with every gate
metric, broken bound and TFLite variant) and its own result are everything the run decided:
- `gate_metrics` (system.Metrics): the candidate's gate metrics, its TFLite model's (`tflite_`),
  the model in production's on the same examples (`production_`), the phone model's size;
- `classification_metrics` (system.ClassificationMetrics, classifiers): the SavedModel's confusion
  matrix on the eval split and, for a binary task, its ROC points (TFMA's confusion plots);
- `verdict` (system.Markdown): published as version N to which destinations, or refused with
  every broken bound, or not pushed and why, in a few lines;
- `report` (system.HTML): the same as one self-contained page (no script, no external file).
"""

from __future__ import annotations

import html
import json
import os
import re
from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.io import fileio
from tfx.types import artifact_utils

from components.common.names import (
    BASELINE_METRICS_SUFFIX,
    BLESSED,
    FAILURES_SUFFIX,
    GATE_EVALUATORS,
    METRICS_SUFFIX,
    MOBILE_VARIANT,
    NOT_PUSHED_REASON,
    PUSHED,
    PUSHED_DESTINATIONS,
    PUSHED_VERSION,
    SAVED_MODEL_PREFIX,
    SKIPPED_DESTINATIONS,
    TFLITE_PREFIX,
    TFLITE_SKIPPED_REASON,
    TFLITE_VARIANT_RESULTS,
    gate_key,
)
from components.common.ui_artifacts import DISPLAY_NAME

METRICS_KEY, VERDICT_KEY, REPORT_KEY = "gate_metrics", "verdict", "report"
CLASSIFICATION_KEY = "classification_metrics"
SAVED_MODEL_EVALUATION_KEY = "saved_model_evaluation"  # the input the confusion matrix is from


def _text(artifact: types.Artifact, key: str) -> str:
    return artifact.get_string_custom_property(key) if artifact.has_custom_property(key) else ""


def _json(artifact: types.Artifact, key: str, default):
    return json.loads(_text(artifact, key) or "null") or default


def _int(artifact: types.Artifact, key: str) -> int:
    return artifact.get_int_custom_property(key) if artifact.has_custom_property(key) else 0


def metric_values(blessing: types.Artifact) -> Dict[str, float]:
    """Every number the gate read: `<metric>` (SavedModel), `tflite_<metric>`,
    `production_<metric>` (the SavedModel in production, same examples), and
    `mobile_model_bytes` (the variant chosen for phones)."""
    values = {}
    for prefix, label in ((SAVED_MODEL_PREFIX, ""), (TFLITE_PREFIX, "tflite_")):
        for name, value in _json(blessing, gate_key(prefix, METRICS_SUFFIX), {}).items():
            values[label + name] = float(value)
    for name, value in _json(blessing, gate_key(SAVED_MODEL_PREFIX, BASELINE_METRICS_SUFFIX),
                             {}).items():
        values["production_" + name] = float(value)
    chosen = _json(blessing, TFLITE_VARIANT_RESULTS, {}).get(_text(blessing, MOBILE_VARIANT), {})
    if chosen.get("size_bytes", -1) >= 0:
        values["mobile_model_bytes"] = float(chosen["size_bytes"])
    return values


def verdict_lines(model_name: str, blessing: types.Artifact, pushed: types.Artifact
                  ) -> List[str]:
    """The run's outcome in a few lines of Markdown."""
    if not _int(blessing, BLESSED):
        lines = [f"**{model_name}: refused by the gate.** Nothing was published."]
        for label, prefix in GATE_EVALUATORS.values():
            failures = _text(blessing, gate_key(prefix, FAILURES_SUFFIX))
            lines += [f"- {label}: {failure}" for failure in failures.split("; ") if failure]
        return lines
    if not _int(pushed, PUSHED):
        return [f"**{model_name}: blessed, not pushed.**",
                _text(pushed, NOT_PUSHED_REASON) or "Nothing was published."]
    lines = [f"**{model_name}: published as version {_text(pushed, PUSHED_VERSION)}.**"]
    lines += [f"- {name}: `{uri}`" for name, uri in _json(pushed, PUSHED_DESTINATIONS, {}).items()]
    lines += [f"- {name}: skipped ({why})"
              for name, why in _json(pushed, SKIPPED_DESTINATIONS, {}).items()]
    variant = _text(blessing, MOBILE_VARIANT)
    if variant and not _text(blessing, TFLITE_SKIPPED_REASON):
        lines.append(f"- phones get the {variant} TFLite variant")
    return lines


def _inline_code(text: str) -> str:
    """Markdown's `code` spans as HTML."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", text)


def _number(value: float) -> str:
    """Counts and sizes whole, rates to four places."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4f}"


def report_html(model_name: str, verdict: List[str], metrics: Dict[str, float]) -> str:
    """The verdict and the metrics as one self-contained page."""
    items = "".join(f"<li>{_inline_code(html.escape(line[2:]))}</li>" for line in verdict[1:]
                    if line.startswith("- "))
    notes = "".join(f"<p>{html.escape(line)}</p>" for line in verdict[1:]
                    if not line.startswith("- "))
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{_number(value)}</td></tr>"
                   for name, value in metrics.items())
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(model_name)}"
            "</title><style>body{font-family:sans-serif;margin:1.5em}td{padding:2px 12px}"
            "table{border-collapse:collapse}tr:nth-child(odd){background:#f2f2f2}</style>"
            f"</head><body><h2 id='verdict'>{html.escape(verdict[0].strip('*'))}</h2>{notes}"
            f"<ul>{items}</ul><h3>Gate metrics</h3><table id='metrics'>{rows}</table>"
            "</body></html>")


def classification(evaluations: Optional[List[types.Artifact]], labels: List[str]) -> dict:
    """KFP's ClassificationMetrics fields from the SavedModel evaluation's confusion plot:
    `confusionMatrix` {annotationSpecs, rows} and, for a binary task, `confidenceMetrics`."""
    if not evaluations:
        return {}
    from components.common.tfma_metrics import classification_plots

    classes = len(labels) or 2
    plots = classification_plots(artifact_utils.get_single_uri(evaluations), classes)
    if not plots:
        return {}
    names = labels or [str(i) for i in range(len(plots["matrix"]))]
    fields = {"confusionMatrix": {
        "annotationSpecs": [{"displayName": name} for name in names],
        "rows": [{"row": [float(v) for v in row]} for row in plots["matrix"]]}}
    if plots.get("roc"):
        fields["confidenceMetrics"] = plots["roc"]
    return fields


def write(output_dict: Dict[str, List[types.Artifact]], model_name: str,
          blessing: types.Artifact, pushed: types.Artifact,
          classification_fields: Optional[dict] = None) -> None:
    """Fills the outputs (each optional: a Pusher built without them writes nothing)."""
    metrics = metric_values(blessing)
    verdict = verdict_lines(model_name, blessing, pushed)
    if output_dict.get(CLASSIFICATION_KEY) and classification_fields:
        artifact = artifact_utils.get_single_instance(output_dict[CLASSIFICATION_KEY])
        for name, value in classification_fields.items():
            artifact.set_json_value_custom_property(name, value)
        artifact.set_string_custom_property(DISPLAY_NAME, "confusion matrix")
    if output_dict.get(METRICS_KEY):
        artifact = artifact_utils.get_single_instance(output_dict[METRICS_KEY])
        for name, value in metrics.items():
            artifact.set_float_custom_property(name, value)
        artifact.set_string_custom_property(DISPLAY_NAME, "gate metrics")
    for key, text, display in ((VERDICT_KEY, "\n".join(verdict) + "\n", "verdict"),
                               (REPORT_KEY, report_html(model_name, verdict, metrics),
                                "run report")):
        if output_dict.get(key):
            artifact = artifact_utils.get_single_instance(output_dict[key])
            fileio.makedirs(os.path.dirname(artifact.uri))
            with fileio.open(artifact.uri, "w") as handle:
                handle.write(text)
            artifact.set_string_custom_property(DISPLAY_NAME, display)

"""The end-of-run summary, read back from ML Metadata (what was recorded, not what was intended)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from ml_metadata import metadata_store

from components.common import tasks
from components.common.names import (
    BASELINE_METRICS_SUFFIX,
    BLESSED,
    BLESSING_GATE_ID,
    DATA_GATE_ID,
    EVALUATION_SKIPPED_REASON,
    EXAMPLE_GENS,
    FAILURES_SUFFIX,
    GATE_EVALUATORS,
    GATE_METRICS,
    METRICS_SUFFIX,
    MOBILE_VARIANT,
    NOT_PUSHED_REASON,
    PUSHED,
    PUSHED_DESTINATION,
    PUSHED_DESTINATIONS,
    PUSHED_VERSION,
    PUSHER_ID,
    SAVED_MODEL_PREFIX,
    SKIPPED_DESTINATIONS,
    SLICE_METRICS_SUFFIX,
    SPAN,
    TFLITE_VARIANT_RESULTS,
    VERDICT,
    gate_key,
)
from mlops import metadata


@dataclasses.dataclass
class EvaluationResult:
    """One gate Evaluator's verdict and the configured metrics (metric key -> value), as the
    BlessingGate recorded them from TFMA's output."""

    model_format: str
    metrics: dict[str, float]
    blessed: bool
    baseline_metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    primary: str = ""  # the primary metric's key
    slice_metrics: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    failures: str = ""
    skipped: str = ""  # why nothing was evaluated (a model with no TFLite form)
    sample: str = ""  # "20,000 of 199,746" when a TFLite Evaluator scored a sample of the split

    @property
    def value(self) -> Optional[float]:
        """The primary metric of the candidate."""
        return self.metrics.get(self.primary)

    @property
    def baseline_value(self) -> Optional[float]:
        """The primary metric of the model in production, on the same examples."""
        return self.baseline_metrics.get(self.primary)


@dataclasses.dataclass
class RunSummary:
    run_name: str
    executions: list[metadata.ExecutionRecord]
    evaluations: list[EvaluationResult]
    pushed: bool
    pushed_destination: Optional[str]
    pushed_version: Optional[str]
    pushed_destinations: dict[str, str] = dataclasses.field(default_factory=dict)
    tflite_variants: dict[str, dict] = dataclasses.field(default_factory=dict)
    mobile_variant: Optional[str] = None
    skipped_destinations: dict[str, str] = dataclasses.field(default_factory=dict)
    not_pushed_reason: str = ""  # blessed, but production moved during the run

    @property
    def failed(self) -> bool:
        return any(e.state == "FAILED" for e in self.executions)


def _first_output(record: metadata.ExecutionRecord, key: str):
    artifacts = record.outputs.get(key) or []
    return artifacts[0] if artifacts else None


def _blessed(record: metadata.ExecutionRecord) -> Optional[bool]:
    blessing = _first_output(record, "blessing")
    return None if blessing is None else metadata.property_value(blessing, BLESSED) == 1


NOT_PUSHED = {"pushed": False, "version": None, "destination": None, "destinations": {},
              "skipped": {}, "reason": ""}


def _json(artifact, key: str, default):
    found = metadata.json_property(artifact, key) if artifact is not None else None
    return default if found in (None, "") else found


def gate_metric_names(gate_blessing) -> list[str]:
    """The configured gate metrics' keys as TFMA names them, primary first."""
    from components.common.tasks import metric_key

    return [metric_key(g["name"]) for g in _json(gate_blessing, GATE_METRICS, [])]


def evaluation_result(gate_blessing, record: metadata.ExecutionRecord, model_format: str,
                      prefix: str) -> EvaluationResult:
    names = gate_metric_names(gate_blessing)
    blessing = _first_output(record, "blessing")
    return EvaluationResult(
        model_format=model_format,
        metrics=_json(gate_blessing, gate_key(prefix, METRICS_SUFFIX), {}),
        blessed=bool(_blessed(record)),
        baseline_metrics=_json(gate_blessing, gate_key(prefix, BASELINE_METRICS_SUFFIX), {}),
        primary=names[0] if names else "",
        slice_metrics=_json(gate_blessing, gate_key(prefix, SLICE_METRICS_SUFFIX), {}),
        failures=(metadata.property_value(gate_blessing, gate_key(prefix, FAILURES_SUFFIX)) or ""
                  if gate_blessing is not None else ""),
        skipped=(metadata.property_value(blessing, EVALUATION_SKIPPED_REASON) or ""
                 if blessing is not None else ""),
        sample=_sample(_first_output(record, "evaluation")))


def _sample(evaluation) -> str:
    """'N of M' when the Evaluator scored N of the split's M examples, else ''."""
    counts = metadata.examples_scored(evaluation) if evaluation is not None else None
    return "" if counts is None or counts[0] >= counts[1] else f"{counts[0]:,} of {counts[1]:,}"


def _push_result(record: metadata.ExecutionRecord) -> dict:
    """What the Pusher recorded: pushed, version, first destination and every destination."""
    artifact = _first_output(record, "pushed_model")
    if artifact is None:
        return NOT_PUSHED
    return {
        "pushed": metadata.property_value(artifact, PUSHED) == 1,
        "version": metadata.property_value(artifact, PUSHED_VERSION),
        "destination": metadata.property_value(artifact, PUSHED_DESTINATION),
        "destinations": _json(artifact, PUSHED_DESTINATIONS, {}),
        "skipped": _json(artifact, SKIPPED_DESTINATIONS, {}),
        "reason": metadata.property_value(artifact, NOT_PUSHED_REASON) or "",
    }


def summarize(store: metadata_store.MetadataStore, pipeline_name: str,
              run=None) -> Optional[RunSummary]:
    """What `run` (default: the latest) recorded."""
    run = run if run is not None else metadata.latest_run(store, pipeline_name)
    if run is None:
        return None
    executions = metadata.run_executions(store, run, pipeline_name)
    gate = next((_first_output(r, "blessing") for r in executions
                 if r.node_id == BLESSING_GATE_ID), None)
    evaluations, push = [], NOT_PUSHED
    for record in executions:
        if record.node_id in GATE_EVALUATORS:
            model_format, prefix = GATE_EVALUATORS[record.node_id]
            evaluations.append(evaluation_result(gate, record, model_format, prefix))
        elif record.node_id == PUSHER_ID:
            push = _push_result(record)
    return RunSummary(run.name, executions, evaluations, push["pushed"], push["destination"],
                      push["version"], push["destinations"],
                      tflite_variants(gate) if gate is not None else {},
                      metadata.property_value(gate, MOBILE_VARIANT) if gate is not None else None,
                      push["skipped"], push["reason"])


def tflite_variants(gate_blessing) -> dict[str, dict]:
    """Per TFLite variant, what the BlessingGate recorded: size_bytes, the primary metric's
    name (`metric`) and `value`, eligible."""
    return _json(gate_blessing, TFLITE_VARIANT_RESULTS, {})


def _metrics_text(metrics: dict[str, float], names: list[str]) -> str:
    shown = [n for n in names if n in metrics] or [
        n for n in metrics if n not in ("example_count", tasks.MEAN_LABEL)]
    return ", ".join(f"{name} {tasks.metric_text(name, metrics)}" for name in shown)


def format_summary(summary: RunSummary, total_seconds: float) -> str:
    lines = [f"Run {summary.run_name}"]
    for record in summary.executions:
        lines.append(f"  {record.node_id:<27} {record.state:<9} {record.seconds:7.1f}s")
    for evaluation in summary.evaluations:
        names = [evaluation.primary] + [
            k for k in evaluation.metrics
            if k not in (evaluation.primary, "example_count", tasks.MEAN_LABEL)]
        if evaluation.skipped:
            lines.append(f"  {evaluation.model_format}: not evaluated ({evaluation.skipped})")
            continue
        verdict = "blessed" if evaluation.blessed else "NOT blessed"
        against = ("" if not evaluation.baseline_metrics else
                   f"; model in production {_metrics_text(evaluation.baseline_metrics, names)} "
                   "on the same data")
        sample = f"; on {evaluation.sample} eval examples" if evaluation.sample else ""
        lines.append(f"  {evaluation.model_format}: {_metrics_text(evaluation.metrics, names)} "
                     f"({verdict}{against}{sample})")
        if evaluation.failures:
            lines.append(f"    failed: {evaluation.failures}")
        for name, metrics in evaluation.slice_metrics.items():
            count = metrics.get("example_count")
            examples = f" ({count:.0f} examples)" if count is not None else ""
            lines.append(f"    slice {name}: {_metrics_text(metrics, names)}{examples}")
    if summary.tflite_variants:
        float32 = summary.tflite_variants.get("float32", {}).get("size_bytes") or 0
        metric = summary.tflite_variants.get("float32", {}).get("metric", "")
        lines.append(f"  TFLite variants (eligible: {metric} within the budget of float32):")
        for variant, info in summary.tflite_variants.items():
            value = "n/a" if info.get("value") is None else f"{info['value']:.4f}"
            ratio = f"{info['size_bytes'] / float32:.2f}x" if float32 > 0 else ""
            chosen = "  <- for phones" if variant == summary.mobile_variant else ""
            verdict = "eligible" if info["eligible"] else "refused"
            lines.append(f"    {variant:<8} {info['size_bytes']:>9,} bytes {ratio:>6}  "
                         f"{info.get('metric', '')} {value}  {verdict}{chosen}")
    if summary.pushed:
        lines.append(f"  Pushed version {summary.pushed_version}:")
        for name, uri in (summary.pushed_destinations
                          or {"destination": summary.pushed_destination}).items():
            lines.append(f"    {name:<20} {uri}")
        for name, reason in summary.skipped_destinations.items():
            lines.append(f"    {name:<20} skipped: {reason}")
    elif summary.not_pushed_reason:
        lines.append(f"  Not pushed although blessed: {summary.not_pushed_reason}.")
    else:
        lines.append("  Not pushed: the model was not blessed by every evaluator.")
    lines.append(f"  Total time: {total_seconds:.1f}s")
    return "\n".join(lines)


def list_runs(store: metadata_store.MetadataStore, pipeline_name: str) -> list[dict]:
    """One row per pipeline run, oldest first: status, blessing, pushed version, duration."""
    rows = []
    for run in metadata.pipeline_runs(store, pipeline_name):
        executions = metadata.run_executions(store, run, pipeline_name)
        states = {e.state for e in executions}
        interrupted = run.custom_properties.get(metadata.RUN_STATUS_PROPERTY)
        status = ("FAILED" if "FAILED" in states else
                  "CANCELED" if "CANCELED" in states or interrupted else
                  "RUNNING" if states & {"RUNNING", "NEW"} else "COMPLETE")
        # A KFP DAG execution only groups tasks (its time is theirs): not counted as one.
        executions = [e for e in executions if e.kind != metadata.KFP_DAG_EXECUTION]
        blessed, pushed_version, span, metric, data = None, None, None, None, None
        for record in executions:
            if record.node_id in EXAMPLE_GENS and _first_output(record, "examples") is not None:
                span = metadata.property_value(_first_output(record, "examples"), SPAN)
            elif record.node_id == DATA_GATE_ID:
                data = _data_verdict(record)
            elif record.node_id == BLESSING_GATE_ID:
                blessed = _blessed(record)
                gate = _first_output(record, "blessing")
                names = gate_metric_names(gate)
                value = (_json(gate, gate_key(SAVED_MODEL_PREFIX, METRICS_SUFFIX), {})
                         .get(names[0]) if names else None)
                metric = None if value is None else f"{names[0]} {value:.4f}"
            elif record.node_id == PUSHER_ID:
                push = _push_result(record)
                pushed_version = push["version"] if push["pushed"] else None
        rows.append({
            "run_id": run.name,
            "status": status,
            "span": span,
            "executions": len(executions),
            "cached": sum(e.state == "CACHED" for e in executions),
            "blessed": blessed,
            "pushed_version": pushed_version,
            "metric": metric,  # the SavedModel's primary metric
            "data": data,  # the DataGate's verdict on the span
            "seconds": round(sum(e.seconds for e in executions), 1),
        })
    return rows


def _data_verdict(record: metadata.ExecutionRecord) -> Optional[str]:
    """passed / drift accepted: <features> / stopped (the run's log and error name why)."""
    if record.state == "FAILED":
        return "stopped"
    result = _first_output(record, "result")
    return metadata.property_value(result, VERDICT) if result is not None else None


def pipeline_names(store: metadata_store.MetadataStore) -> list[str]:
    """The pipelines a store holds runs of (TFX's pipeline contexts and KFP's)."""
    names = set()
    for context_type in ("pipeline", metadata.KFP_PIPELINE_CONTEXT):
        try:
            names |= {c.name for c in store.get_contexts_by_type(context_type)}
        except Exception:  # a type the store has never seen, on MLMD versions that raise
            continue
    return sorted(names)


def format_runs(rows: list[dict]) -> str:
    if not rows:
        return "No runs recorded yet."
    lines = [f"{'run id':<28} {'status':<9} {'span':>4} {'execs':>5} {'cached':>6} {'blessed':<8} "
             f"{'pushed':<7} {'seconds':>8}  {'metric':<36}  data"]
    for row in rows:
        blessed = "-" if row["blessed"] is None else ("yes" if row["blessed"] else "no")
        span = "-" if row["span"] is None else str(row["span"])
        lines.append(f"{row['run_id']:<28} {row['status']:<9} {span:>4} {row['executions']:>5} "
                     f"{row['cached']:>6} {blessed:<8} {row['pushed_version'] or '-':<7} "
                     f"{row['seconds']:>8.1f}  {row.get('metric') or '-':<36}  "
                     f"{row.get('data') or '-'}")
    return "\n".join(lines)

"""The end-of-run summary, read back from ML Metadata (what was recorded, not what was intended)."""

from __future__ import annotations

import dataclasses
import json
from typing import Optional

from ml_metadata import metadata_store

from mlops import metadata
from pipelines.names import BLESSING_GATE_ID, EXAMPLE_GENS, GATE_EVALUATORS, PUSHER_ID


@dataclasses.dataclass
class EvaluationResult:
    model_format: str
    accuracy: Optional[float]
    blessed: bool
    baseline_accuracy: Optional[float] = None  # the model in production, on the same examples


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

    @property
    def failed(self) -> bool:
        return any(e.state == "FAILED" for e in self.executions)


def _first_output(record: metadata.ExecutionRecord, key: str):
    artifacts = record.outputs.get(key) or []
    return artifacts[0] if artifacts else None


def _blessed(record: metadata.ExecutionRecord) -> Optional[bool]:
    blessing = _first_output(record, "blessing")
    return None if blessing is None else metadata.custom_property(blessing, "blessed") == 1


NOT_PUSHED = {"pushed": False, "version": None, "destination": None, "destinations": {}}


def _push_result(record: metadata.ExecutionRecord) -> dict:
    """What the Pusher recorded: pushed, version, first destination and every destination."""
    artifact = _first_output(record, "pushed_model")
    if artifact is None:
        return NOT_PUSHED
    return {
        "pushed": metadata.custom_property(artifact, "pushed") == 1,
        "version": metadata.custom_property(artifact, "pushed_version"),
        "destination": metadata.custom_property(artifact, "pushed_destination"),
        "destinations": json.loads(
            metadata.custom_property(artifact, "pushed_destinations") or "{}"),
    }


def summarize(store: metadata_store.MetadataStore, pipeline_name: str) -> Optional[RunSummary]:
    run = metadata.latest_run(store, pipeline_name)
    if run is None:
        return None
    executions = metadata.run_executions(store, run, pipeline_name)
    gate = next((_first_output(r, "blessing") for r in executions
                 if r.node_id == BLESSING_GATE_ID), None)
    evaluations, push = [], NOT_PUSHED
    for record in executions:
        if record.node_id in GATE_EVALUATORS:
            # The accuracies the BlessingGate recorded from TFMA's output.
            model_format, prefix = GATE_EVALUATORS[record.node_id]
            accuracy = baseline = None
            if gate is not None:
                accuracy = metadata.custom_property(gate, f"{prefix}_accuracy")
                baseline = metadata.custom_property(gate, f"{prefix}_baseline_accuracy")
            evaluations.append(EvaluationResult(model_format, accuracy, bool(_blessed(record)),
                                                baseline))
        elif record.node_id == PUSHER_ID:
            push = _push_result(record)
    return RunSummary(run.name, executions, evaluations, push["pushed"], push["destination"],
                      push["version"], push["destinations"],
                      tflite_variants(gate) if gate is not None else {},
                      metadata.custom_property(gate, "mobile_variant") if gate is not None else None)


def tflite_variants(gate_blessing) -> dict[str, dict]:
    """Per TFLite variant, what the BlessingGate recorded: size_bytes, accuracy, eligible."""
    return json.loads(metadata.custom_property(gate_blessing, "tflite_variants") or "{}")


def format_summary(summary: RunSummary, total_seconds: float) -> str:
    lines = [f"Run {summary.run_name}"]
    for record in summary.executions:
        lines.append(f"  {record.node_id:<27} {record.state:<9} {record.seconds:7.1f}s")
    for evaluation in summary.evaluations:
        accuracy = "n/a" if evaluation.accuracy is None else f"{evaluation.accuracy:.4f}"
        verdict = "blessed" if evaluation.blessed else "NOT blessed"
        against = ("" if evaluation.baseline_accuracy is None else
                   f", model in production {evaluation.baseline_accuracy:.4f} on the same data")
        lines.append(f"  {evaluation.model_format} accuracy: {accuracy} ({verdict}{against})")
    if summary.tflite_variants:
        float32 = summary.tflite_variants.get("float32", {}).get("size_bytes") or 0
        lines.append("  TFLite variants (eligible: within the accuracy budget of float32):")
        for variant, info in summary.tflite_variants.items():
            accuracy = "n/a" if info["accuracy"] is None else f"{info['accuracy']:.4f}"
            ratio = f"{info['size_bytes'] / float32:.2f}x" if float32 > 0 else ""
            chosen = "  <- for phones" if variant == summary.mobile_variant else ""
            verdict = "eligible" if info["eligible"] else "refused"
            lines.append(f"    {variant:<8} {info['size_bytes']:>9,} bytes {ratio:>6}  accuracy "
                         f"{accuracy}  {verdict}{chosen}")
    if summary.pushed:
        lines.append(f"  Pushed version {summary.pushed_version}:")
        for name, uri in (summary.pushed_destinations
                          or {"destination": summary.pushed_destination}).items():
            lines.append(f"    {name:<20} {uri}")
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
        status = ("FAILED" if "FAILED" in states else
                  "RUNNING" if states & {"RUNNING", "NEW"} else "COMPLETE")
        # A KFP DAG execution only groups tasks (its time is theirs): not counted as one.
        executions = [e for e in executions if e.kind != metadata.KFP_DAG_EXECUTION]
        blessed, pushed_version, span = None, None, None
        for record in executions:
            if record.node_id in EXAMPLE_GENS and _first_output(record, "examples") is not None:
                span = metadata.custom_property(_first_output(record, "examples"), "span")
            elif record.node_id == BLESSING_GATE_ID:
                blessed = _blessed(record)
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
            "seconds": round(sum(e.seconds for e in executions), 1),
        })
    return rows


def format_runs(rows: list[dict]) -> str:
    if not rows:
        return "No runs recorded yet."
    lines = [f"{'run id':<28} {'status':<9} {'span':>4} {'execs':>5} {'cached':>6} {'blessed':<8} "
             f"{'pushed':<7} {'seconds':>8}"]
    for row in rows:
        blessed = "-" if row["blessed"] is None else ("yes" if row["blessed"] else "no")
        span = "-" if row["span"] is None else str(row["span"])
        lines.append(f"{row['run_id']:<28} {row['status']:<9} {span:>4} {row['executions']:>5} "
                     f"{row['cached']:>6} {blessed:<8} {row['pushed_version'] or '-':<7} "
                     f"{row['seconds']:>8.1f}")
    return "\n".join(lines)

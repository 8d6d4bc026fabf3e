"""The end-of-run summary, read back from ML Metadata (what was recorded, not what was intended)."""

from __future__ import annotations

import dataclasses
import json
from typing import Optional

from ml_metadata import metadata_store

from mlops import metadata
from pipelines.names import ACCURACY_METRIC, EVALUATOR_ID, TFLITE_EVALUATOR_ID

EVALUATORS = {EVALUATOR_ID: "SavedModel", TFLITE_EVALUATOR_ID: "TFLite"}


@dataclasses.dataclass
class EvaluationResult:
    model_format: str
    accuracy: Optional[float]
    blessed: bool


@dataclasses.dataclass
class RunSummary:
    run_name: str
    executions: list[metadata.ExecutionRecord]
    evaluations: list[EvaluationResult]
    pushed: bool
    pushed_destination: Optional[str]
    pushed_version: Optional[str]
    pushed_destinations: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(e.state == "FAILED" for e in self.executions)


def overall_accuracy(evaluation_uri: str) -> Optional[float]:
    """SparseCategoricalAccuracy over the whole eval split, from TFMA's output."""
    from components.pusher.executor import overall_metrics

    return overall_metrics(evaluation_uri).get(ACCURACY_METRIC)


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
    evaluations, push = [], NOT_PUSHED
    for record in executions:
        if record.node_id in EVALUATORS:
            evaluation = _first_output(record, "evaluation")
            accuracy = overall_accuracy(evaluation.uri) if evaluation is not None else None
            evaluations.append(EvaluationResult(EVALUATORS[record.node_id], accuracy,
                                                bool(_blessed(record))))
        elif record.node_id == "Pusher":
            push = _push_result(record)
    return RunSummary(run.name, executions, evaluations, push["pushed"], push["destination"],
                      push["version"], push["destinations"])


def format_summary(summary: RunSummary, total_seconds: float) -> str:
    lines = [f"Run {summary.run_name}"]
    for record in summary.executions:
        lines.append(f"  {record.node_id:<18} {record.state:<9} {record.seconds:7.1f}s")
    for evaluation in summary.evaluations:
        accuracy = "n/a" if evaluation.accuracy is None else f"{evaluation.accuracy:.4f}"
        verdict = "blessed" if evaluation.blessed else "NOT blessed"
        lines.append(f"  {evaluation.model_format} accuracy: {accuracy} ({verdict})")
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
        blessed, pushed_version = None, None
        for record in executions:
            if record.node_id == "BlessingGate":
                blessed = _blessed(record)
            elif record.node_id == "Pusher":
                push = _push_result(record)
                pushed_version = push["version"] if push["pushed"] else None
        rows.append({
            "run_id": run.name,
            "status": status,
            "executions": len(executions),
            "cached": sum(e.state == "CACHED" for e in executions),
            "blessed": blessed,
            "pushed_version": pushed_version,
            "seconds": round(sum(e.seconds for e in executions), 1),
        })
    return rows


def format_runs(rows: list[dict]) -> str:
    lines = [f"{'run id':<28} {'status':<9} {'execs':>5} {'cached':>6} {'blessed':<8} "
             f"{'pushed':<7} {'seconds':>8}"]
    for row in rows:
        blessed = "-" if row["blessed"] is None else ("yes" if row["blessed"] else "no")
        lines.append(f"{row['run_id']:<28} {row['status']:<9} {row['executions']:>5} "
                     f"{row['cached']:>6} {blessed:<8} {row['pushed_version'] or '-':<7} "
                     f"{row['seconds']:>8.1f}")
    return "\n".join(lines)

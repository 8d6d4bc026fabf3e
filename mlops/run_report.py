"""What a run's report page shows, read back from ML Metadata and the artifacts it names: the
verdict, the data (statistics of train and eval beside the previous production span's, anomalies,
drift), the gate's metrics, the TFLite variants, the lineage and the timings. Rendering is in
report_page.py; this module only reads."""

from __future__ import annotations

import dataclasses
import statistics as pystats
import time
from typing import Any, Optional

from ml_metadata import metadata_store

from components.common.names import (
    ACCEPT_DRIFT,
    BLESSING_GATE_ID,
    DATA_GATE_ID,
    DRIFT,
    EXAMPLE_GENS,
    GATE_METRICS,
    PREVIOUS_STATISTICS_URI,
    PROBLEMS,
    SPAN,
    STATISTICS_GEN_ID,
    TRAINER_ID,
    VERDICT,
)
from mlops import metadata, report

ERROR_PROPERTY = "error"  # set by the CLI on the execution that failed (the reason, in words)


class ReportError(LookupError):
    """No such run."""


@dataclasses.dataclass
class FeatureStats:
    name: str
    kind: str  # numeric | categorical
    count: int
    missing: int
    mean: Optional[float] = None
    std: Optional[float] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    unique: Optional[int] = None
    histogram: list[tuple[float, float, float]] = dataclasses.field(default_factory=list)
    top_values: list[tuple[str, float]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RunReport:
    pipeline_name: str
    run_name: str
    status: str
    summary: report.RunSummary
    span: Optional[int]
    error: str
    failed_step: str
    # split name ('train', 'eval', 'previous train') -> feature -> FeatureStats
    statistics: dict[str, dict[str, FeatureStats]]
    data_gate: dict[str, Any]
    gate_metrics: list[dict]
    variant_latency_ms: dict[str, float]
    lineage_svg: str
    created: str = dataclasses.field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))

    @property
    def blessed(self) -> bool:
        return bool(self.summary.evaluations) and all(
            e.blessed for e in self.summary.evaluations if not e.skipped)


def feature_stats(stats) -> dict[str, FeatureStats]:
    """Per feature of one split's DatasetFeatureStatisticsList: counts (a blank is missing, not a
    value), moments, histogram."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    from components.common import feature_statistics

    dataset = stats.datasets[0]
    total = dataset.num_examples or 1
    found = {}
    for name, feature in feature_statistics.features(stats).items():
        counts = (feature_statistics.with_values(feature), feature_statistics.missing(feature))
        if feature.HasField("num_stats"):
            numbers = feature.num_stats
            standard = [h for h in numbers.histograms
                        if h.type == statistics_pb2.Histogram.STANDARD]
            buckets = standard[0].buckets if standard else []
            values = sum(b.sample_count for b in buckets) or 1.0
            found[name] = FeatureStats(
                name, "numeric", *counts, numbers.mean, numbers.std_dev, numbers.min, numbers.max,
                histogram=[(b.low_value, b.high_value, b.sample_count / values) for b in buckets])
        elif feature.HasField("string_stats"):
            strings = feature.string_stats
            found[name] = FeatureStats(
                name, "categorical", *counts, unique=int(strings.unique),
                top_values=[(v.value, v.frequency / total) for v in strings.top_values[:12]])
    return found


def _statistics(executions, data_gate: dict) -> dict[str, dict[str, FeatureStats]]:
    from components.data_gate.executor import read_statistics

    found = {}
    record = next((r for r in executions if r.node_id == STATISTICS_GEN_ID
                   and r.outputs.get("statistics")), None)
    if record is not None:
        uri = record.outputs["statistics"][0].uri
        for split in ("train", "eval"):
            try:
                found[split] = feature_stats(read_statistics(uri, split))
            except Exception:  # a split the run did not write: shown as absent
                continue
    if data_gate.get("previous_statistics"):
        try:
            found["previous train"] = feature_stats(
                read_statistics(data_gate["previous_statistics"]))
        except Exception:
            pass
    return found


def _data_gate(executions) -> dict[str, Any]:
    record = next((r for r in executions if r.node_id == DATA_GATE_ID), None)
    if record is None:
        return {}
    result = (record.outputs.get("result") or [None])[0]
    if result is None:
        return {"verdict": "stopped" if record.state == "FAILED" else None}
    value, json_value = metadata.property_value, metadata.json_property
    return {"verdict": value(result, VERDICT), "accept_drift": value(result, ACCEPT_DRIFT) == 1,
            "drift": json_value(result, DRIFT) or {},
            "problems": json_value(result, PROBLEMS) or [],
            "previous_statistics": value(result, PREVIOUS_STATISTICS_URI) or ""}


def variant_latency(model_uri: str, variants, runs: int = 50) -> dict[str, float]:
    """Median single-example latency (ms) of each TFLite variant in TensorFlow's interpreter with
    one thread, on zero inputs: measured when the report is made, on this machine."""
    import numpy as np
    import tensorflow as tf

    from components.common import model_layout

    found = {}
    for variant in variants:
        path = model_layout.variant_file(model_uri, variant)
        if not tf.io.gfile.exists(path):
            continue
        with tf.io.gfile.GFile(path, "rb") as handle:
            interpreter = tf.lite.Interpreter(model_content=handle.read(), num_threads=1)
        runner = interpreter.get_signature_runner()
        inputs = {name: np.zeros([max(d, 1) for d in detail["shape"]], detail["dtype"])
                  for name, detail in runner.get_input_details().items()}
        runner(**inputs)  # warm up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            runner(**inputs)
            times.append((time.perf_counter() - started) * 1000.0)
        found[variant] = pystats.median(times)
    return found


def _lineage_svg(store, pipeline_name: str, executions) -> str:
    """The model's lineage graph (Graphviz), or '' when the run trained no model or `dot` is
    missing (the page then says so)."""
    from mlops import lineage, lineage_view

    trainer = next((r for r in executions if r.node_id == TRAINER_ID and r.outputs.get("model")),
                   None)
    if trainer is None:
        return ""
    try:
        return lineage_view.graph_svg(lineage.trace(store, pipeline_name,
                                                    artifact_id=trainer.outputs["model"][0].id))
    except lineage.LineageError:
        return ""


def find_run(store: metadata_store.MetadataStore, pipeline_name: str, run_name: str = ""):
    runs = metadata.pipeline_runs(store, pipeline_name)
    if not runs:
        raise ReportError(f"no runs of {pipeline_name} in ML Metadata")
    if not run_name:
        return runs[-1]
    for run in runs:
        if run.name == run_name:
            return run
    raise ReportError(f"no run '{run_name}' of {pipeline_name}; `mlops runs` lists them")


def collect(store: metadata_store.MetadataStore, pipeline_name: str, run_name: str = "",
            measure_latency: bool = True) -> RunReport:
    run = find_run(store, pipeline_name, run_name)
    summary = report.summarize(store, pipeline_name, run=run)
    executions = summary.executions
    failed = next((r for r in executions if r.state == "FAILED"), None)
    error = ""
    if failed is not None:
        execution = store.get_executions_by_id([failed.execution_id])[0]
        if ERROR_PROPERTY in execution.custom_properties:
            error = execution.custom_properties[ERROR_PROPERTY].string_value
    span = None
    for record in executions:
        if record.node_id in EXAMPLE_GENS and record.outputs.get("examples"):
            span = metadata.property_value(record.outputs["examples"][0], SPAN)
    data_gate = _data_gate(executions)
    gate = next((r.outputs["blessing"][0] for r in executions
                 if r.node_id == BLESSING_GATE_ID and r.outputs.get("blessing")), None)
    gate_metrics = (metadata.json_property(gate, GATE_METRICS) or []) if gate else []
    trainer = next((r for r in executions if r.node_id == TRAINER_ID and r.outputs.get("model")),
                   None)
    latency = {}
    if measure_latency and trainer is not None and summary.tflite_variants:
        latency = variant_latency(trainer.outputs["model"][0].uri, summary.tflite_variants)
    status = "FAILED" if failed else ("RUNNING" if any(r.state in ("RUNNING", "NEW")
                                                       for r in executions) else "COMPLETE")
    return RunReport(pipeline_name, run.name, status, summary, span, error,
                     failed.node_id if failed else "", _statistics(executions, data_gate),
                     data_gate, gate_metrics, latency, _lineage_svg(store, pipeline_name,
                                                                    executions))


def cancel_unfinished(store: metadata_store.MetadataStore, pipeline_name: str,
                      since_ms: int) -> int:
    """Marks the run started at or after `since_ms` (epoch ms) as interrupted: CANCELED on its
    context, and on its executions that never finished, so it neither stays RUNNING for ever nor
    looks COMPLETE. Returns how many executions were cancelled."""
    from ml_metadata.proto import metadata_store_pb2

    run = metadata.latest_run(store, pipeline_name)
    if run is None or run.create_time_since_epoch < since_ms:
        return 0  # interrupted before its first component was recorded
    run.custom_properties[metadata.RUN_STATUS_PROPERTY].string_value = "CANCELED"
    store.put_contexts([run])
    unfinished = [e for e in store.get_executions_by_context(run.id)
                  if e.last_known_state in (metadata_store_pb2.Execution.RUNNING,
                                            metadata_store_pb2.Execution.NEW)]
    for execution in unfinished:
        execution.last_known_state = metadata_store_pb2.Execution.CANCELED
    if unfinished:
        store.put_executions(unfinished)
    return len(unfinished)


def record_error(store: metadata_store.MetadataStore, pipeline_name: str, message: str) -> None:
    """Keeps why the latest run failed on its failed execution (TFX keeps only the state), so
    its report and the runs browser can say why."""
    run = metadata.latest_run(store, pipeline_name)
    if run is None:
        return
    failed = [r for r in metadata.run_executions(store, run, pipeline_name) if r.state == "FAILED"]
    if not failed:
        return
    execution = store.get_executions_by_id([failed[-1].execution_id])[0]
    execution.custom_properties[ERROR_PROPERTY].string_value = message
    store.put_executions([execution])

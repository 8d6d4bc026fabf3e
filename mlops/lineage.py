"""Lineage of a model from ML Metadata: "where did this model on the phone come from?"

From a pushed model (or any model artifact) back to the input span: the executions that produced
each artifact, found through MLMD's input/output events, with what a person checks at each step.
Works on any MLMD store (SQLite or MySQL), written by the local TFX runner or by Kubeflow Pipelines
(see mlops.metadata), and reads nothing else: the accuracies are the ones the BlessingGate recorded
on its blessing.
"""

from __future__ import annotations

import dataclasses
import datetime
import html
import json
import os
import re
import shutil
import subprocess
from typing import Any, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.common.names import (
    BLESSING_GATE_ID,
    DATA_GATE_ID,
    GATE_EVALUATORS,
    PUSHER_ID,
    TFLITE_SKIPPED_REASON,
    VARIANT_VERDICTS,
    VARIANTS_EVALUATOR_ID,
)
from mlops import metadata

Event = metadata_store_pb2.Event
# Inputs not followed upstream: the baseline is reported, its own history is another lineage.
NOT_FOLLOWED = {"baseline_model"}
# Steps that consume an artifact of the chain without feeding the model (statistics and checks
# of the data; StatisticsGen feeds the model only while the schema is inferred).
SIDE_STEPS = {"StatisticsGen", "ExampleValidator", DATA_GATE_ID}


class LineageError(LookupError):
    """The requested model is not in ML Metadata."""


@dataclasses.dataclass
class Step:
    node_id: str
    execution_id: int
    run_id: str
    state: str
    started: str
    finished: str
    details: dict[str, Any]
    inputs: dict[str, list[int]]   # input key -> artifact ids
    outputs: dict[str, list[int]]  # output key -> artifact ids


@dataclasses.dataclass
class Lineage:
    target: dict[str, Any]
    steps: list[Step]   # from the Pusher back to ExampleGen
    artifacts: dict[int, dict[str, Any]]

    def edges(self) -> list[tuple[int, int, str]]:
        """(producer execution, consumer execution, artifact key) for every artifact handed on."""
        producers = {aid: s.execution_id for s in self.steps for ids in s.outputs.values()
                     for aid in ids}
        found = []
        for step in self.steps:
            for key, ids in step.inputs.items():
                for aid in ids:
                    if aid in producers:
                        found.append((producers[aid], step.execution_id, key))
        return found

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "steps": [dataclasses.asdict(s) for s in self.steps],
                "artifacts": {str(k): v for k, v in self.artifacts.items()},
                "edges": [{"from": a, "to": b, "artifact": k} for a, b, k in self.edges()]}


def _time(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class _Reader:
    """MLMD lookups with the small caches a graph walk needs."""

    def __init__(self, store: metadata_store.MetadataStore, pipeline_name: str):
        self.store = store
        self.pipeline_name = pipeline_name
        self.context_types = {t.id: t.name for t in store.get_context_types()}
        self.artifact_types = {t.id: metadata.artifact_type_name(t.name)
                               for t in store.get_artifact_types()}
        self._executions: dict[int, metadata_store_pb2.Execution] = {}

    def artifact(self, artifact_id: int) -> metadata_store_pb2.Artifact:
        (artifact,) = self.store.get_artifacts_by_id([artifact_id])
        return artifact

    def execution(self, execution_id: int) -> metadata_store_pb2.Execution:
        if execution_id not in self._executions:
            (self._executions[execution_id],) = self.store.get_executions_by_id([execution_id])
        return self._executions[execution_id]

    def contexts(self, execution_id: int) -> dict[str, str]:
        return metadata.context_names(self.store, execution_id, self.context_types)

    def node_id(self, execution_id: int) -> str:
        return metadata.node_id(self.execution(execution_id), self.contexts(execution_id),
                                self.pipeline_name)

    def producer(self, artifact_id: int) -> Optional[int]:
        """The execution that wrote the artifact (not a cached execution that reused it)."""
        events = [e for e in self.store.get_events_by_artifact_ids([artifact_id])
                  if e.type in (Event.OUTPUT, Event.DECLARED_OUTPUT)]
        if not events:
            return None
        executions = self.store.get_executions_by_id([e.execution_id for e in events])
        executions.sort(key=lambda e: (e.last_known_state == metadata_store_pb2.Execution.CACHED,
                                       e.id))
        return executions[0].id

    def consumers(self, artifact_id: int) -> list[int]:
        return sorted({e.execution_id for e in self.store.get_events_by_artifact_ids([artifact_id])
                       if e.type in (Event.INPUT, Event.DECLARED_INPUT)})

    def events(self, execution_id: int, kinds) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for event in self.store.get_events_by_execution_ids([execution_id]):
            if event.type in kinds:
                key = event.path.steps[0].key if event.path.steps else "?"
                found.setdefault(key, []).append(event.artifact_id)
        return found


def _value(message, key: str):
    """A property or custom property of an artifact or execution, as a plain value. A KFP
    execution holds its parameters in one struct, `inputs`: looked up there too."""
    for field in (message.properties, message.custom_properties):
        if key in field:
            return metadata.plain_value(key, field[key])
    if isinstance(message, metadata_store_pb2.Execution) and "inputs" in message.custom_properties:
        return (metadata.plain_value("inputs", message.custom_properties["inputs"]) or {}).get(key)
    return None


def _json_property(message, key: str):
    raw = _value(message, key)
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw


def _details(reader: _Reader, node_id: str, execution: metadata_store_pb2.Execution,
             inputs: dict[str, list[int]], outputs: dict[str, list[int]]) -> dict[str, Any]:
    """What a person checks at each step, by the kind of component."""
    first = {key: reader.artifact(ids[0]) for key, ids in {**inputs, **outputs}.items() if ids}
    if "ExampleGen" in node_id:
        examples = first["examples"]
        return {"input_base": _value(execution, "input_base"),
                "span": _value(examples, "span"), "version": _value(examples, "version"),
                "input_fingerprint": _value(examples, "input_fingerprint"),
                "examples": examples.uri}
    if node_id == "Trainer":
        module = _value(execution, "module_path") or ""
        # TFX names the user-module wheel after a hash of the module's files.
        code = re.search(r"\+([0-9a-f]{16,})", module)
        return {"train_steps": (_json_property(execution, "train_args") or {}).get("num_steps"),
                "eval_steps": (_json_property(execution, "eval_args") or {}).get("num_steps"),
                "hyperparameters": _json_property(execution, "custom_config"),
                "module": module.split("@", 1)[0],
                "code_fingerprint": code.group(1) if code else None,
                "model_artifact_id": first["model"].id, "model": first["model"].uri,
                # The TFLite op assessment and variant sizes the platform's Trainer recorded.
                "tflite_op_decision": _value(first["model"], "tflite_op_decision"),
                "tflite_builtin_ops": _value(first["model"], "tflite_builtin_ops"),
                "tflite_select_tf_ops": _value(first["model"], "tflite_select_tf_ops") or None,
                "tflite_variant_sizes": _json_property(first["model"], "tflite_variant_sizes"),
                TFLITE_SKIPPED_REASON: _value(first["model"], TFLITE_SKIPPED_REASON)}
    if node_id == VARIANTS_EVALUATOR_ID:
        # Sizes and the primary metric of each are filled in from the BlessingGate's record.
        verdicts = _json_property(first["blessing"], VARIANT_VERDICTS) or {}
        return {"model_format": "TFLite variants",
                "variants": {v: {"eligible": bool(ok)} for v, ok in verdicts.items()},
                "evaluation": first["evaluation"].uri}
    if node_id in GATE_EVALUATORS:
        blessing = first["blessing"]
        # Metrics are filled in from the BlessingGate's record (see _add_metrics).
        return {"model_format": GATE_EVALUATORS[node_id][0],
                "blessed": _value(blessing, "blessed") == 1,
                "baseline_model_artifact_id": _value(blessing, "baseline_model_id"),
                "evaluation": first["evaluation"].uri}
    if node_id == BLESSING_GATE_ID:
        blessing = first["blessing"]
        found = {"blessed": _value(blessing, "blessed") == 1}
        found["gate_metrics"] = [g["name"] for g in _json_property(blessing, "gate_metrics") or []]
        for _, prefix in GATE_EVALUATORS.values():
            for suffix in ("metrics", "baseline_metrics", "slice_metrics"):
                found[f"{prefix}_{suffix}"] = _json_property(blessing, f"{prefix}_{suffix}")
            found[f"{prefix}_failures"] = _value(blessing, f"{prefix}_failures")
        found["mobile_variant"] = _value(blessing, "mobile_variant")
        found["tflite_variants"] = _json_property(blessing, "tflite_variants")
        found["tflite_eligible_variants"] = _value(blessing, "tflite_eligible_variants")
        found["tflite_refused_variants"] = _value(blessing, "tflite_refused_variants") or None
        return found
    if node_id == PUSHER_ID:
        pushed = first["pushed_model"]
        return {"pushed": _value(pushed, "pushed") == 1,
                "version": _value(pushed, "pushed_version"),
                "destinations": _json_property(pushed, "pushed_destinations") or {}}
    if node_id == "ExampleValidator":
        per_split = _value(first["anomalies"], "blessed") or {}
        return {"anomaly_free_splits": per_split, "anomalies": first["anomalies"].uri}
    if node_id == "Transform":
        return {"transform_graph": first["transform_graph"].uri}
    if node_id == "StatisticsGen":
        return {"statistics": first["statistics"].uri}
    if node_id == "SchemaGen":
        return {"schema": first["schema"].uri, "curated": False}
    if node_id == "ImportSchemaGen":
        # The curated schema, as a copy named by its sha256 (pipelines/runner_args.py).
        source = _value(execution, "schema_file") or ""
        digest = re.search(r"sha256-([0-9a-f]+)", source)
        return {"schema": first["schema"].uri, "curated": True, "schema_file": source,
                "schema_sha256": digest.group(1) if digest else None}
    if node_id == DATA_GATE_ID:
        result = first.get("result")
        if result is None:  # it stopped that run (a failed execution publishes no output)
            return {"verdict": "stopped"}
        return {"verdict": _value(result, "verdict"),
                "accept_drift": _value(result, "accept_drift") == 1,
                "drift": _json_property(result, "drift"),
                "problems": _json_property(result, "problems") or None,
                "previous_statistics": _value(result, "previous_statistics_uri") or None,
                "anomalies": result.uri}
    return {}


def _find_target(reader: _Reader, artifact_id: Optional[int], version: Optional[str],
                 path: Optional[str]) -> metadata_store_pb2.Artifact:
    store = reader.store
    if artifact_id is not None:
        try:
            return reader.artifact(artifact_id)
        except ValueError:
            raise LineageError(f"no artifact with id {artifact_id} in ML Metadata") from None
    pushes = sorted((a for a in metadata.artifacts_by_type(store, "PushedModel")
                     if _value(a, "pushed") == 1), key=lambda a: a.id, reverse=True)
    if version is not None:
        pushes = [a for a in pushes if str(_value(a, "pushed_version")) == str(version)]
        if not pushes:
            raise LineageError(f"no pushed model has version {version}")
    elif path is not None:
        wanted = path.rstrip("/")
        if "://" not in wanted:
            wanted = os.path.abspath(wanted)

        def published_at(artifact) -> bool:
            places = (_json_property(artifact, "pushed_destinations") or {}).values()
            return any(wanted == p or wanted.startswith(p.rstrip("/") + "/") for p in places)

        pushes = [a for a in pushes if published_at(a)]
        if not pushes:
            raise LineageError(f"no pushed model was published at {path}")
    elif not pushes:
        raise LineageError("no model has been pushed yet")
    # The newest version among the matches; of its pushes, the first: a later run that found the
    # same model already published records the same version without having made it.
    newest = max(pushes, key=lambda a: int(_value(a, "pushed_version") or 0))
    same = [a for a in pushes if _value(a, "pushed_version") == _value(newest, "pushed_version")]
    return min(same, key=lambda a: a.id)


def _step(reader: _Reader, execution_id: int) -> Step:
    execution = reader.execution(execution_id)
    inputs = reader.events(execution_id, (Event.INPUT, Event.DECLARED_INPUT))
    outputs = reader.events(execution_id, (Event.OUTPUT, Event.DECLARED_OUTPUT))
    node_id = reader.node_id(execution_id)
    return Step(
        node_id=node_id, execution_id=execution_id,
        run_id=metadata.run_name(reader.contexts(execution_id)),
        state=metadata.STATE_NAMES.get(execution.last_known_state, "UNKNOWN"),
        started=_time(execution.create_time_since_epoch),
        finished=_time(execution.last_update_time_since_epoch),
        details=_details(reader, node_id, execution, inputs, outputs),
        inputs=inputs, outputs=outputs)


def trace(store: metadata_store.MetadataStore, pipeline_name: str, *,
          artifact_id: Optional[int] = None, version: Optional[str] = None,
          path: Optional[str] = None) -> Lineage:
    """The lineage of the latest pushed model, or of the one named by id, version or path."""
    reader = _Reader(store, pipeline_name)
    target = _find_target(reader, artifact_id, version, path)
    steps: dict[int, Step] = {}
    pending = [reader.producer(target.id)]
    while pending:  # the chain: every producer upstream of the target
        execution_id = pending.pop()
        if execution_id is None or execution_id in steps:
            continue
        steps[execution_id] = step = _step(reader, execution_id)
        for key, ids in step.inputs.items():
            if key not in NOT_FOLLOWED:
                pending += [reader.producer(aid) for aid in ids]
    # Data checks hang off the chain: they consume its artifacts but feed nothing. Only checks of
    # exactly these artifacts (not another span's check of a shared, cached schema).
    added = True
    while added:
        added = False
        known = {aid for s in steps.values() for ids in s.outputs.values() for aid in ids}
        for aid in sorted(known):
            for consumer in reader.consumers(aid):
                if consumer in steps or reader.node_id(consumer) not in SIDE_STEPS or \
                        reader.execution(consumer).last_known_state == \
                        metadata_store_pb2.Execution.CACHED:
                    continue
                inputs = reader.events(consumer, (Event.INPUT, Event.DECLARED_INPUT))
                if all(a in known for ids in inputs.values() for a in ids):
                    steps[consumer] = _step(reader, consumer)
                    added = True
    ordered = sorted(steps.values(), key=lambda s: s.execution_id, reverse=True)
    _add_metrics(ordered)
    used = {aid for s in ordered for group in (s.inputs, s.outputs) for ids in group.values()
            for aid in ids}
    artifacts = {}
    for artifact in store.get_artifacts_by_id(sorted(used)):
        artifacts[artifact.id] = {"type": reader.artifact_types.get(artifact.type_id, "?"),
                                  "uri": artifact.uri}
    target_info = {"artifact_id": target.id,
                   "type": reader.artifact_types.get(target.type_id, "?"), "uri": target.uri}
    if target_info["type"] == "PushedModel":
        target_info["pushed_version"] = _value(target, "pushed_version")
    return Lineage(target_info, ordered, artifacts)


def _add_metrics(steps: list[Step]) -> None:
    """Puts each Evaluator's configured metrics (and the baseline's, on the same examples, and
    the change of each) beside it, from what the BlessingGate recorded."""
    gates = [s for s in steps if s.node_id == BLESSING_GATE_ID]
    if not gates:
        return
    gate = gates[0].details
    # Each TFLite variant's primary metric and size go beside its verdict.
    variants = gate.pop("tflite_variants", None) or {}
    recorded = {prefix: {suffix: gate.pop(f"{prefix}_{suffix}", None)
                         for suffix in ("metrics", "baseline_metrics", "slice_metrics", "failures")}
                for _, prefix in GATE_EVALUATORS.values()}
    for step in steps:
        if step.node_id == VARIANTS_EVALUATOR_ID:
            for name, verdict in step.details["variants"].items():
                recorded_variant = variants.get(name, {})
                verdict[recorded_variant.get("metric", "value")] = recorded_variant.get("value")
                verdict["size_bytes"] = recorded_variant.get("size_bytes")
        if step.node_id in GATE_EVALUATORS:
            found = recorded[GATE_EVALUATORS[step.node_id][1]]
            metrics, baseline = found["metrics"] or {}, found["baseline_metrics"] or {}
            metrics.pop("example_count", None)
            step.details["metrics"] = metrics
            step.details["baseline_metrics"] = baseline or None
            step.details["change"] = ({k: v - baseline[k] for k, v in metrics.items()
                                       if k in baseline} or None)
            step.details["slices"] = found["slice_metrics"]
            step.details["failed"] = found["failures"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return "-" if value is None else str(value)


def format_text(lineage: Lineage) -> str:
    target = lineage.target
    title = (f"Pushed model version {target['pushed_version']}"
             if "pushed_version" in target else f"{target['type']} artifact")
    lines = [f"{title} (artifact {target['artifact_id']}): {target['uri']}"]
    for step in lineage.steps:
        lines.append(f"<- {step.node_id}  execution {step.execution_id}, run {step.run_id}, "
                     f"{step.state}, {step.started} .. {step.finished}")
        for key, value in step.details.items():
            if key == "change" and value is not None:
                lines.append(f"     {key}: " + ", ".join(f"{k}={v:+.4f}" for k, v in value.items()))
            elif key in ("slices", "variants") and value:
                for name, metrics in value.items():
                    lines.append(f"     {key[:-1]} {name}: {_fmt(metrics)}")
            elif key == "destinations":
                for name, uri in value.items():
                    lines.append(f"     {name}: {uri}")
            else:
                lines.append(f"     {key}: {_fmt(value)}")
    return "\n".join(lines)


def _dot(lineage: Lineage) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph lineage {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica",'
             ' fontsize=10];', '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    for step in lineage.steps:
        summary = [f"{step.node_id}", f"execution {step.execution_id} · {step.state}"]
        details = step.details
        if "span" in details:
            summary.append(f"span {details['span']}")
        for name, value in (details.get("metrics") or {}).items():
            line = f"{name} {value:.4f}"
            if (details.get("baseline_metrics") or {}).get(name) is not None:
                line += f" (baseline {details['baseline_metrics'][name]:.4f})"
            summary.append(line)
        if "blessed" in details:
            summary.append("blessed" if details["blessed"] else "NOT blessed")
        for name, verdict in (details.get("variants") or {}).items():
            summary.append(f"{name} {'eligible' if verdict['eligible'] else 'refused'}")
        if details.get("train_steps") is not None:
            summary.append(f"{details['train_steps']} steps")
        if details.get("version") and step.node_id == PUSHER_ID:
            summary.append(f"pushed version {details['version']}")
        color = "#fde2e2" if details.get("blessed") is False else "#eef3fb"
        lines.append(f"  e{step.execution_id} [label={quote(chr(10).join(summary))}, "
                     f"fillcolor={quote(color)}];")
    for producer, consumer, key in lineage.edges():
        lines.append(f"  e{producer} -> e{consumer} [label={quote(key)}];")
    lines.append("}")
    return "\n".join(lines)


def graph_svg(lineage: Lineage) -> str:
    """The lineage graph as an SVG document (Graphviz `dot`)."""
    dot = shutil.which("dot")
    if dot is None:
        raise LineageError("rendering the graph needs Graphviz's `dot` "
                           "(Debian: apt-get install graphviz)")
    return subprocess.run([dot, "-Tsvg"], input=_dot(lineage), capture_output=True, text=True,
                          check=True).stdout


def page_html(lineage: Lineage) -> str:
    """The lineage as a page: the graph, then every detail."""
    svg = graph_svg(lineage)
    return ("<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='data:,'>"
            "<title>Model lineage</title><style>body{font-family:sans-serif;margin:2em}"
            "pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head><body>"
            f"<h1>Lineage of artifact {lineage.target['artifact_id']}</h1>"
            f"<div id=lineage>{svg[svg.index('<svg'):]}</div>"
            f"<h2>Details</h2><pre>{html.escape(format_text(lineage))}</pre></body></html>")


def render(lineage: Lineage, path: str) -> str:
    """Writes the lineage graph as .svg, or .html (the picture plus every detail)."""
    if not path.endswith((".svg", ".html")):
        raise LineageError(f"--graph must name a .svg or .html file, got {path}")
    content = graph_svg(lineage) if path.endswith(".svg") else page_html(lineage)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(content)
    return path

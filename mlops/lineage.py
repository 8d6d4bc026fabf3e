"""Lineage of a model from ML Metadata: "where did this model on the phone come from?"

From a pushed model (or any model artifact) back to the input span: the executions that produced
each artifact, found through MLMD's input/output events, with what a person checks at each step.
Works on any MLMD store (SQLite or MySQL), written by the local TFX runner or by Kubeflow Pipelines
(see mlops.metadata), and reads nothing else: the accuracies are the ones the BlessingGate recorded
on its blessing. Reading goes through mlops.metadata (GraphReader); how a lineage looks (text,
graph, page) is mlops.lineage_view.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from typing import Any, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.common.names import (
    ACCEPT_DRIFT,
    BASELINE_METRICS_SUFFIX,
    BASELINE_MODEL_ID,
    BLESSED,
    BLESSING_GATE_ID,
    CUSTOM_CONFIG,
    DATA_GATE_ID,
    DRIFT,
    EVAL_ARGS,
    EXAMPLE_GENS,
    FAILURES_SUFFIX,
    GATE_EVALUATORS,
    GATE_METRICS,
    GATE_SUFFIXES,
    INPUT_BASE,
    INPUT_FINGERPRINT,
    METRICS_SUFFIX,
    MOBILE_VARIANT,
    MODULE_PATH,
    PREVIOUS_STATISTICS_URI,
    PROBLEMS,
    PUSHED,
    PUSHED_DESTINATIONS,
    PUSHED_VERSION,
    PUSHER_ID,
    SCHEMA_FILE,
    SLICE_METRICS_SUFFIX,
    SPAN,
    TFLITE_BUILTIN_OPS,
    TFLITE_ELIGIBLE_VARIANTS,
    TFLITE_OP_DECISION,
    TFLITE_REFUSED_VARIANTS,
    TFLITE_SELECT_TF_OPS,
    TFLITE_SKIPPED_REASON,
    TFLITE_VARIANT_RESULTS,
    TFLITE_VARIANT_SIZES,
    TRAIN_ARGS,
    TRAINER_ID,
    VARIANT_VERDICTS,
    VARIANTS_EVALUATOR_ID,
    VERDICT,
    VERSION,
    gate_key,
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


# What a person checks at each step, by the kind of component: one function per node id, each
# given the execution and the first artifact of every input and output key. A detail keyed by a
# property key of components.common.names is that property under its own name; the other keys
# are this module's (both are the JSON of `mlops lineage`).
Artifacts = dict[str, metadata_store_pb2.Artifact]
Execution = metadata_store_pb2.Execution
value, json_value = metadata.property_value, metadata.json_property


def _example_gen(execution: Execution, first: Artifacts) -> dict[str, Any]:
    examples = first["examples"]
    return {INPUT_BASE: value(execution, INPUT_BASE),
            SPAN: value(examples, SPAN), VERSION: value(examples, VERSION),
            INPUT_FINGERPRINT: value(examples, INPUT_FINGERPRINT), "examples": examples.uri}


def _trainer(execution: Execution, first: Artifacts) -> dict[str, Any]:
    module = value(execution, MODULE_PATH) or ""
    code = re.search(r"\+([0-9a-f]{16,})", module)  # TFX names the module's wheel by a hash
    model = first["model"]
    return {"train_steps": (json_value(execution, TRAIN_ARGS) or {}).get("num_steps"),
            "eval_steps": (json_value(execution, EVAL_ARGS) or {}).get("num_steps"),
            "hyperparameters": json_value(execution, CUSTOM_CONFIG),
            "module": module.split("@", 1)[0],
            "code_fingerprint": code.group(1) if code else None,
            "model_artifact_id": model.id, "model": model.uri,
            # The TFLite op assessment and variant sizes the platform's Trainer recorded.
            TFLITE_OP_DECISION: value(model, TFLITE_OP_DECISION),
            TFLITE_BUILTIN_OPS: value(model, TFLITE_BUILTIN_OPS),
            TFLITE_SELECT_TF_OPS: value(model, TFLITE_SELECT_TF_OPS) or None,
            TFLITE_VARIANT_SIZES: json_value(model, TFLITE_VARIANT_SIZES),
            TFLITE_SKIPPED_REASON: value(model, TFLITE_SKIPPED_REASON)}


def _scored(evaluation) -> dict[str, str]:
    """How many examples a TFLite Evaluator scored of how many there were; nothing for the
    SavedModel Evaluator, which scores every example."""
    counts = metadata.examples_scored(evaluation)
    return {} if counts is None else {"examples_scored": f"{counts[0]:,} of {counts[1]:,}"}


def _variants_evaluator(execution: Execution, first: Artifacts) -> dict[str, Any]:
    # Sizes and the primary metric of each are filled in from the BlessingGate's record.
    verdicts = json_value(first["blessing"], VARIANT_VERDICTS) or {}
    return {"model_format": "TFLite variants",
            "variants": {v: {"eligible": bool(ok)} for v, ok in verdicts.items()},
            "evaluation": first["evaluation"].uri, **_scored(first["evaluation"])}


def _gate_evaluator(model_format: str):
    def details(execution: Execution, first: Artifacts) -> dict[str, Any]:
        # Metrics are filled in from the BlessingGate's record (see _add_metrics).
        blessing = first["blessing"]
        return {"model_format": model_format, BLESSED: value(blessing, BLESSED) == 1,
                "baseline_model_artifact_id": value(blessing, BASELINE_MODEL_ID),
                "evaluation": first["evaluation"].uri, **_scored(first["evaluation"])}
    return details


def _blessing_gate(execution: Execution, first: Artifacts) -> dict[str, Any]:
    blessing = first["blessing"]
    found = {BLESSED: value(blessing, BLESSED) == 1,
             GATE_METRICS: [g["name"] for g in json_value(blessing, GATE_METRICS) or []]}
    for _, prefix in GATE_EVALUATORS.values():
        for suffix in GATE_SUFFIXES:
            key = gate_key(prefix, suffix)
            found[key] = (value(blessing, key) if suffix == FAILURES_SUFFIX
                          else json_value(blessing, key))
    found[MOBILE_VARIANT] = value(blessing, MOBILE_VARIANT)
    found[TFLITE_VARIANT_RESULTS] = json_value(blessing, TFLITE_VARIANT_RESULTS)
    found[TFLITE_ELIGIBLE_VARIANTS] = value(blessing, TFLITE_ELIGIBLE_VARIANTS)
    found[TFLITE_REFUSED_VARIANTS] = value(blessing, TFLITE_REFUSED_VARIANTS) or None
    return found


def _pusher(execution: Execution, first: Artifacts) -> dict[str, Any]:
    pushed = first["pushed_model"]
    return {PUSHED: value(pushed, PUSHED) == 1, "version": value(pushed, PUSHED_VERSION),
            "destinations": json_value(pushed, PUSHED_DESTINATIONS) or {}}


def _import_schema_gen(execution: Execution, first: Artifacts) -> dict[str, Any]:
    # The curated schema, as a copy named by its sha256 (pipelines/runner_args.py).
    source = value(execution, SCHEMA_FILE) or ""
    digest = re.search(r"sha256-([0-9a-f]+)", source)
    return {"schema": first["schema"].uri, "curated": True, SCHEMA_FILE: source,
            "schema_sha256": digest.group(1) if digest else None}


def _data_gate(execution: Execution, first: Artifacts) -> dict[str, Any]:
    result = first.get("result")
    if result is None:  # it stopped that run (a failed execution publishes no output)
        return {VERDICT: "stopped"}
    return {VERDICT: value(result, VERDICT),
            ACCEPT_DRIFT: value(result, ACCEPT_DRIFT) == 1,
            DRIFT: json_value(result, DRIFT),
            PROBLEMS: json_value(result, PROBLEMS) or None,
            "previous_statistics": value(result, PREVIOUS_STATISTICS_URI) or None,
            "anomalies": result.uri}


DETAILS = {
    **{node: _example_gen for node in EXAMPLE_GENS},
    "StatisticsGen": lambda e, first: {"statistics": first["statistics"].uri},
    "SchemaGen": lambda e, first: {"schema": first["schema"].uri, "curated": False},
    "ImportSchemaGen": _import_schema_gen,
    "ExampleValidator": lambda e, first: {
        "anomaly_free_splits": value(first["anomalies"], BLESSED) or {},
        "anomalies": first["anomalies"].uri},
    DATA_GATE_ID: _data_gate,
    "Transform": lambda e, first: {"transform_graph": first["transform_graph"].uri},
    TRAINER_ID: _trainer,
    **{node: _gate_evaluator(model_format) for node, (model_format, _) in GATE_EVALUATORS.items()},
    VARIANTS_EVALUATOR_ID: _variants_evaluator,
    BLESSING_GATE_ID: _blessing_gate,
    PUSHER_ID: _pusher,
}


def _details(reader: metadata.GraphReader, node_id: str, execution: Execution,
             inputs: dict[str, list[int]], outputs: dict[str, list[int]]) -> dict[str, Any]:
    if node_id not in DETAILS:
        return {}
    first = {key: reader.artifact(ids[0]) for key, ids in {**inputs, **outputs}.items() if ids}
    return DETAILS[node_id](execution, first)


def _find_target(reader: metadata.GraphReader, artifact_id: Optional[int], version: Optional[str],
                 path: Optional[str]) -> metadata_store_pb2.Artifact:
    store = reader.store
    if artifact_id is not None:
        try:
            return reader.artifact(artifact_id)
        except ValueError:
            raise LineageError(f"no artifact with id {artifact_id} in ML Metadata") from None
    pushes = sorted((a for a in metadata.artifacts_by_type(store, "PushedModel")
                     if metadata.property_value(a, PUSHED) == 1), key=lambda a: a.id, reverse=True)
    if version is not None:
        pushes = [a for a in pushes
                  if str(metadata.property_value(a, PUSHED_VERSION)) == str(version)]
        if not pushes:
            raise LineageError(f"no pushed model has version {version}")
    elif path is not None:
        wanted = path.rstrip("/")
        if "://" not in wanted:
            wanted = os.path.abspath(wanted)

        def published_at(artifact) -> bool:
            places = (metadata.json_property(artifact, PUSHED_DESTINATIONS) or {}).values()
            return any(wanted == p or wanted.startswith(p.rstrip("/") + "/") for p in places)

        pushes = [a for a in pushes if published_at(a)]
        if not pushes:
            raise LineageError(f"no pushed model was published at {path}")
    elif not pushes:
        raise LineageError("no model has been pushed yet")
    # The newest version among the matches; of its pushes, the first: a later run that found the
    # same model already published records the same version without having made it.
    newest = max(pushes, key=lambda a: int(metadata.property_value(a, PUSHED_VERSION) or 0))
    same = [a for a in pushes if metadata.property_value(a, PUSHED_VERSION)
            == metadata.property_value(newest, PUSHED_VERSION)]
    return min(same, key=lambda a: a.id)


def _step(reader: metadata.GraphReader, execution_id: int) -> Step:
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
    reader = metadata.GraphReader(store, pipeline_name)
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
        target_info[PUSHED_VERSION] = metadata.property_value(target, PUSHED_VERSION)
    return Lineage(target_info, ordered, artifacts)


def _add_metrics(steps: list[Step]) -> None:
    """Puts each Evaluator's configured metrics (and the baseline's, on the same examples, and
    the change of each) beside it, from what the BlessingGate recorded."""
    gates = [s for s in steps if s.node_id == BLESSING_GATE_ID]
    if not gates:
        return
    gate = gates[0].details
    # Each TFLite variant's primary metric and size go beside its verdict.
    variants = gate.pop(TFLITE_VARIANT_RESULTS, None) or {}
    recorded = {prefix: {suffix: gate.pop(gate_key(prefix, suffix), None)
                         for suffix in GATE_SUFFIXES}
                for _, prefix in GATE_EVALUATORS.values()}
    for step in steps:
        if step.node_id == VARIANTS_EVALUATOR_ID:
            for name, verdict in step.details["variants"].items():
                recorded_variant = variants.get(name, {})
                verdict[recorded_variant.get("metric", "value")] = recorded_variant.get("value")
                verdict["size_bytes"] = recorded_variant.get("size_bytes")
        if step.node_id in GATE_EVALUATORS:
            found = recorded[GATE_EVALUATORS[step.node_id][1]]
            metrics, baseline = found[METRICS_SUFFIX] or {}, found[BASELINE_METRICS_SUFFIX] or {}
            metrics.pop("example_count", None)
            step.details["metrics"] = metrics
            step.details["baseline_metrics"] = baseline or None
            step.details["change"] = ({k: v - baseline[k] for k, v in metrics.items()
                                       if k in baseline} or None)
            step.details["slices"] = found[SLICE_METRICS_SUFFIX]
            step.details["failed"] = found[FAILURES_SUFFIX]



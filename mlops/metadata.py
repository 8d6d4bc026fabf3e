"""ML Metadata: the connection, and what a person wants to know about runs from it."""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

PIPELINE_RUN_CONTEXT = "pipeline_run"
NODE_CONTEXT = "node"
STATE_NAMES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}


def sqlite_connection_config(path: str) -> metadata_store_pb2.ConnectionConfig:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return config


def sqlite_store(path: str) -> metadata_store.MetadataStore:
    return metadata_store.MetadataStore(sqlite_connection_config(path))


@dataclasses.dataclass
class ExecutionRecord:
    node_id: str
    execution_id: int
    state: str
    seconds: float
    outputs: dict[str, list[metadata_store_pb2.Artifact]]


def _node_id(store: metadata_store.MetadataStore, execution_id: int, pipeline_name: str) -> str:
    for context in store.get_contexts_by_execution(execution_id):
        if store.get_context_types_by_id([context.type_id])[0].name == NODE_CONTEXT:
            return context.name.removeprefix(pipeline_name + ".")
    return "?"


def pipeline_runs(store: metadata_store.MetadataStore, pipeline_name: str
                  ) -> list[metadata_store_pb2.Context]:
    """The runs of `pipeline_name`, oldest first."""
    runs = [c for c in store.get_contexts_by_type(PIPELINE_RUN_CONTEXT)
            if any(p.name == pipeline_name for p in store.get_parent_contexts_by_context(c.id))]
    return sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))


def run_executions(store: metadata_store.MetadataStore, run: metadata_store_pb2.Context,
                   pipeline_name: str) -> list[ExecutionRecord]:
    """The executions of one run in the order they started, with their output artifacts."""
    records = []
    executions = sorted(store.get_executions_by_context(run.id),
                        key=lambda e: (e.create_time_since_epoch, e.id))
    for execution in executions:
        events = store.get_events_by_execution_ids([execution.id])
        output_ids = {}
        for event in events:
            if event.type in (metadata_store_pb2.Event.OUTPUT,
                              metadata_store_pb2.Event.DECLARED_OUTPUT):
                key = event.path.steps[0].key if event.path.steps else "?"
                output_ids.setdefault(key, []).append(event.artifact_id)
        outputs = {key: store.get_artifacts_by_id(ids) for key, ids in output_ids.items()}
        records.append(ExecutionRecord(
            node_id=_node_id(store, execution.id, pipeline_name),
            execution_id=execution.id,
            state=STATE_NAMES.get(execution.last_known_state, "UNKNOWN"),
            seconds=(execution.last_update_time_since_epoch
                     - execution.create_time_since_epoch) / 1000.0,
            outputs=outputs,
        ))
    return records


def latest_run(store: metadata_store.MetadataStore, pipeline_name: str
               ) -> Optional[metadata_store_pb2.Context]:
    runs = pipeline_runs(store, pipeline_name)
    return runs[-1] if runs else None


def custom_property(artifact: metadata_store_pb2.Artifact, key: str):
    """A custom property's value, whatever its type; None if absent."""
    if key not in artifact.custom_properties:
        return None
    value = artifact.custom_properties[key]
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None

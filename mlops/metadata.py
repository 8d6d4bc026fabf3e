"""ML Metadata: the connection, and what a person wants to know about runs from it.

The store is named by one URL (config key `metadata`, env MLOPS_METADATA, flag --metadata):
`sqlite:///path/metadata.sqlite` or `mysql://user[:password]@host[:port]/database`. The MySQL
password may instead come from MLOPS_METADATA_PASSWORD or a file (MLOPS_METADATA_PASSWORD_FILE,
config key `metadata_password_file`); it never appears in logs or messages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
from typing import Mapping, Optional
from urllib.parse import unquote, urlsplit

from ml_metadata import errors, metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.common.names import (
    BASELINE_MODEL_ID,
    BLESSED,
    CURRENT_MODEL_ID,
    EXAMPLES_AVAILABLE,
    EXAMPLES_EVALUATED,
    PUSHED,
    SAVED_MODEL_BLESSING,
    SPAN,
    TFLITE_BLESSING,
    TFLITE_ON_DEVICE_TRAINING,
    VERSION,
)

# Two kinds of store: TFX's local runner records `pipeline`, `pipeline_run` and `node` contexts;
# Kubeflow Pipelines v2 (backend/src/v2/metadata/client.go) records `system.Pipeline` and
# `system.PipelineRun` contexts, the node id as each execution's `task_name`, artifact types named
# by schema title (`tfx.Model`) and every artifact property as a custom property (numbers as
# doubles). The readers below answer for either kind.
PIPELINE_RUN_CONTEXT = "pipeline_run"
NODE_CONTEXT = "node"
KFP_PIPELINE_CONTEXT = "system.Pipeline"
KFP_PIPELINE_RUN_CONTEXT = "system.PipelineRun"
KFP_DAG_EXECUTION = "system.DAGExecution"
KFP_TYPE_PREFIX = "tfx."
# Properties the local store holds as ints, which KFP records as doubles (span 2.0, blessed 1.0).
INTEGER_PROPERTIES = {SPAN, VERSION, BLESSED, PUSHED, SAVED_MODEL_BLESSING, TFLITE_BLESSING,
                      TFLITE_ON_DEVICE_TRAINING, EXAMPLES_AVAILABLE, EXAMPLES_EVALUATED}
# Artifact ids a component recorded; KFP may hold them as strings ("13") or doubles.
ID_PROPERTIES = {CURRENT_MODEL_ID, BASELINE_MODEL_ID}
STATE_NAMES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}
# Set by the CLI on a run's context when the run was interrupted (TFX records nothing then).
RUN_STATUS_PROPERTY = "mlops_status"


class MetadataError(RuntimeError):
    """The metadata store cannot be used; the message names host and database, never secrets."""


@dataclasses.dataclass(frozen=True)
class MetadataTarget:
    kind: str  # "sqlite" | "mysql"
    path: str = ""
    host: str = ""
    port: int = 3306
    database: str = ""
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)

    def describe(self) -> str:
        """Where the store is, safe to print (no password)."""
        if self.kind == "sqlite":
            return f"sqlite://{self.path}"
        return f"mysql://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_url(url: str, password_file: str = "",
              environ: Optional[Mapping[str, str]] = None) -> MetadataTarget:
    """Parses a metadata URL; for MySQL the password comes from the URL, the environment
    (MLOPS_METADATA_PASSWORD) or a file, in that order."""
    environ = os.environ if environ is None else environ
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if not path.startswith("/"):
            raise MetadataError(f"metadata URL must be sqlite:///ABSOLUTE/PATH, got {url!r}")
        return MetadataTarget("sqlite", path=path)
    if url.startswith("mysql://"):
        parts = urlsplit(url)
        database = parts.path.lstrip("/")
        try:
            port = parts.port or 3306
        except ValueError:
            raise MetadataError("metadata URL has an invalid port") from None
        if not parts.hostname or not database or not parts.username:
            raise MetadataError("metadata URL must be mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE "
                                f"(got host {parts.hostname!r}, database {database!r})")
        password = unquote(parts.password or "") or environ.get("MLOPS_METADATA_PASSWORD", "")
        password_file = password_file or environ.get("MLOPS_METADATA_PASSWORD_FILE", "")
        if not password and password_file:
            try:
                with open(password_file) as handle:
                    password = handle.read().strip()
            except OSError as err:
                raise MetadataError(f"metadata password file {password_file}: "
                                    f"{err.strerror}") from None
        return MetadataTarget("mysql", host=parts.hostname, port=port, database=database,
                              user=unquote(parts.username), password=password)
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise MetadataError(f"metadata URL must start with sqlite:// or mysql://, got {scheme!r}")


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, for printing."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def connection_config(target: MetadataTarget) -> metadata_store_pb2.ConnectionConfig:
    if target.kind == "sqlite":
        return sqlite_connection_config(target.path)
    config = metadata_store_pb2.ConnectionConfig()
    config.mysql.host = target.host
    config.mysql.port = target.port
    config.mysql.database = target.database
    config.mysql.user = target.user
    config.mysql.password = target.password
    # The database is provisioned (Terraform, `make mysql-up`); a typo must not create a new one.
    config.mysql.skip_db_creation = True
    return config


@contextlib.contextmanager
def _quiet_stderr():
    """MLMD's C++ client logs a misleading hint (MySQL 8 auth plugins) on any failed connect."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def open_store(target: MetadataTarget, connect_timeout: float = 10.0
               ) -> metadata_store.MetadataStore:
    """Connects, turning every way it fails into one MetadataError naming host and database."""
    if target.kind == "sqlite":
        return sqlite_store(target.path)
    where = f"MySQL at {target.host}:{target.port}, database '{target.database}'"
    try:  # MLMD's own client reports an unreachable server as an empty error, after its timeout
        with socket.create_connection((target.host, target.port), timeout=connect_timeout):
            pass
    except OSError as err:
        reason = "timed out" if isinstance(err, socket.timeout) else (err.strerror or str(err))
        raise MetadataError(f"cannot reach ML Metadata on {where}: {reason}") from None
    try:
        with _quiet_stderr():
            return metadata_store.MetadataStore(connection_config(target))
    except Exception as err:  # MLMD raises RuntimeError (or its own errors) with C-level text
        text = str(err).replace(target.password, "***") if target.password else str(err)
        if "Access denied" in text and "to database" in text:
            raise MetadataError(f"ML Metadata on {where}: the database does not exist or user "
                                f"'{target.user}' may not use it") from None
        if "mysql_real_connect failed" in text:
            raise MetadataError(f"ML Metadata on {where}: login refused for user "
                                f"'{target.user}' (wrong password?)") from None
        raise MetadataError(f"ML Metadata on {where}: {text.splitlines()[0]}") from None


def sqlite_connection_config(path: str) -> metadata_store_pb2.ConnectionConfig:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE)
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
    kind: str = ""  # the execution type: a TFX component's, or system.ContainerExecution, ...


def context_names(store: metadata_store.MetadataStore, execution_id: int,
                  context_types: Optional[Mapping[int, str]] = None) -> dict[str, str]:
    """The execution's contexts, context type name -> context name."""
    contexts = store.get_contexts_by_execution(execution_id)
    if context_types is None:
        ids = sorted({c.type_id for c in contexts})
        context_types = {t.id: t.name for t in store.get_context_types_by_id(ids)} if ids else {}
    return {context_types.get(c.type_id, ""): c.name for c in contexts}


def node_id(execution: metadata_store_pb2.Execution, contexts: Mapping[str, str],
            pipeline_name: str) -> str:
    """The pipeline node an execution ran: KFP's `task_name`, or TFX's `node` context."""
    if "task_name" in execution.custom_properties:
        return execution.custom_properties["task_name"].string_value or "?"
    node = contexts.get(NODE_CONTEXT)
    return node.removeprefix(pipeline_name + ".") if node else "?"


def run_name(contexts: Mapping[str, str]) -> str:
    """The run an execution belongs to (TFX `pipeline_run` or KFP `system.PipelineRun`)."""
    return contexts.get(PIPELINE_RUN_CONTEXT) or contexts.get(KFP_PIPELINE_RUN_CONTEXT) or "?"


def artifact_type_name(type_name: str) -> str:
    """An artifact type as TFX names it: KFP's schema title `tfx.Model` is `Model`."""
    return type_name.removeprefix(KFP_TYPE_PREFIX)


def artifacts_by_type(store: metadata_store.MetadataStore, type_name: str
                      ) -> list[metadata_store_pb2.Artifact]:
    """Artifacts of a TFX type (`PushedModel`), under its TFX name or KFP's `tfx.` title."""
    found = []
    for name in (type_name, KFP_TYPE_PREFIX + type_name):
        try:
            found += store.get_artifacts_by_type(name)
        except errors.NotFoundError:  # an unknown type, on MLMD versions that raise
            continue
    return found


def _kfp_runs(store: metadata_store.MetadataStore, pipeline_name: str
              ) -> list[metadata_store_pb2.Context]:
    """KFP runs of the pipeline: a child of its system.Pipeline context, or with executions
    associated with that context."""
    try:
        pipeline = store.get_context_by_type_and_name(KFP_PIPELINE_CONTEXT, pipeline_name)
        candidates = store.get_contexts_by_type(KFP_PIPELINE_RUN_CONTEXT)
    except errors.NotFoundError:  # no KFP context types in a TFX store, on some MLMD versions
        return []
    if pipeline is None or not candidates:
        return []
    in_pipeline = {e.id for e in store.get_executions_by_context(pipeline.id)}
    runs = []
    for run in candidates:
        if any(p.id == pipeline.id for p in store.get_parent_contexts_by_context(run.id)) or \
                any(e.id in in_pipeline for e in store.get_executions_by_context(run.id)):
            runs.append(run)
    return runs


def pipeline_runs(store: metadata_store.MetadataStore, pipeline_name: str
                  ) -> list[metadata_store_pb2.Context]:
    """The runs of `pipeline_name` (TFX or KFP), oldest first."""
    runs = [c for c in store.get_contexts_by_type(PIPELINE_RUN_CONTEXT)
            if any(p.name == pipeline_name for p in store.get_parent_contexts_by_context(c.id))]
    runs += _kfp_runs(store, pipeline_name)
    return sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))


def run_executions(store: metadata_store.MetadataStore, run: metadata_store_pb2.Context,
                   pipeline_name: str) -> list[ExecutionRecord]:
    """The executions of one run in the order they started, with their output artifacts."""
    records = []
    executions = sorted(store.get_executions_by_context(run.id),
                        key=lambda e: (e.create_time_since_epoch, e.id))
    context_types = {t.id: t.name for t in store.get_context_types()}
    execution_types = {t.id: t.name for t in store.get_execution_types()}
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
            node_id=node_id(execution, context_names(store, execution.id, context_types),
                            pipeline_name),
            execution_id=execution.id,
            state=STATE_NAMES.get(execution.last_known_state, "UNKNOWN"),
            seconds=(execution.last_update_time_since_epoch
                     - execution.create_time_since_epoch) / 1000.0,
            outputs=outputs,
            kind=execution_types.get(execution.type_id, ""),
        ))
    return records


def last_durations(store: metadata_store.MetadataStore, pipeline_name: str,
                   runs_back: int = 5) -> dict[str, float]:
    """Seconds of each component's latest execution that did the work (COMPLETE, not CACHED),
    looking at the last `runs_back` runs: what the progress line's "time left" is based on."""
    found: dict[str, float] = {}
    for run in reversed(pipeline_runs(store, pipeline_name)[-runs_back:]):
        for record in run_executions(store, run, pipeline_name):
            if record.state == "COMPLETE":
                found.setdefault(record.node_id, record.seconds)
    return found


def latest_run(store: metadata_store.MetadataStore, pipeline_name: str
               ) -> Optional[metadata_store_pb2.Context]:
    runs = pipeline_runs(store, pipeline_name)
    return runs[-1] if runs else None


def plain_value(key: str, value: metadata_store_pb2.Value):
    """A property value as the local store presents it: a struct as a dict, and the ints KFP
    records as doubles (span 2.0) or id strings ("13") as ints."""
    kind = value.WhichOneof("value")
    if not kind:
        return None
    if kind == "struct_value":
        from google.protobuf import json_format

        return json_format.MessageToDict(value.struct_value)
    found = getattr(value, kind)
    if kind == "double_value" and (key in INTEGER_PROPERTIES or key in ID_PROPERTIES) \
            and found.is_integer():
        return int(found)
    if kind == "string_value" and key in ID_PROPERTIES and found.isdigit():
        return int(found)
    return found


def property_value(message, key: str):
    """A property or custom property of an artifact or execution, as a plain value. A KFP
    execution holds its parameters in one struct, `inputs`: looked up there too."""
    for field in (message.properties, message.custom_properties):
        if key in field:
            return plain_value(key, field[key])
    if isinstance(message, metadata_store_pb2.Execution) and "inputs" in message.custom_properties:
        return (plain_value("inputs", message.custom_properties["inputs"]) or {}).get(key)
    return None


def examples_scored(evaluation) -> Optional[tuple[int, int]]:
    """(scored, available) when an Evaluator scored a sample of its examples
    (components/evaluation: the TFLite Evaluators), else None (the SavedModel Evaluator)."""
    scored = property_value(evaluation, EXAMPLES_EVALUATED)
    available = property_value(evaluation, EXAMPLES_AVAILABLE)
    return None if scored is None or available is None else (scored, available)


def json_property(message, key: str):
    raw = property_value(message, key)
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw


class GraphReader:
    """MLMD lookups with the small caches a walk over the graph needs (lineage, reports)."""

    def __init__(self, store: metadata_store.MetadataStore, pipeline_name: str):
        self.store = store
        self.pipeline_name = pipeline_name
        self.context_types = {t.id: t.name for t in store.get_context_types()}
        self.artifact_types = {t.id: artifact_type_name(t.name)
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
        return context_names(self.store, execution_id, self.context_types)

    def node_id(self, execution_id: int) -> str:
        return node_id(self.execution(execution_id), self.contexts(execution_id),
                                self.pipeline_name)

    def producer(self, artifact_id: int) -> Optional[int]:
        """The execution that wrote the artifact (not a cached execution that reused it)."""
        events = [e for e in self.store.get_events_by_artifact_ids([artifact_id])
                  if e.type in (metadata_store_pb2.Event.OUTPUT,
                                metadata_store_pb2.Event.DECLARED_OUTPUT)]
        if not events:
            return None
        executions = self.store.get_executions_by_id([e.execution_id for e in events])
        executions.sort(key=lambda e: (e.last_known_state == metadata_store_pb2.Execution.CACHED,
                                       e.id))
        return executions[0].id

    def consumers(self, artifact_id: int) -> list[int]:
        return sorted({e.execution_id for e in self.store.get_events_by_artifact_ids([artifact_id])
                       if e.type in (metadata_store_pb2.Event.INPUT,
                                                  metadata_store_pb2.Event.DECLARED_INPUT)})

    def events(self, execution_id: int, kinds) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for event in self.store.get_events_by_execution_ids([execution_id]):
            if event.type in kinds:
                key = event.path.steps[0].key if event.path.steps else "?"
                found.setdefault(key, []).append(event.artifact_id)
        return found

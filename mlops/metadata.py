"""ML Metadata: the connection, and what a person wants to know about runs from it.

The store is named by one URL (config key `metadata`, env MLOPS_METADATA, flag --metadata):
`sqlite:///path/metadata.sqlite` or `mysql://user[:password]@host[:port]/database`. The MySQL
password may instead come from MLOPS_METADATA_PASSWORD or a file (MLOPS_METADATA_PASSWORD_FILE,
config key `metadata_password_file`); it never appears in logs or messages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from typing import Mapping, Optional
from urllib.parse import unquote, urlsplit

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

PIPELINE_RUN_CONTEXT = "pipeline_run"
NODE_CONTEXT = "node"
STATE_NAMES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}


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

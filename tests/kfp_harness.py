"""A stand-in for open-source Kubeflow Pipelines v2 (2.0-2.17) that runs a compiled PipelineSpec
locally, as strict as KFP's API server, driver and launcher.

What it does as KFP does (kubeflow/pipelines, backend/src/v2):
- Run creation (`compiler/visitor.go`): only `container` and `importer` executors; anything else
  is refused before any task runs, with KFP's message. `lifecycle` hooks are never run.
- Driver: resolves each task's inputs. Parameters: constants, `taskOutputParameter` of a sibling,
  `componentInputParameter` of the enclosing DAG. Artifacts are read back from ML Metadata the way
  `GetOutputArtifactsByExecutionId` + `ToRuntimeArtifact` deliver them: `name` the MLMD id as a
  string, `type.instanceSchema` empty, `metadata` from the custom properties. An input with no
  artifact fails the task (KFP never hands over an empty list). Outputs: exactly one artifact per
  declared output, typed from the output definition, URI under the pipeline root.
- Cache (`cacheutils/cache.go`): a task with `cachingOptions.enableCache` is keyed on its input
  artifact names, input parameter values, output artifact types, output parameter names and
  types, image, command and args (placeholders unresolved); a hit is served from the earlier
  execution's outputs (the same MLMD artifacts) and recorded as CACHED, without launching. The
  cache persists across runs of the same pipeline (the API server's task table: a JSON file).
- Importer (`component/importer_launcher.go`): the URI is a constant or an input parameter of the
  enclosing DAG (a sibling's output is refused); with `reimport` off the artifact already held for
  that URI is returned.
- Scheduling: a task starts as soon as its dependencies are done, independent tasks at once.
- Launcher: substitutes `{{$}}` and fails on any placeholder it cannot resolve; downloads gs://
  input artifacts object by object into /gcs/<bucket>/… as `objectstore.DownloadBlob` does (a
  zero-byte `dir/` marker becomes a file, as on a cluster); runs the command with KFP_POD_NAME set;
  reads the ExecutorOutput (artifact metadata, output parameters); records executions, artifacts
  and events in ML Metadata: a `system.PipelineRun` context per run, `system.ContainerExecution` /
  `system.ImporterExecution` / `system.DAGExecution` executions with task_name, artifacts typed by
  schema title (`tfx.Model`), INPUT/OUTPUT events keyed by input/output name.

After each run it prints a line per task: its state, how long the task's imports took (the line
components.common.kfp_io.report_imports writes to the task's log) and its total time.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Optional

import yaml
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

from components.common.kfp_io import IMPORTS_DONE

PIPELINE_RUN = "system.PipelineRun"
PIPELINE = "system.Pipeline"
CONTAINER_EXECUTION = "system.ContainerExecution"
IMPORTER_EXECUTION = "system.ImporterExecution"
DAG_EXECUTION = "system.DAGExecution"
# compiler/visitor.go
NOT_IMPLEMENTED = "non-container and non-importer executor not implemented"


class KfpRefused(RuntimeError):
    """KFP would refuse the run (or fail the task) this way."""


@dataclasses.dataclass
class TaskRun:
    name: str
    state: str  # COMPLETE | CACHED
    execution_id: int
    seconds: float
    outputs: dict[str, list[dict[str, Any]]]  # as a downstream task would receive them
    parameters: dict[str, Any]
    import_seconds: Optional[float] = None  # as the task reported it (launched tasks only)

    def summary(self) -> str:
        imports = "-" if self.import_seconds is None else f"{self.import_seconds:.2f} s"
        return f"{self.name:<28} {self.state:<9} imports {imports:>8}  total {self.seconds:.2f} s"


def _schema_title(artifact_type: dict) -> str:
    if artifact_type.get("schemaTitle"):
        return artifact_type["schemaTitle"]
    return yaml.safe_load(artifact_type["instanceSchema"])["title"]


def _order(tasks: dict[str, dict], importers: set[str] = frozenset()) -> list[str]:
    """Dependency order. Importer tasks first: KFP's Argo compiler gives them no `Depends`, so
    they start at once whatever `dependentTasks` says (argocompiler importerTask)."""
    done: list[str] = []
    pending = dict(tasks)
    while pending:
        ready = sorted(n for n, t in pending.items()
                       if n in importers or set(t.get("dependentTasks", [])) <= set(done))
        if not ready:
            raise KfpRefused(f"dependency cycle among {sorted(pending)}")
        done += ready
        for name in ready:
            del pending[name]
    return done


def _value(value: mlmd.Value) -> Any:
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format
        return json_format.MessageToDict(value.struct_value)
    return getattr(value, kind) if kind else None


def _set_value(target: mlmd.Value, value: Any) -> None:
    """toMLMDArtifact: strings and numbers (as doubles) as they are, bools as ints 1/0, lists
    and dicts wrapped as {"list": ...} / {"struct": ...}; null is an error."""
    if value is None:
        raise KfpRefused("an artifact metadata value is null")
    if isinstance(value, bool):
        target.int_value = int(value)
    elif isinstance(value, (int, float)):
        target.double_value = float(value)
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, (list, tuple)):
        target.struct_value.update({"list": list(value)})
    else:
        target.struct_value.update({"struct": value})


def _public(artifact: dict) -> dict:
    """A RuntimeArtifact as a task sees it (without the harness's own `_id`)."""
    return {k: v for k, v in artifact.items() if k != "_id"}


def _session_info(uri: str) -> str:
    """store_session_info as the launcher and the importer both record it."""
    provider = uri.split("://", 1)[0] if "://" in uri else "local"
    return json.dumps({"Provider": provider, "Params": {"fromEnv": "true"}}, sort_keys=True)


def _import_seconds(log: str) -> Optional[float]:
    found = re.search(rf"^{IMPORTS_DONE} ([0-9.]+) s", log, re.MULTILINE)
    return float(found.group(1)) if found else None


def download_blob(uri: str, local_root: Path, client=None) -> Path:
    """objectstore.DownloadBlob: every object under the URI to <local_root>/<bucket>/<key>/…, one
    file per object. A zero-byte `dir/` marker becomes a file named `dir`, so the directory's
    children then fail with "not a directory", as in the launcher (kubeflow/pipelines#13476)."""
    from google.cloud import storage

    client = client or storage.Client()
    bucket_name, _, key = uri[len("gs://"):].partition("/")
    local_dir = Path(local_root, bucket_name, key)
    for blob in client.list_blobs(bucket_name, prefix=key):
        target = Path(os.path.normpath(local_dir / os.path.relpath(blob.name, key)))
        os.makedirs(target.parent, exist_ok=True)  # like os.MkdirAll: fails on a file
        blob.download_to_filename(str(target))
    return local_dir


class Harness:
    """One pipeline on one "cluster": a metadata store, a pipeline root and a persistent cache."""

    def __init__(self, spec_path: str, pipeline_root: str,
                 connection_config: mlmd.ConnectionConfig, cache_file: str,
                 python: str = sys.executable, env: dict | None = None,
                 log_dir: str | None = None, gcs_local_root: str | None = None):
        self.spec = yaml.safe_load(Path(spec_path).read_text())
        self.root = pipeline_root
        self.store = metadata_store.MetadataStore(connection_config)
        self.cache_file = Path(cache_file)
        self.python = python
        self.env = {**os.environ, **(env or {})}
        self.log_dir = Path(log_dir or os.path.join(pipeline_root, "_harness_logs"))
        # Where the launcher's /gcs/ mount lives here (a cluster has /gcs in every pod).
        self.gcs_local_root = gcs_local_root
        self.pipeline_name = self.spec["pipelineInfo"]["name"]
        self._types: dict[str, int] = {}
        self._lock = threading.Lock()
        self.validate()

    # ---- run creation -------------------------------------------------------------------
    def validate(self) -> None:
        """What KFP's API server checks when a run is created (compiler/visitor.go)."""
        for label, executor in self.spec["deploymentSpec"]["executors"].items():
            if "container" not in executor and "importer" not in executor:
                raise KfpRefused(f"{NOT_IMPLEMENTED}: executor {label!r} is "
                                 f"{sorted(executor)}")

    def run(self, run_id: str | None = None) -> dict[str, TaskRun]:
        """One pipeline run; returns every task of the root DAG (and of nested DAGs, as
        'dag/task')."""
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_context = self._context(PIPELINE_RUN, self.run_id)
        self.pipeline_context = self._context(PIPELINE, self.pipeline_name)
        # GetPipeline: the run context is a child of the pipeline context.
        self.store.put_parent_contexts([mlmd.ParentContext(
            child_id=self.run_context.id, parent_id=self.pipeline_context.id)])
        results: dict[str, TaskRun] = {}
        with self._lock:
            self._run_dag(self.spec["root"], {}, results, prefix="")
        print(f"KFP harness run {self.run_id}:", *(f"  {task.summary()}" for task in
                                                   results.values()), sep="\n", flush=True)
        return results

    # ---- DAGs ---------------------------------------------------------------------------
    def _run_dag(self, component: dict, dag_parameters: dict[str, Any],
                 results: dict[str, TaskRun], prefix: str) -> dict[str, TaskRun]:
        """Every task as soon as its dependencies are done, several at once, as Argo schedules
        KFP's DAG: independent tasks (the Evaluators) run concurrently. The harness's own
        bookkeeping (the driver, ML Metadata) holds `self._lock`; only the task's process runs
        outside it."""
        tasks = component["dag"]["tasks"]
        local: dict[str, TaskRun] = {}
        importers = {n for n, t in tasks.items() if "importer" in self.spec["deploymentSpec"][
            "executors"].get(self.spec["components"][t["componentRef"]["name"]].get(
                "executorLabel", ""), {})}
        order = _order(tasks, importers)  # refuses a cycle before anything runs
        pending = list(order)
        failures: list[BaseException] = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(tasks)) as pool:
            running: dict[concurrent.futures.Future, str] = {}
            while (pending and not failures) or running:
                for name in [n for n in pending if not failures and (
                        n in importers or set(tasks[n].get("dependentTasks", [])) <= set(local))]:
                    pending.remove(name)
                    running[pool.submit(self._locked, self._run_task, name, tasks[name], local,
                                        dag_parameters, results, prefix)] = name
                self._lock.release()
                try:
                    done, _ = concurrent.futures.wait(
                        running, return_when=concurrent.futures.FIRST_COMPLETED)
                finally:
                    self._lock.acquire()
                for future in done:
                    name = running.pop(future)
                    if future.exception() is not None:
                        failures.append(future.exception())
                        continue
                    local[name] = future.result()
                    results[prefix + name] = local[name]
        if failures:  # the run fails; tasks already running were let finish, as on Argo
            raise failures[0]
        return local

    def _locked(self, function, *args):
        with self._lock:
            return function(*args)

    def _run_task(self, name: str, task: dict, siblings: dict[str, TaskRun],
                  dag_parameters: dict, results: dict[str, TaskRun], prefix: str) -> TaskRun:
        child = self.spec["components"][task["componentRef"]["name"]]
        started = time.monotonic()
        parameters = self._input_parameters(name, task, child, siblings, dag_parameters)
        if "dag" in child:
            inner = self._run_dag(child, parameters, results, prefix=f"{prefix}{name}/")
            outputs = self._dag_outputs(child, inner)
            execution_id = self._record_dag(name, outputs)
            return TaskRun(name, "COMPLETE", execution_id, time.monotonic() - started,
                           outputs, {})
        executor = self.spec["deploymentSpec"]["executors"][child["executorLabel"]]
        artifacts = self._input_artifacts(name, task, siblings)
        if "importer" in executor:
            run = self._import(name, task, child, executor["importer"], parameters)
        else:
            run = self._container(name, task, child, executor["container"], parameters,
                                  artifacts)
        run.seconds = time.monotonic() - started
        return run

    @staticmethod
    def _dag_outputs(component: dict, inner: dict[str, TaskRun]) -> dict[str, list]:
        outputs = {}
        for key, spec in component["dag"].get("outputs", {}).get("artifacts", {}).items():
            (selector,) = spec["artifactSelectors"]
            outputs[key] = inner[selector["producerSubtask"]].outputs[
                selector["outputArtifactKey"]]
        return outputs

    # ---- the driver -----------------------------------------------------------------------
    def _input_parameters(self, name: str, task: dict, component: dict,
                          siblings: dict[str, TaskRun], dag_parameters: dict) -> dict[str, Any]:
        values = {}
        for key, spec in task.get("inputs", {}).get("parameters", {}).items():
            if "runtimeValue" in spec:
                if "constant" not in spec["runtimeValue"]:
                    raise KfpRefused(f"task {name}: parameter {key} has no constant (schema 2.1 "
                                     f"needs runtimeValue.constant): {spec}")
                values[key] = spec["runtimeValue"]["constant"]
            elif "taskOutputParameter" in spec:
                source = spec["taskOutputParameter"]
                producer = siblings[source["producerTask"]]
                if source["outputParameterKey"] not in producer.parameters:
                    raise KfpRefused(f"task {name}: {source['producerTask']} produced no output "
                                     f"parameter {source['outputParameterKey']}")
                values[key] = producer.parameters[source["outputParameterKey"]]
            elif "componentInputParameter" in spec:
                values[key] = dag_parameters[spec["componentInputParameter"]]
            else:
                raise KfpRefused(f"task {name}: cannot resolve parameter {key}: {spec}")
        declared = component.get("inputDefinitions", {}).get("parameters", {})
        for key in values:
            if key not in declared:
                raise KfpRefused(f"task {name}: parameter {key} is not in the component's "
                                 "input definitions")
        return values

    def _input_artifacts(self, name: str, task: dict, siblings: dict[str, TaskRun]
                         ) -> dict[str, list]:
        inputs = {}
        for key, spec in task.get("inputs", {}).get("artifacts", {}).items():
            source = spec["taskOutputArtifact"]
            listed = siblings[source["producerTask"]].outputs.get(source["outputArtifactKey"])
            if not listed:
                raise KfpRefused(f"task {name}: input {key}: {source['producerTask']} has no "
                                 f"output artifact {source['outputArtifactKey']}")
            # Read back from MLMD: what GetOutputArtifactsByExecutionId + ToRuntimeArtifact give.
            inputs[key] = [self._runtime_artifact(a["_id"]) for a in listed]
        return inputs

    def _runtime_artifact(self, artifact_id: int) -> dict[str, Any]:
        (artifact,) = self.store.get_artifacts_by_id([artifact_id])
        metadata = {k: _value(v) for k, v in artifact.custom_properties.items()}
        return {"name": str(artifact.id), "uri": artifact.uri,
                "type": {"instanceSchema": ""},  # TODO(Bobgy) in client.go: schema left empty
                "metadata": metadata, "_id": artifact.id}

    def _output_artifacts(self, name: str, component: dict) -> dict[str, list]:
        outputs = {}
        for key, definition in component.get("outputDefinitions", {}).get("artifacts",
                                                                            {}).items():
            uri = "/".join([self.root.rstrip("/"), self.pipeline_name, self.run_id, name,
                            uuid.uuid4().hex[:8], key])
            outputs[key] = [{"name": "", "uri": uri,
                             "type": {"schemaTitle": _schema_title(definition["artifactType"])},
                             "metadata": {}}]
        return outputs

    # ---- cache ----------------------------------------------------------------------------
    def _cache_key(self, inputs: dict, parameters: dict, outputs: dict, output_parameters: dict,
                   container: dict) -> str:
        key = {
            "inputArtifactNames": {k: {"artifactNames": [a["name"] for a in v]}
                                   for k, v in sorted(inputs.items())},
            "inputParameterValues": dict(sorted(parameters.items())),
            "outputArtifactsSpec": {k: {"type": v[0]["type"], "metadata": v[0]["metadata"]}
                                    for k, v in sorted(outputs.items())},
            "outputParametersSpec": dict(sorted(output_parameters.items())),
            "containerSpec": {"image": container.get("image", ""),
                              "cmdArgs": [*container.get("command", []),
                                          *container.get("args", [])]},
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()

    def _cache(self) -> dict:
        return json.loads(self.cache_file.read_text()) if self.cache_file.exists() else {}

    def _cache_put(self, fingerprint: str, execution_id: int) -> None:
        cache = self._cache()
        cache[f"pipeline/{self.pipeline_name}:{fingerprint}"] = execution_id
        self.cache_file.write_text(json.dumps(cache, indent=1))

    # ---- executors ------------------------------------------------------------------------
    def _container(self, name: str, task: dict, component: dict, container: dict,
                   parameters: dict, inputs: dict[str, list]) -> TaskRun:
        outputs = self._output_artifacts(name, component)
        output_parameters = {k: v["parameterType"] for k, v in component.get(
            "outputDefinitions", {}).get("parameters", {}).items()}
        fingerprint = self._cache_key(inputs, parameters, outputs, output_parameters, container)
        cached_id = None
        if task.get("cachingOptions", {}).get("enableCache"):
            cached_id = self._cache().get(f"pipeline/{self.pipeline_name}:{fingerprint}")
        if cached_id is not None:
            return self._reuse(name, cached_id, fingerprint, inputs, parameters)

        output_file = os.path.join(self.root, "_harness_outputs", self.run_id, name,
                                   "output_metadata.json")
        executor_input = {
            "inputs": {"artifacts": {k: {"artifacts": [_public(a) for a in v]}
                                     for k, v in inputs.items()},
                       "parameterValues": parameters},
            "outputs": {"artifacts": {k: {"artifacts": v} for k, v in outputs.items()},
                        "parameters": {k: {"outputFile": f"{output_file}.{k}"}
                                       for k in output_parameters},
                        "outputFile": output_file},
        }
        argv = [self._substitute(name, part, executor_input)
                for part in [*container.get("command", []), *container.get("args", [])]]
        if argv[0] == "python":  # the image's python; here, the harness's interpreter
            argv[0] = self.python
        for listed in inputs.values():
            for artifact in listed:
                self._download(name, artifact["uri"])
        execution = self._new_execution(CONTAINER_EXECUTION, name, fingerprint, parameters)
        self._events(execution, inputs, mlmd.Event.INPUT)
        log = self.log_dir / f"{self.run_id}-{name}.log"
        self._lock.release()  # the pod runs; other tasks may be scheduled meanwhile
        try:
            with open(log, "w") as handle:
                proc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env={
                    **self.env, "KFP_POD_NAME": f"{self.pipeline_name}-{self.run_id}-{name}",
                    "KFP_POD_UID": uuid.uuid4().hex})
        finally:
            self._lock.acquire()
        if proc.returncode != 0:
            self._finish(execution, mlmd.Execution.FAILED)
            tail = "\n".join(log.read_text().splitlines()[-30:])
            raise RuntimeError(f"task {name} exited {proc.returncode}; log {log}:\n{tail}")
        produced = self._read_output(output_file)
        for key, listed in produced.get("artifacts", {}).items():
            for artifact, reported in zip(outputs.get(key, []), listed.get("artifacts", [])):
                artifact["metadata"] = reported.get("metadata", {})
        out_parameters = dict(produced.get("parameterValues", {}))
        for key in output_parameters:
            if key not in out_parameters and os.path.exists(f"{output_file}.{key}"):
                out_parameters[key] = Path(f"{output_file}.{key}").read_text()
        missing = set(output_parameters) - set(out_parameters)
        if missing:
            self._finish(execution, mlmd.Execution.FAILED)
            raise KfpRefused(f"task {name} did not produce output parameters {sorted(missing)}")
        recorded = {key: [self._record_artifact(key, a) for a in listed]
                    for key, listed in outputs.items()}
        self._events(execution, recorded, mlmd.Event.OUTPUT)
        self._finish(execution, mlmd.Execution.COMPLETE, out_parameters)
        if task.get("cachingOptions", {}).get("enableCache"):
            self._cache_put(fingerprint, execution.id)
        return TaskRun(name, "COMPLETE", execution.id, 0.0, recorded, out_parameters,
                       _import_seconds(log.read_text()))

    def _reuse(self, name: str, cached_id: int, fingerprint: str, inputs: dict,
               parameters: dict) -> TaskRun:
        """driver.go reuseCachedOutputs: a CACHED execution with the earlier outputs."""
        (cached,) = self.store.get_executions_by_id([cached_id])
        outputs: dict[str, list] = {}
        for event in self.store.get_events_by_execution_ids([cached_id]):
            if event.type == mlmd.Event.OUTPUT:
                outputs.setdefault(event.path.steps[0].key, []).append(
                    self._runtime_artifact(event.artifact_id))
        out_parameters = _value(cached.custom_properties["outputs"]) \
            if "outputs" in cached.custom_properties else {}
        execution = self._new_execution(CONTAINER_EXECUTION, name, fingerprint, parameters)
        execution.custom_properties["cached_execution_id"].string_value = str(cached_id)
        self._events(execution, inputs, mlmd.Event.INPUT)
        self._events(execution, outputs, mlmd.Event.OUTPUT)
        self._finish(execution, mlmd.Execution.CACHED, out_parameters)
        return TaskRun(name, "CACHED", execution.id, 0.0, outputs, out_parameters)

    def _import(self, name: str, task: dict, component: dict, importer: dict,
                parameters: dict) -> TaskRun:
        uri_spec = importer["artifactUri"]
        if "constant" in uri_spec:
            uri = uri_spec["constant"]
        else:
            key = uri_spec["runtimeParameter"]
            source = task["inputs"]["parameters"].get(key, {})
            if "taskOutputParameter" in source:  # importer_launcher.go reads the DAG's inputs
                raise KfpRefused(f"importer {name}: artifact_uri comes from another task's "
                                 "output; KFP takes it only from the enclosing DAG's inputs")
            uri = parameters[key]
        title = _schema_title(importer["typeSchema"])
        wanted = {**importer.get("metadata", {}), "store_session_info": _session_info(uri)}
        execution = self._new_execution(IMPORTER_EXECUTION, name, "", {})
        matched = None if importer.get("reimport") else self._matching_artifact(uri, title, wanted)
        if matched is not None:
            artifact_id = matched
        else:
            artifact_id = self._record_artifact(None, {
                "uri": uri, "type": {"schemaTitle": title}, "metadata": wanted})["_id"]
        (output_key,) = component["outputDefinitions"]["artifacts"]  # an importer has one
        outputs = {output_key: [self._runtime_artifact(artifact_id)]}
        self._events(execution, outputs, mlmd.Event.OUTPUT)
        self._finish(execution, mlmd.Execution.COMPLETE)
        return TaskRun(name, "COMPLETE", execution.id, 0.0, outputs, {})

    def _matching_artifact(self, uri: str, title: str, wanted: dict) -> Optional[int]:
        """metadata/client.go FindMatchedArtifact: same type, LIVE, same URI, every wanted custom
        property equal, attributed to this pipeline's context; the first match wins."""
        type_id = self._artifact_type(title)
        in_pipeline = {a.id for a in self.store.get_artifacts_by_context(self.pipeline_context.id)}
        for candidate in sorted(self.store.get_artifacts_by_uri(uri), key=lambda a: a.id):
            if (candidate.type_id == type_id and candidate.state == mlmd.Artifact.LIVE
                    and candidate.id in in_pipeline
                    and all(k in candidate.custom_properties
                            and _value(candidate.custom_properties[k]) == v
                            for k, v in wanted.items())):
                return candidate.id
        return None

    # ---- launcher details -----------------------------------------------------------------
    @staticmethod
    def _substitute(name: str, part: str, executor_input: dict) -> str:
        part = part.replace("{{$}}", json.dumps(executor_input))
        leftover = re.search(r"\{\{\$[^}]*\}\}", part)
        if leftover:
            raise KfpRefused(f"task {name}: unresolvable placeholder {leftover.group(0)}")
        return part

    def _download(self, name: str, uri: str) -> None:
        if not uri.startswith("gs://") or self.gcs_local_root is None:
            return  # not a recognized remote URI: the launcher skips it
        try:
            download_blob(uri, Path(self.gcs_local_root, self.run_id, name))
        except OSError as err:
            raise KfpRefused(f"task {name}: failed to download input artifact from remote "
                             f"storage URI {uri}: {err}") from None

    @staticmethod
    def _read_output(path: str) -> dict:
        """The ExecutorOutput, parsed as strictly as the launcher (unknown fields fail); the
        file is optional."""
        from google.protobuf import json_format
        from kfp.pipeline_spec import pipeline_spec_pb2

        if not os.path.exists(path):
            return {}
        produced = json.loads(Path(path).read_text())
        try:
            json_format.ParseDict(produced, pipeline_spec_pb2.ExecutorOutput())
        except json_format.ParseError as err:
            raise KfpRefused(f"executor output {path} is not an ExecutorOutput: {err}") from None
        return produced

    # ---- ML Metadata, as backend/src/v2/metadata/client.go records it ---------------------
    def _context(self, type_name: str, name: str) -> mlmd.Context:
        type_id = self.store.put_context_type(mlmd.ContextType(name=type_name))
        found = self.store.get_context_by_type_and_name(type_name, name)
        if found:
            return found
        context = mlmd.Context(type_id=type_id, name=name)
        [context.id] = self.store.put_contexts([context])
        return context

    def _artifact_type(self, title: str) -> int:
        if title not in self._types:
            self._types[title] = self.store.put_artifact_type(mlmd.ArtifactType(name=title))
        return self._types[title]

    def _record_artifact(self, key: Optional[str], artifact: dict) -> dict:
        record = mlmd.Artifact(type_id=self._artifact_type(_schema_title(artifact["type"])),
                               uri=artifact["uri"], state=mlmd.Artifact.LIVE)
        for field, value in (artifact.get("metadata") or {}).items():
            _set_value(record.custom_properties[field], value)
        if key is not None:  # RecordArtifact's defaults, when the task set none; the importer
            defaults = {"display_name": key, "store_session_info": _session_info(artifact["uri"])}
            for field, value in defaults.items():
                if field not in record.custom_properties:
                    record.custom_properties[field].string_value = value
        [artifact_id] = self.store.put_artifacts([record])
        return self._runtime_artifact(artifact_id)

    def _new_execution(self, type_name: str, task_name: str, fingerprint: str,
                       parameters: dict) -> mlmd.Execution:
        type_id = self.store.put_execution_type(mlmd.ExecutionType(name=type_name))
        execution = mlmd.Execution(type_id=type_id, last_known_state=mlmd.Execution.RUNNING)
        execution.custom_properties["task_name"].string_value = task_name
        execution.custom_properties["display_name"].string_value = (
            "" if type_name == IMPORTER_EXECUTION else task_name)
        if type_name == CONTAINER_EXECUTION:
            execution.custom_properties["pod_name"].string_value = f"{self.run_id}-{task_name}"
        if fingerprint:
            execution.custom_properties["cache_fingerprint"].string_value = fingerprint
        if parameters:
            execution.custom_properties["inputs"].struct_value.update(parameters)
        [execution.id] = self.store.put_executions([execution])
        self.store.put_attributions_and_associations(
            [], [mlmd.Association(context_id=c.id, execution_id=execution.id)
                 for c in (self.run_context, self.pipeline_context)])
        return execution

    def _finish(self, execution: mlmd.Execution, state, out_parameters: Optional[dict] = None
                ) -> None:
        execution.last_known_state = state
        if out_parameters:
            execution.custom_properties["outputs"].struct_value.update(out_parameters)
        self.store.put_executions([execution])

    def _events(self, execution: mlmd.Execution, artifacts: dict[str, list], kind) -> None:
        events, attributions = [], []
        for key, listed in artifacts.items():
            for artifact in listed:
                event = mlmd.Event(artifact_id=artifact["_id"], execution_id=execution.id,
                                   type=kind)
                event.path.steps.add().key = key
                events.append(event)
                attributions += [mlmd.Attribution(context_id=c.id, artifact_id=artifact["_id"])
                                 for c in (self.run_context, self.pipeline_context)]
        if events:
            self.store.put_events(events)
            self.store.put_attributions_and_associations(attributions, [])

    def _record_dag(self, name: str, outputs: dict[str, list]) -> int:
        execution = self._new_execution(DAG_EXECUTION, name, "", {})
        self._events(execution, outputs, mlmd.Event.OUTPUT)
        self._finish(execution, mlmd.Execution.COMPLETE)
        return execution.id

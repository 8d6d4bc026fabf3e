"""Plays Kubeflow Pipelines' driver and launcher for a compiled PipelineSpec (schema 2.1), locally.

For each task in dependency order it builds the ExecutorInput KFP's driver would (input artifacts
from the producers' outputs, parameters in the 2.1 `parameterValues` form, output artifacts with a
`name`, the type copied from the component's output definition and a `uri` under the pipeline
root, `outputs.outputFile`), substitutes it for `{{$}}` in the task's own command and args, runs
that as a subprocess and reads the ExecutorOutput it writes, as KFP's launcher does. Like
open-source KFP it ignores `lifecycle` hooks. Resolver tasks (MLMD queries on a cluster) are
answered from the artifacts this harness has produced, with the same filters.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml


@dataclasses.dataclass
class TaskRun:
    name: str
    seconds: float
    outputs: dict[str, list[dict[str, Any]]]


def _schema_title(artifact_type: dict) -> str:
    if "schemaTitle" in artifact_type:
        return artifact_type["schemaTitle"]
    return yaml.safe_load(artifact_type["instanceSchema"])["title"]


def _order(tasks: dict[str, dict]) -> list[str]:
    done: list[str] = []
    pending = dict(tasks)
    while pending:
        ready = sorted(n for n, t in pending.items()
                       if set(t.get("dependentTasks", [])) <= set(done))
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(pending)}")
        done += ready
        for name in ready:
            del pending[name]
    return done


class Harness:
    def __init__(self, spec_path: str, pipeline_root: str, python: str = sys.executable,
                 env: dict | None = None, log_dir: str | None = None):
        self.spec = yaml.safe_load(Path(spec_path).read_text())
        self.root = pipeline_root
        self.python = python
        self.env = {**os.environ, **(env or {})}
        self.log_dir = Path(log_dir or os.path.join(pipeline_root, "_harness_logs"))
        self.history: list[dict[str, Any]] = []  # every artifact produced, oldest first
        self._ids = iter(range(1, 1_000_000))

    def run(self) -> dict[str, TaskRun]:
        tasks = self.spec["root"]["dag"]["tasks"]
        results: dict[str, TaskRun] = {}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in _order(tasks):
            task = tasks[name]
            component = self.spec["components"][task["componentRef"]["name"]]
            executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
            started = time.monotonic()
            inputs = self._input_artifacts(task, results)
            if "resolver" in executor:
                outputs = self._resolve(executor["resolver"], inputs)
            elif "container" in executor:
                outputs = self._launch(name, task, component, executor["container"], inputs)
            else:
                raise NotImplementedError(f"{name}: executor kind {sorted(executor)}")
            results[name] = TaskRun(name, time.monotonic() - started, outputs)
        return results

    def _input_artifacts(self, task: dict, results: dict[str, TaskRun]) -> dict[str, list]:
        inputs = {}
        for key, spec in task.get("inputs", {}).get("artifacts", {}).items():
            source = spec["taskOutputArtifact"]
            inputs[key] = results[source["producerTask"]].outputs.get(
                source["outputArtifactKey"], [])
        return inputs

    def _resolve(self, resolver: dict, inputs: dict[str, list]) -> dict[str, list]:
        """The MLMD filters TFX compiles for LatestBlessedModelStrategy, over this history."""
        outputs = {}
        for key, query in resolver["outputArtifactQueries"].items():
            text = query["filter"]

            def metadata_of(match):
                key_in, field = match.group(1), match.group(2)
                artifacts = inputs.get(key_in) or []
                return str(artifacts[0]["metadata"].get(field, "")) if artifacts else ""

            text = re.sub(r"\{\{\$\.inputs\.artifacts\['([^']+)'\]\.metadata\['([^']+)'\]\}\}",
                          metadata_of, text)
            title = re.search(r'schema_title="([^"]+)"', text).group(1)
            candidates = [a for a in self.history if a["type"]["schemaTitle"] == title]
            if "metadata.blessed.number_value=1" in text:
                candidates = [a for a in candidates if a["metadata"].get("blessed") == 1]
            if (name := re.search(r'name="([^"]*)"', text)) is not None:
                candidates = [a for a in candidates if a["name"] == name.group(1)]
            outputs[key] = candidates[-1:]  # the latest, or nothing on a first run
        return outputs

    def _launch(self, name: str, task: dict, component: dict, container: dict,
                inputs: dict[str, list]) -> dict[str, list]:
        task_root = os.path.join(self.root, name)
        outputs = {}
        for key, definition in component.get("outputDefinitions", {}).get("artifacts",
                                                                            {}).items():
            artifact_id = next(self._ids)
            outputs[key] = [{
                "name": str(artifact_id),
                "type": {"schemaTitle": _schema_title(definition["artifactType"])},
                "uri": os.path.join(task_root, key, str(artifact_id)),
                "metadata": {},
            }]
        parameters = {key: value["runtimeValue"]["constant"]
                      for key, value in task.get("inputs", {}).get("parameters", {}).items()}
        output_file = os.path.join(task_root, "executor_output.json")
        executor_input = {
            "inputs": {"artifacts": {k: {"artifacts": v} for k, v in inputs.items()},
                       "parameterValues": parameters},
            "outputs": {"artifacts": {k: {"artifacts": v} for k, v in outputs.items()},
                        "outputFile": output_file},
        }
        placeholder = json.dumps(executor_input)
        argv = [part.replace("{{$}}", placeholder)
                for part in [*container.get("command", []), *container.get("args", [])]]
        if argv[0] == "python":  # the image's python; here, the test's interpreter
            argv[0] = self.python
        log = self.log_dir / f"{name}.log"
        with open(log, "w") as handle:
            proc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=self.env)
        if proc.returncode != 0:
            tail = "\n".join(log.read_text().splitlines()[-25:])
            raise RuntimeError(f"task {name} exited {proc.returncode}; log {log}:\n{tail}")
        produced = json.loads(Path(output_file).read_text())
        for key, listed in produced.get("artifacts", {}).items():
            for artifact, reported in zip(outputs.get(key, []), listed.get("artifacts", [])):
                artifact["metadata"] = reported.get("metadata", {})
                artifact["uri"] = reported.get("uri") or artifact["uri"]
        for artifacts in outputs.values():
            self.history.extend(artifacts)
        return outputs

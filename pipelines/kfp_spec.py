"""What TFX's Kubeflow V2 compiler cannot express, added to its PipelineSpec afterwards.

Open-source KFP v2 (2.0-2.17) runs a compiled spec differently from Vertex AI Pipelines:

- It ignores `lifecycle` hooks, so TFX's ExampleGen driver never resolves `{SPAN}`, and it keys
  its cache on input parameter values, which for ExampleGen are constants. `LatestSpan`, a task
  never served from cache, resolves the newest span and hands its fingerprint to ExampleGen as one
  more parameter (`expected_input_fingerprint`): new data changes ExampleGen's cache key, the same
  data keeps it (components/spans/latest_span.py).
- Its API server accepts only `container` and `importer` executors, and an importer's URI must be
  a constant or an input parameter of the DAG around it. The baseline is therefore a
  `ProductionModel` task (never cached) that reads the model in production from the publishing
  destinations and outputs its URI, feeding a one-task DAG `ProductionBaseline` whose importer
  (reimport off) hands back the artifact KFP already holds for that URI
  (components/baseline/kfp_task.py).
- TFX's container entrypoint expects typed input artifacts; open-source KFP's driver delivers them
  untyped. Every TFX task runs through the platform's entrypoint layer, which restores the types
  from the task's own input definitions (pipelines/kfp_entrypoint.py).

The result is one spec that open-source KFP and Vertex both run (Vertex runs the hooks too; the
added tasks are plain containers there).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from components.baseline import kfp_task as baseline_task
from components.common.names import BASELINE_IMPORTER_ID, EXAMPLE_GENS, PUSHER_ID, TRAINER_ID
from components.spans import latest_span
from components.spans.executor import EXPECTED_FINGERPRINT_KEY

TFX_ENTRYPOINT = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
PLATFORM_ENTRYPOINT = "pipelines.kfp_entrypoint"
LATEST_SPAN_TASK = "LatestSpan"
PRODUCTION_MODEL_TASK = "ProductionModel"
BASELINE_IMPORTER_TASK = f"{BASELINE_IMPORTER_ID}-importer"
BASELINE_DAG_COMPONENT = f"{BASELINE_IMPORTER_ID}_dag"
URI_PARAMETER = "artifact_uri"


def for_kubeflow(spec: dict[str, Any], pipeline_root: str) -> dict[str, Any]:
    """A copy of TFX's compiled PipelineSpec that open-source KFP and Vertex both run."""
    spec = copy.deepcopy(spec)
    image = _any_container(spec)["image"]
    _resolve_span_at_run_time(spec, image)
    _find_baseline_at_run_time(spec, image, pipeline_root)
    _use_platform_entrypoint(spec)
    return spec


def _any_container(spec: dict) -> dict:
    return next(e["container"] for e in spec["deploymentSpec"]["executors"].values()
                if "container" in e)


def _platform_task(spec: dict, name: str, module: str, image: str, parameters: dict[str, dict],
                   outputs: dict[str, str],
                   artifacts: dict[str, tuple[str, str, dict]] | None = None) -> None:
    """Adds a container task running `python -m module --executor-input {{$}}`, never cached.

    `parameters`: name -> the task's input spec (runtimeValue or taskOutputParameter) and type;
    `outputs`: output parameter name -> type; `artifacts`: input name -> (producer task, output
    key, artifact type)."""
    component: dict[str, Any] = {
        "executorLabel": f"{name}_executor",
        "inputDefinitions": {"parameters": {k: {"parameterType": v["type"]}
                                            for k, v in parameters.items()}},
        "outputDefinitions": {"parameters": {k: {"parameterType": t} for k, t in outputs.items()}},
    }
    task: dict[str, Any] = {
        "componentRef": {"name": name},
        "taskInfo": {"name": name},
        # No cachingOptions.enableCache: KFP executes the task on every run.
        "inputs": {"parameters": {k: v["value"] for k, v in parameters.items()}},
    }
    if artifacts:
        component["inputDefinitions"]["artifacts"] = {
            k: {"artifactType": artifact_type} for k, (_, _, artifact_type) in artifacts.items()}
        task["inputs"]["artifacts"] = {
            k: {"taskOutputArtifact": {"producerTask": producer, "outputArtifactKey": key}}
            for k, (producer, key, _) in artifacts.items()}
        task["dependentTasks"] = sorted({producer for producer, _, _ in artifacts.values()})
    spec["components"][name] = component
    spec["root"]["dag"]["tasks"][name] = task
    spec["deploymentSpec"]["executors"][f"{name}_executor"] = {"container": {
        "image": image,
        "command": ["python", "-m", module],
        "args": ["--executor-input", "{{$}}"],
    }}


def _resolve_span_at_run_time(spec: dict, image: str) -> None:
    tasks = spec["root"]["dag"]["tasks"]
    (example_gen_name,) = [name for name in tasks if name in EXAMPLE_GENS]
    example_gen = tasks[example_gen_name]
    parameters = {
        key: {"value": example_gen["inputs"]["parameters"][key], "type": "STRING"}
        for key in latest_span.INPUT_PARAMETERS if key in example_gen["inputs"]["parameters"]}
    _platform_task(spec, LATEST_SPAN_TASK, latest_span.__name__, image, parameters,
                   {latest_span.FINGERPRINT_OUTPUT: "STRING",
                    latest_span.SPAN_OUTPUT: "NUMBER_INTEGER"})
    example_gen["inputs"]["parameters"][EXPECTED_FINGERPRINT_KEY] = {"taskOutputParameter": {
        "producerTask": LATEST_SPAN_TASK, "outputParameterKey": latest_span.FINGERPRINT_OUTPUT}}
    example_gen["dependentTasks"] = sorted({*example_gen.get("dependentTasks", []),
                                            LATEST_SPAN_TASK})
    component = spec["components"][example_gen["componentRef"]["name"]]
    component["inputDefinitions"]["parameters"][EXPECTED_FINGERPRINT_KEY] = {
        "parameterType": "STRING"}
    _refresh_inputs_spec_arg(spec, component)


def _find_baseline_at_run_time(spec: dict, image: str, pipeline_root: str) -> None:
    tasks = spec["root"]["dag"]["tasks"]
    importer_task = tasks.pop(BASELINE_IMPORTER_ID)
    importer_component = spec["components"][importer_task["componentRef"]["name"]]
    model_type = importer_component["outputDefinitions"]["artifacts"]["result"]["artifactType"]
    pusher = tasks[PUSHER_ID]
    parameters = {key: {"value": pusher["inputs"]["parameters"][key], "type": "STRING"}
                  for key in baseline_task.DESTINATION_PARAMETERS}
    parameters[baseline_task.PIPELINE_ROOT_PARAMETER] = {
        "value": {"runtimeValue": {"constant": pipeline_root}}, "type": "STRING"}
    _platform_task(spec, PRODUCTION_MODEL_TASK, baseline_task.__name__, image, parameters,
                   {baseline_task.OUTPUT_KEY: "STRING"},
                   artifacts={baseline_task.CANDIDATE_KEY: (TRAINER_ID, "model", model_type)})

    # The importer takes its URI from the DAG around it; the DAG from ProductionModel's output.
    executor = spec["deploymentSpec"]["executors"][importer_component["executorLabel"]]
    executor["importer"]["artifactUri"] = {"runtimeParameter": URI_PARAMETER}
    importer_task = copy.deepcopy(importer_task)
    importer_task["inputs"]["parameters"][URI_PARAMETER] = {
        "componentInputParameter": URI_PARAMETER}
    importer_task["taskInfo"] = {"name": BASELINE_IMPORTER_TASK}
    importer_task.pop("cachingOptions", None)
    spec["components"][BASELINE_DAG_COMPONENT] = {
        "inputDefinitions": {"parameters": {URI_PARAMETER: {"parameterType": "STRING"}}},
        "outputDefinitions": {"artifacts": {"result": {"artifactType": model_type}}},
        "dag": {
            "tasks": {BASELINE_IMPORTER_TASK: importer_task},
            "outputs": {"artifacts": {"result": {"artifactSelectors": [
                {"producerSubtask": BASELINE_IMPORTER_TASK, "outputArtifactKey": "result"}]}}},
        },
    }
    tasks[BASELINE_IMPORTER_ID] = {
        "componentRef": {"name": BASELINE_DAG_COMPONENT},
        "taskInfo": {"name": BASELINE_IMPORTER_ID},
        "dependentTasks": [PRODUCTION_MODEL_TASK],
        "inputs": {"parameters": {URI_PARAMETER: {"taskOutputParameter": {
            "producerTask": PRODUCTION_MODEL_TASK,
            "outputParameterKey": baseline_task.OUTPUT_KEY}}}},
    }


def _use_platform_entrypoint(spec: dict) -> None:
    for executor in spec["deploymentSpec"]["executors"].values():
        command = executor.get("container", {}).get("command", [])
        if command[-1:] == [TFX_ENTRYPOINT]:
            command[-1] = PLATFORM_ENTRYPOINT


def _refresh_inputs_spec_arg(spec: dict, component: dict) -> None:
    """TFX passes the component's input definitions to its entrypoint as an argument; keep it
    equal to the (changed) definitions."""
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    args = container["args"]
    flag = "--json_serialized_inputs_spec_args"
    if flag in args:
        args[args.index(flag) + 1] = json.dumps(component["inputDefinitions"], indent=2,
                                                sort_keys=True)
    lifecycle_args = container.get("lifecycle", {}).get("preCacheCheck", {}).get("args", [])
    if flag in lifecycle_args:
        lifecycle_args[lifecycle_args.index(flag) + 1] = args[args.index(flag) + 1]

"""The ExecutorInput / ExecutorOutput contract of a KFP v2 container task, for the platform's own
small tasks (not TFX components) that the Kubeflow compiler adds to the PipelineSpec.

KFP substitutes the ExecutorInput JSON for `{{$}}` in the task's args; the task writes an
ExecutorOutput JSON to `outputs.outputFile` (its output parameters under `parameterValues`, as
KFP's launcher reads them).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable


def parameters(executor_input: dict) -> dict[str, Any]:
    inputs = executor_input.get("inputs", {})
    # Schema 2.1 delivers `parameterValues`; 2.0 delivered typed `parameters`.
    if "parameterValues" in inputs:
        return dict(inputs["parameterValues"])
    return {k: next(iter(v.values())) for k, v in inputs.get("parameters", {}).items()}


def artifact_uris(executor_input: dict, key: str) -> list[str]:
    listed = executor_input.get("inputs", {}).get("artifacts", {}).get(key, {})
    return [artifact.get("uri", "") for artifact in listed.get("artifacts", [])]


def write_output(executor_input: dict, parameter_values: dict[str, Any]) -> None:
    path = executor_input["outputs"]["outputFile"]
    if "://" not in path:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    import tensorflow as tf  # the output file may be in object storage (gs://)

    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(json.dumps({"parameterValues": parameter_values}))


def main(task: Callable[[dict[str, Any], dict], dict[str, Any]], description: str) -> None:
    """Runs `task(parameters, executor_input) -> output parameter values` as a KFP task."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--executor-input", required=True, help="KFP's ExecutorInput ({{$}})")
    args = parser.parse_args()
    executor_input = json.loads(args.executor_input)
    write_output(executor_input, task(parameters(executor_input), executor_input))

"""The ExecutorInput / ExecutorOutput contract of a KFP v2 container task, for the platform's own
small tasks (not TFX components) that the Kubeflow compiler adds to the PipelineSpec.

KFP substitutes the ExecutorInput JSON for `{{$}}` in the task's args; the task writes an
ExecutorOutput JSON to `outputs.outputFile` (its output parameters under `parameterValues`, as
KFP's launcher reads them).

Every task reports how long its imports took (`report_imports`, one line in its log): most of a
task's start is importing, and a look-up task should not pay for TensorFlow. Nothing here imports
it: the output file is written with components.common.files (local paths and gs://).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable

from components.common import files

IMPORTS_DONE = "task imports done"  # followed by seconds since process start; harnesses read it


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
    files.write_text(executor_input["outputs"]["outputFile"],
                     json.dumps({"parameterValues": parameter_values}))


def seconds_since_process_start() -> float:
    """Wall time since this process started, from Linux's /proc (KFP's pods run Linux)."""
    with open("/proc/self/stat") as handle:  # field 22, after the parenthesized command name
        started_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as handle:
        uptime = float(handle.read().split()[0])
    return uptime - started_ticks / os.sysconf("SC_CLK_TCK")


def report_imports() -> None:
    """Logs how long the process took to get here: call it once the task's imports are done."""
    print(f"{IMPORTS_DONE} {seconds_since_process_start():.2f} s after process start", flush=True)


def main(task: Callable[[dict[str, Any], dict], dict[str, Any]], description: str) -> None:
    """Runs `task(parameters, executor_input) -> output parameter values` as a KFP task."""
    report_imports()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--executor-input", required=True, help="KFP's ExecutorInput ({{$}})")
    args = parser.parse_args()
    executor_input = json.loads(args.executor_input)
    write_output(executor_input, task(parameters(executor_input), executor_input))

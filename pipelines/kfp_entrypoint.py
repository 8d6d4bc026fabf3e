"""Every TFX task's container entrypoint on Kubeflow: TFX's own, plus what open-source KFP needs.

`python -m pipelines.kfp_entrypoint` takes exactly the arguments of TFX 1.16's
`tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor` (pipelines/kfp_spec.py swaps the
module name in each compiled command) and runs TFX's executor runner, with four additions, each
for one behaviour of open-source KFP (checked against kubeflow/pipelines 2.0-2.17 and
sky-uk/kfp-operator's tfx-patch, which needed the same):

1. Untyped input artifacts. KFP's driver reads a task's inputs back from ML Metadata and hands
   them over with `type.instanceSchema: ""` (`GetOutputArtifactsByExecutionId` leaves the schema
   empty); TFX's entrypoint then fails ("'NoneType' object has no attribute 'get'") or builds the
   wrong artifact class. The type is restored from the task's own input definitions, which TFX
   already passes as `--json_serialized_inputs_spec_args`. Typed inputs (Vertex) are untouched.
2. Directory markers. TensorFlow's GCS filesystem writes a zero-byte `dir/` object for every
   directory it creates; the next task's launcher downloads input artifacts object by object and
   turns such a marker into a file, after which the directory's children cannot be written
   ("not a directory"). After the executor, markers that have children are deleted from the
   task's gs:// outputs (only on open-source KFP, which sets KFP_POD_NAME; Vertex does not
   download).
3. KFP's UI types. TFX's entrypoint imports a custom artifact class by its schema title; the
   Pusher's run-page outputs are titled `system.Metrics`, `system.Markdown` and `system.HTML` (what
   KFP's UI renders), so their class paths are added to TFX's own title -> class map
   (components/common/ui_artifacts.py).
4. A crash at exit. C++ destructors can abort the interpreter ("pure virtual method called")
   after the executor output is written, and KFP fails a task on a non-zero exit. Once TFX has
   written the output, the process exits at once with 0; an error still exits non-zero.

It logs how long its imports took (components.common.kfp_io.report_imports), as the platform's
light tasks do. Like a local run, it also keeps TFX from packaging itself for the DirectRunner
(components.common.beam_dependencies); Dataflow still gets TFX's package unless an image is named.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Iterable

from absl import app
from tfx.orchestration.kubeflow.v2 import compiler_utils
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor as tfx_entrypoint

from components.common import kfp_io, ui_artifacts
from components.common.beam_dependencies import package_tfx_only_for_remote_runners


def _untyped(artifact_type: dict) -> bool:
    return not (artifact_type.get("schemaTitle") or artifact_type.get("instanceSchema") or
                "").strip()


def fill_input_types(invocation_json: str, inputs_spec_json: str | None) -> str:
    """The ExecutorInput with each untyped input artifact given the type its input definition
    declares; unchanged (the same string) when every input is typed."""
    if not inputs_spec_json:
        return invocation_json
    executor_input = json.loads(invocation_json)
    declared = json.loads(inputs_spec_json).get("artifacts", {})
    changed = False
    for key, listed in executor_input.get("inputs", {}).get("artifacts", {}).items():
        artifact_type = declared.get(key, {}).get("artifactType")
        for artifact in listed.get("artifacts", []):
            if artifact_type and _untyped(artifact.get("type") or {}):
                artifact["type"] = dict(artifact_type)
                changed = True
    return json.dumps(executor_input) if changed else invocation_json


def output_uris(invocation_json: str) -> list[str]:
    outputs = json.loads(invocation_json).get("outputs", {}).get("artifacts", {})
    return [a.get("uri", "") for listed in outputs.values() for a in listed.get("artifacts", [])]


def remove_directory_markers(uris: Iterable[str], client=None) -> list[str]:
    """Deletes zero-byte `…/` objects that have children under each gs:// URI; returns their
    gs:// names. Markers of empty directories stay (nothing below them can be blocked)."""
    removed = []
    for uri in uris:
        if not uri.startswith("gs://"):
            continue
        if client is None:
            from google.cloud import storage

            client = storage.Client()
        bucket_name, _, prefix = uri[len("gs://"):].partition("/")
        blobs = list(client.list_blobs(bucket_name, prefix=prefix.rstrip("/") + "/"))
        names = [b.name for b in blobs]
        for blob in blobs:
            if blob.name.endswith("/") and blob.size == 0 and any(
                    n != blob.name and n.startswith(blob.name) for n in names):
                blob.delete()
                removed.append(f"gs://{bucket_name}/{blob.name}")
    return removed


def main(parsed) -> None:
    args, beam_args = parsed
    kfp_io.report_imports()  # TensorFlow and TFX, imported with TFX's entrypoint above
    package_tfx_only_for_remote_runners()
    compiler_utils.TITLE_TO_CLASS_PATH.update(ui_artifacts.CLASS_PATHS)
    args.json_serialized_invocation_args = fill_input_types(
        args.json_serialized_invocation_args,
        getattr(args, "json_serialized_inputs_spec_args", None))
    tfx_entrypoint._run_executor(args, beam_args)  # returns once the output file is written
    if os.environ.get("KFP_POD_NAME"):  # open-source KFP's launcher; Vertex downloads nothing
        removed = remove_directory_markers(output_uris(args.json_serialized_invocation_args))
        if removed:
            logging.info("Removed %d directory markers under the outputs", len(removed))
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    app.run(main, flags_parser=tfx_entrypoint._parse_flags)

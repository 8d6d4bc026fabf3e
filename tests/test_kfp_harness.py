"""How open-source KFP refuses and delivers, one behaviour at a time: the stand-in
(tests/kfp_harness.py) refuses what KFP refuses, and the platform's entrypoint layer
(pipelines/kfp_entrypoint.py) handles what KFP does to a task. Each handling is shown failing
without it. The look-up tasks the platform adds run their compiled command without TensorFlow or
TFX and answer as before."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.baseline.production import NO_BASELINE_MARKER, no_baseline_uri
from components.spans.executor import resolve_span
from mlops.metadata import sqlite_connection_config
from pipelines import kfp_entrypoint
from pipelines.kfp_spec import LATEST_SPAN_TASK, PLATFORM_ENTRYPOINT, PRODUCTION_MODEL_TASK
from tests.conftest import run_cli
from tests.kfp_harness import NOT_IMPLEMENTED, Harness, KfpRefused

EXAMPLES_SCHEMA = ("title: tfx.Examples\ntype: object\nproperties:\n  span:\n    type: integer\n"
                   "  split_names:\n    type: string\n")
INPUTS_SPEC = json.dumps({"artifacts": {"examples": {"artifactType": {
    "instanceSchema": EXAMPLES_SCHEMA}}}, "parameters": {"exclude_splits": {
        "parameterType": "STRING"}}})


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compiled")
    result = run_cli("compile", "--home", str(out / "home"), "--data", str(out / "data"),
                     "--pipeline-root", str(out / "root"), "--allow-local-root",
                     "--output-dir", str(out / "spec"))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _harness(compiled: Path, spec: dict, tmp_path: Path) -> Harness:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return Harness(str(path), str(tmp_path / "root"),
                   sqlite_connection_config(str(tmp_path / "mlmd.sqlite")),
                   cache_file=str(tmp_path / "cache.json"))


def _spec(compiled: Path) -> dict:
    return yaml.safe_load((compiled / "spec/digits-pipeline.yaml").read_text())


def test_a_resolver_executor_is_refused_at_run_creation_with_kfps_message(compiled, tmp_path):
    spec = _spec(compiled)
    spec["deploymentSpec"]["executors"]["Evaluator_executor"] = {"resolver": {
        "outputArtifactQueries": {"model": {"filter": 'schema_title="tfx.Model"'}}}}
    with pytest.raises(KfpRefused, match=NOT_IMPLEMENTED):
        _harness(compiled, spec, tmp_path)


def test_the_compiled_spec_passes_run_creation(compiled, tmp_path):
    _harness(compiled, _spec(compiled), tmp_path)  # no resolver, nothing but container/importer


def test_an_unresolvable_placeholder_fails_the_task(compiled, tmp_path):
    spec = _spec(compiled)
    container = spec["deploymentSpec"]["executors"]["LatestSpan_executor"]["container"]
    container["args"].append("{{$.inputs.parameters['no_such_input']}}")
    with pytest.raises(KfpRefused, match="unresolvable placeholder"):
        _harness(compiled, spec, tmp_path).run()


def test_an_importer_fed_by_another_tasks_output_is_refused(compiled, tmp_path):
    """KFP's importer takes a runtime URI from its enclosing DAG only; this is why the compiled
    spec wraps the baseline importer in a DAG of its own."""
    spec = _spec(compiled)
    dag = spec["components"]["ProductionBaseline_dag"]["dag"]["tasks"]
    (inner,) = dag.values()
    spec["root"]["dag"]["tasks"]["ProductionBaseline"] = {
        **copy.deepcopy(inner), "dependentTasks": ["ProductionModel"],
        "taskInfo": {"name": "ProductionBaseline"}}
    spec["root"]["dag"]["tasks"]["ProductionBaseline"]["inputs"]["parameters"][
        "artifact_uri"] = {"taskOutputParameter": {"producerTask": "ProductionModel",
                                                   "outputParameterKey": "baseline_uri"}}
    with pytest.raises(KfpRefused, match="artifact_uri comes from another task's output"):
        _harness(compiled, spec, tmp_path)._import(
            "ProductionBaseline", spec["root"]["dag"]["tasks"]["ProductionBaseline"],
            spec["components"]["ProductionBaseline"],
            spec["deploymentSpec"]["executors"]["ProductionBaseline_executor"]["importer"],
            {"artifact_uri": "gs://x"})


LOOKUP_TASKS = (LATEST_SPAN_TASK, PRODUCTION_MODEL_TASK)


def test_only_the_lookup_tasks_run_outside_tfxs_entrypoint(compiled):
    executors = _spec(compiled)["deploymentSpec"]["executors"]
    outside = {label.removesuffix("_executor") for label, executor in executors.items()
               if executor.get("container", {}).get("command", [PLATFORM_ENTRYPOINT])[-1]
               != PLATFORM_ENTRYPOINT}
    assert outside == set(LOOKUP_TASKS)


def _run_lookup(compiled: Path, tmp_path: Path, task: str) -> tuple[set[str], dict]:
    """Runs the task's compiled command as KFP's launcher would, with `python -X importtime`;
    returns the top-level packages it imported and its output parameters."""
    spec = _spec(compiled)
    parameters = {key: value["runtimeValue"]["constant"] for key, value in
                  spec["root"]["dag"]["tasks"][task]["inputs"]["parameters"].items()}
    output_file = tmp_path / "kfp_outputs" / "output_metadata.json"
    executor_input = {
        "inputs": {"parameterValues": parameters, "artifacts": {"candidate_model": {"artifacts": [
            {"name": "7", "uri": str(tmp_path / "Trainer/model/7"),
             "type": {"instanceSchema": ""}}]}} if task == PRODUCTION_MODEL_TASK else {}},
        "outputs": {"outputFile": str(output_file)}}
    container = spec["deploymentSpec"]["executors"][f"{task}_executor"]["container"]
    python, *command = container["command"]
    assert python == "python"
    args = [arg.replace("{{$}}", json.dumps(executor_input)) for arg in container["args"]]
    proc = subprocess.run([sys.executable, "-X", "importtime", *command, *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return imported, json.loads(output_file.read_text())["parameterValues"]


def test_latest_span_imports_neither_tensorflow_nor_tfx_and_finds_what_tfx_finds(
        compiled, tmp_path):
    data = compiled / "data"
    for span in (1, 2, 10):
        (data / f"span-{span}").mkdir(parents=True, exist_ok=True)
        (data / f"span-{span}" / "part.tfrecord").write_bytes(b"x" * span)
    imported, outputs = _run_lookup(compiled, tmp_path, LATEST_SPAN_TASK)
    assert not imported & {"tensorflow", "tfx"}
    example_gen = _spec(compiled)["root"]["dag"]["tasks"]["ImportExampleGen"]["inputs"]
    resolved = resolve_span({key: value["runtimeValue"]["constant"] for key, value in
                             example_gen["parameters"].items() if "runtimeValue" in value},
                            always=True)
    assert outputs == {"input_fingerprint": resolved["input_fingerprint"], "span": 10}


def test_production_model_imports_neither_tensorflow_nor_tfx_and_names_no_baseline_first(
        compiled, tmp_path):
    imported, outputs = _run_lookup(compiled, tmp_path, PRODUCTION_MODEL_TASK)
    assert not imported & {"tensorflow", "tfx"}
    nothing = no_baseline_uri(str(compiled / "root"))
    assert outputs == {"baseline_uri": nothing}
    assert json.loads((Path(nothing) / NO_BASELINE_MARKER).read_text()) == {
        "reason": "nothing is published yet"}


def _untyped_input(tmp_path: Path) -> str:
    """An ExecutorInput as KFP's driver builds it from ML Metadata: no schema, name = MLMD id."""
    return json.dumps({
        "inputs": {
            "artifacts": {"examples": {"artifacts": [{
                "name": "42", "uri": str(tmp_path / "examples"), "type": {"instanceSchema": ""},
                "metadata": {"split_names": '["train", "eval"]', "span": 2.0,
                             "display_name": "examples"}}]}},
            "parameterValues": {"exclude_splits": "[]"}},
        "outputs": {
            "artifacts": {"statistics": {"artifacts": [{
                "uri": str(tmp_path / "statistics"),
                "type": {"schemaTitle": "tfx.ExampleStatistics"}}]}},
            "outputFile": str(tmp_path / "kfp_outputs" / "output_metadata.json")},
    })


def _run_entrypoint(module: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, "--executor_class_path",
         "tests.fixtures.kfp_probe.executor.Executor",
         "--json_serialized_invocation_args", _untyped_input(tmp_path),
         "--json_serialized_inputs_spec_args", INPUTS_SPEC],
        capture_output=True, text=True, timeout=600)


def test_tfx_alone_fails_on_inputs_delivered_untyped(tmp_path):
    proc = _run_entrypoint(kfp_entrypoint.tfx_entrypoint.__name__, tmp_path)
    assert proc.returncode != 0
    assert "'NoneType' object has no attribute 'get'" in proc.stderr


def test_the_platform_entrypoint_restores_the_declared_types(tmp_path):
    proc = _run_entrypoint(kfp_entrypoint.__name__, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads((tmp_path / "statistics" / "seen.json").read_text())
    assert seen == {"examples": [{"class": "Examples", "split_names": '["train", "eval"]',
                                  "span": 2}]}
    assert (tmp_path / "kfp_outputs" / "output_metadata.json").exists()


def test_typed_inputs_are_passed_through_unchanged():
    """Vertex delivers typed artifacts: the layer must not touch them."""
    typed = json.dumps({"inputs": {"artifacts": {"examples": {"artifacts": [{
        "name": "x", "type": {"schemaTitle": "tfx.Examples"}, "uri": "gs://b/e"}]}}}})
    assert kfp_entrypoint.fill_input_types(typed, INPUTS_SPEC) is typed
    undeclared = json.dumps({"inputs": {"artifacts": {"other": {"artifacts": [{
        "type": {"instanceSchema": ""}}]}}}})
    assert kfp_entrypoint.fill_input_types(undeclared, INPUTS_SPEC) is undeclared


class _Blob:
    def __init__(self, bucket, name, content):
        self.bucket, self.name, self.content, self.size = bucket, name, content, len(content)

    def delete(self):
        self.bucket.remove(self.name)

    def download_to_filename(self, path):
        with open(path, "wb") as handle:
            handle.write(self.content)


class _Client:
    """google-cloud-storage's list_blobs over a dict of name -> content, as GCS lists: sorted."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects = dict(objects)

    def remove(self, name):
        del self.objects[name]

    def list_blobs(self, bucket, prefix):
        return [_Blob(self, n, s) for n, s in sorted(self.objects.items())
                if n.startswith(prefix)]


def test_directory_markers_with_children_are_removed_and_nothing_else():
    client = _Client({"root/Trainer/model/": b"", "root/Trainer/model/Format-Serving/": b"",
                      "root/Trainer/model/Format-Serving/saved_model.pb": b"pb",
                      "root/Trainer/model/empty/": b"", "root/Trainer/model/zero": b"",
                      "root/Other/": b"", "root/Other/x": b"x"})
    removed = kfp_entrypoint.remove_directory_markers(["gs://b/root/Trainer/model"], client)
    assert sorted(removed) == ["gs://b/root/Trainer/model/",
                               "gs://b/root/Trainer/model/Format-Serving/"]
    assert set(client.objects) == {"root/Trainer/model/Format-Serving/saved_model.pb",
                                   "root/Trainer/model/empty/", "root/Trainer/model/zero",
                                   "root/Other/", "root/Other/x"}


def test_directory_markers_break_the_launchers_download_until_removed(tmp_path):
    """A model directory as TF 2.16's built-in GCS filesystem (the image's default) leaves it: a
    zero-byte `dir/` object for every directory it created. The launcher's object-by-object
    download fails on it, as on a cluster; after the entrypoint layer's cleanup it succeeds.
    (fake-gcs-server silently drops objects whose names end in "/", and the GCS plugin that can
    reach it writes no markers, so the bucket here is the in-memory one above.)"""
    prefix = "root/Trainer/model/7"
    client = _Client({f"{prefix}/": b"", f"{prefix}/Format-Serving/": b"",
                      f"{prefix}/Format-Serving/variables/": b"",
                      f"{prefix}/Format-Serving/variables/variables.index": b"x",
                      f"{prefix}/Format-Serving/saved_model.pb": b"x",
                      f"{prefix}/Format-Serving/assets/": b""})
    model = f"gs://b/{prefix}"

    from tests.kfp_harness import download_blob

    with pytest.raises(OSError):
        download_blob(model, tmp_path / "before", client)
    removed = kfp_entrypoint.remove_directory_markers([model], client)
    assert sorted(removed) == [f"{model}/", f"{model}/Format-Serving/",
                               f"{model}/Format-Serving/variables/"]
    local = download_blob(model, tmp_path / "after", client)
    assert (local / "Format-Serving/saved_model.pb").read_text() == "x"
    assert (local / "Format-Serving/variables/variables.index").read_text() == "x"
    assert (local / "Format-Serving/assets").is_file()  # an empty directory's marker: harmless

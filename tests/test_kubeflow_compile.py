"""The compiled Kubeflow pipeline, checked as KFP would read it (no cluster needed)."""

from __future__ import annotations

import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from tests.conftest import run_cli

IMAGE = "europe-west4-docker.pkg.dev/acme/mlops/pipeline:1.0"
CHAIN_DEPENDENCIES = {
    # Never cached: the newest span's fingerprint becomes one of ExampleGen's parameters.
    "LatestSpan": set(),
    "ImportExampleGen": {"LatestSpan"},
    "StatisticsGen": {"ImportExampleGen"},
    "SchemaGen": {"StatisticsGen"},
    "ExampleValidator": {"StatisticsGen", "SchemaGen"},
    "DataGate": {"StatisticsGen", "SchemaGen", "ExampleValidator"},
    "Transform": {"ImportExampleGen", "SchemaGen", "DataGate"},
    # ImportExampleGen: the raw training examples calibrate the int8 TFLite variant.
    "Trainer": {"Transform", "SchemaGen", "ImportExampleGen"},
    # Never cached: reads the model in production from the destinations; its URI feeds the
    # one-task DAG ProductionBaseline, whose importer hands the model to the gate's Evaluators.
    "ProductionModel": {"Trainer"},
    "ProductionBaseline": {"ProductionModel"},
    "Evaluator": {"ImportExampleGen", "Trainer", "ProductionBaseline"},
    "EvaluatorTFLite": {"ImportExampleGen", "Trainer", "ProductionBaseline"},
    # Every quantized TFLite variant in one Evaluator, against the same model's float32.
    "EvaluatorTFLiteVariants": {"ImportExampleGen", "Trainer"},
    "BlessingGate": {"Trainer", "Evaluator", "EvaluatorTFLite", "EvaluatorTFLiteVariants"},
    # StatisticsGen: the training span's statistics go with each published version (drift).
    # Evaluator: the SavedModel's confusion matrix for the run page.
    "Pusher": {"Trainer", "BlessingGate", "ImportExampleGen", "Evaluator", "EvaluatorTFLite",
               "ProductionBaseline", "StatisticsGen"},
}
PLATFORM_TASKS = {"LatestSpan": "components.spans.latest_span",
                  "ProductionModel": "components.baseline.kfp_task"}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("compiled")
    result = run_cli("compile", "--engine", "kfp", "--home", str(out / "home"),
                     "--data", "gs://acme-data/digits", "--pipeline-root", str(out / "root"),
                     "--allow-local-root", "--image", IMAGE, "--output-dir", str(out / "spec"))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_refuses_a_pipeline_root_a_cluster_cannot_share(tmp_path):
    result = run_cli("compile", "--home", str(tmp_path), "--output-dir", str(tmp_path / "spec"))
    assert result.returncode != 0
    assert "is not shared object storage" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "spec" / "digits-pipeline.yaml").exists()


def test_yaml_is_a_pipeline_spec_2_1_without_constant_values(compiled):
    text = (compiled / "spec/digits-pipeline.yaml").read_text()
    spec = json_format.ParseDict(yaml.safe_load(text), pipeline_spec_pb2.PipelineSpec())
    assert spec.schema_version == "2.1.0"
    assert "constantValue" not in text  # open-source KFP's driver rejects the 2.0 form
    assert spec.pipeline_info.name == "digits-pipeline"


def test_every_component_is_a_task_with_the_right_dependencies(compiled):
    spec = yaml.safe_load((compiled / "spec/digits-pipeline.yaml").read_text())
    tasks = spec["root"]["dag"]["tasks"]
    assert {name: set(t.get("dependentTasks", [])) for name, t in tasks.items()} == \
        CHAIN_DEPENDENCIES


def test_every_executor_runs_the_configured_image(compiled):
    spec = yaml.safe_load((compiled / "spec/digits-pipeline.yaml").read_text())
    executors = spec["deploymentSpec"]["executors"]
    containers = {label: e["container"] for label, e in executors.items() if "container" in e}
    # Every task but the importer inside ProductionBaseline is a container.
    assert len(containers) == len(CHAIN_DEPENDENCIES) - 1
    for container in containers.values():
        assert container["image"] == IMAGE
    pusher = executors["Pusher_executor"]["container"]
    assert "components.pusher.executor.Executor" in pusher["args"]
    # TFX's tasks go through the platform's entrypoint layer (untyped inputs, markers, exit).
    assert pusher["command"] == ["python", "-m", "pipelines.kfp_entrypoint"]
    for task, module in PLATFORM_TASKS.items():
        assert containers[f"{task}_executor"]["command"] == ["python", "-m", module]


def test_only_executor_kinds_open_source_kfp_runs(compiled):
    """KFP's API server refuses anything but container and importer executors (visitor.go):
    a resolver coming back would make every run fail at creation."""
    for name in ("yaml", "json"):
        text = (compiled / f"spec/digits-pipeline.{name}").read_text()
        spec = yaml.safe_load(text) if name == "yaml" else json.loads(text)["pipelineSpec"]
        kinds = {kind for e in spec["deploymentSpec"]["executors"].values() for kind in e}
        assert kinds == {"container", "importer"}, kinds
        assert "resolver" not in text


def test_run_time_tasks_are_never_cached_and_the_rest_are(compiled):
    spec = yaml.safe_load((compiled / "spec/digits-pipeline.yaml").read_text())
    tasks = spec["root"]["dag"]["tasks"]
    for name, task in tasks.items():
        cached = task.get("cachingOptions", {}).get("enableCache", False)
        assert cached == (name not in {"LatestSpan", "ProductionModel", "ProductionBaseline"}), \
            name
    example_gen = tasks["ImportExampleGen"]["inputs"]["parameters"]
    assert example_gen["expected_input_fingerprint"] == {"taskOutputParameter": {
        "producerTask": "LatestSpan", "outputParameterKey": "input_fingerprint"}}


def test_baseline_importer_takes_its_uri_from_the_dag_around_it(compiled):
    """KFP's importer reads a runtime URI only from its enclosing DAG's input parameters."""
    spec = yaml.safe_load((compiled / "spec/digits-pipeline.yaml").read_text())
    dag_task = spec["root"]["dag"]["tasks"]["ProductionBaseline"]
    assert dag_task["inputs"]["parameters"]["artifact_uri"] == {"taskOutputParameter": {
        "producerTask": "ProductionModel", "outputParameterKey": "baseline_uri"}}
    dag = spec["components"][dag_task["componentRef"]["name"]]
    (inner,) = dag["dag"]["tasks"].values()
    assert inner["inputs"]["parameters"]["artifact_uri"] == {
        "componentInputParameter": "artifact_uri"}
    importer = spec["deploymentSpec"]["executors"][
        spec["components"][inner["componentRef"]["name"]]["executorLabel"]]["importer"]
    assert importer["artifactUri"] == {"runtimeParameter": "artifact_uri"}
    assert not importer.get("reimport")


def test_json_is_the_vertex_pipeline_job_wrapping_the_same_spec(compiled):
    job = json.loads((compiled / "spec/digits-pipeline.json").read_text())
    spec = yaml.safe_load((compiled / "spec/digits-pipeline.yaml").read_text())
    assert job["pipelineSpec"] == spec
    assert job["runtimeConfig"]["gcsOutputDirectory"] == str(compiled / "root")


def test_module_wheels_are_written_under_the_pipeline_root(compiled):
    wheels = list((compiled / "root" / "_wheels").glob("tfx_user_code_*.whl"))
    assert {w.name.split("-")[0].lower() for w in wheels} == {"tfx_user_code_transform",
                                                                "tfx_user_code_trainer"}


def test_dataflow_profile_reaches_every_beam_task(tmp_path):
    from pathlib import Path

    profile = Path(__file__).resolve().parent.parent / "configs/kubeflow-dataflow.example.yaml"
    result = run_cli("compile", "--config", str(profile), "--pipeline-root", str(tmp_path / "r"),
                     "--allow-local-root", "--output-dir", str(tmp_path / "spec"))
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load((tmp_path / "spec/digits-pipeline.yaml").read_text())
    executors = spec["deploymentSpec"]["executors"]
    for task in ("ImportExampleGen", "StatisticsGen", "Transform", "Evaluator"):
        args = executors[f"{task}_executor"]["container"]["args"]
        assert "--runner=DataflowRunner" in args and "--region=REGION" in args
        assert executors[f"{task}_executor"]["container"]["image"].startswith("REGION-docker")

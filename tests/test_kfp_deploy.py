"""Deploy, schedule and run on Kubeflow Pipelines through kfp.Client, against a local server that
answers like the KFP v2beta1 API; every request body must be what KFP's own models accept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import kfp_server_api
import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from mlops import kfp_deploy, vertex_deploy
from tests.conftest import run_cli
from tests.fake_kfp import FakeKfp

REPO = Path(__file__).resolve().parent.parent


def _paths(value, prefix=""):
    if isinstance(value, dict):
        return set().union(*(_paths(v, f"{prefix}/{k}") for k, v in value.items())) or {prefix}
    return {prefix}


def _model(body, klass):
    """Deserializes a recorded JSON body into a kfp_server_api model; a field the model does not
    know would be dropped, so the round trip must keep every field (int64 may come back as the
    string form proto JSON uses)."""
    api = kfp_server_api.ApiClient()
    model = api._ApiClient__deserialize(body, klass)  # the client's own JSON -> model path
    assert _paths(api.sanitize_for_serialization(model)) == _paths(body), \
        f"{klass} dropped fields of {body}"
    return model


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("kfp")
    result = run_cli("compile", "--home", str(out / "home"), "--pipeline-root", str(out / "root"),
                     "--allow-local-root", "--output-dir", str(out / "spec"))
    assert result.returncode == 0, result.stderr
    return out / "spec" / "digits-pipeline.yaml"


@pytest.fixture
def kfp():
    with FakeKfp() as fake:
        yield fake


def _client(fake):
    return kfp_deploy.connect(fake.url, "kubeflow")


def test_first_deploy_uploads_a_pipeline_then_new_versions(kfp, package):
    client = _client(kfp)
    first = kfp_deploy.deploy(client, kfp_deploy.Plan(False), str(package), "digits-pipeline",
                              "digits-pipeline-v1")
    second = kfp_deploy.deploy(client, kfp_deploy.Plan(False), str(package), "digits-pipeline",
                               "digits-pipeline-v2")
    assert first[0] == second[0] and first[1] != second[1]  # same pipeline, a new version
    uploads = [r for r in kfp.requests if r.path.startswith("/pipelines/upload")]
    assert [r.path for r in uploads] == ["/pipelines/upload", "/pipelines/upload_version"]
    assert uploads[0].query["name"] == "digits-pipeline"
    assert uploads[1].query == {"name": "digits-pipeline-v2", "pipelineid": first[0]}
    for upload in uploads:  # what was uploaded is the compiled PipelineSpec, byte for byte
        assert upload.body["file"] == package.read_bytes()
        spec = json_format.ParseDict(yaml.safe_load(upload.body["file"]),
                                     pipeline_spec_pb2.PipelineSpec())
        assert spec.schema_version == "2.1.0"


def test_schedule_is_daily_single_and_replaced_not_added(kfp, package):
    client = _client(kfp)
    pipeline_id, version_id = kfp_deploy.deploy(client, kfp_deploy.Plan(False), str(package),
                                                "digits-pipeline", "v1")
    for cron in ("0 0 3 * * *", "0 30 4 * * *"):
        ids = kfp_deploy.latest_version(client, kfp_deploy.Plan(False), "digits-pipeline")
        assert ids == (pipeline_id, version_id)
        kfp_deploy.schedule(client, kfp_deploy.Plan(False), *ids, experiment="digits-pipeline",
                            namespace="kubeflow", job_name="digits-retraining", cron=cron)
    (recurring,) = kfp.recurring_runs.values()  # the second schedule replaced the first
    creates = [r for r in kfp.requests if r.method == "POST" and r.path == "/recurringruns"]
    assert len(creates) == 2
    assert [r.method for r in kfp.requests if r.path.startswith("/recurringruns/")] == ["DELETE"]
    model = _model(creates[-1].body, "V2beta1RecurringRun")
    assert model.trigger.cron_schedule.cron == "0 30 4 * * *"
    assert int(model.max_concurrency) == 1
    assert model.no_catchup is True and model.mode == "ENABLE"
    assert model.pipeline_version_reference.pipeline_id == pipeline_id
    assert model.pipeline_version_reference.pipeline_version_id == version_id
    assert model.experiment_id == recurring["experiment_id"]
    _model([r for r in kfp.requests if r.path == "/experiments" and r.method == "POST"][0].body,
           "V2beta1Experiment")


def test_run_now_starts_the_latest_version(kfp, package):
    client = _client(kfp)
    kfp_deploy.deploy(client, kfp_deploy.Plan(False), str(package), "digits-pipeline", "v1")
    _, newest = kfp_deploy.deploy(client, kfp_deploy.Plan(False), str(package),
                                  "digits-pipeline", "v2")
    ids = kfp_deploy.latest_version(client, kfp_deploy.Plan(False), "digits-pipeline")
    kfp_deploy.run_now(client, kfp_deploy.Plan(False), *ids, experiment="digits-pipeline",
                       namespace="kubeflow", run_name="now")
    (request,) = [r for r in kfp.requests if r.path == "/runs"]
    run = _model(request.body, "V2beta1Run")
    assert run.pipeline_version_reference.pipeline_version_id == newest
    assert run.display_name == "now"


def test_cli_deploy_prints_ids_and_the_ui_link(kfp, tmp_path):
    result = run_cli("deploy", "--home", str(tmp_path / "home"),
                     "--pipeline-root", str(tmp_path / "root"), "--allow-local-root",
                     "--output-dir", str(tmp_path / "spec"), "--kfp-endpoint", kfp.url)
    assert result.returncode == 0, result.stderr
    (pipeline,) = kfp.pipelines.values()
    (version,) = kfp.versions[pipeline["pipeline_id"]]
    assert f"{kfp.url}/#/pipelines/details/{pipeline['pipeline_id']}/version/" \
           f"{version['pipeline_version_id']}" in result.stdout


def test_the_kfp_token_comes_from_the_file_the_configuration_names(kfp, tmp_path):
    token_file = tmp_path / "kfp-token"
    token_file.write_text("s3cret-token\n")
    result = run_cli("deploy", "--home", str(tmp_path / "home"),
                     "--pipeline-root", str(tmp_path / "root"), "--allow-local-root",
                     "--output-dir", str(tmp_path / "spec"), "--kfp-endpoint", kfp.url,
                     env={"MLOPS_KFP_TOKEN_FILE": str(token_file)})
    assert result.returncode == 0, result.stderr
    assert kfp.requests and {r.authorization for r in kfp.requests} == {"Bearer s3cret-token"}
    assert "s3cret" not in result.stdout + result.stderr

    token_file.unlink()
    result = run_cli("deploy", "--home", str(tmp_path / "home"),
                     "--pipeline-root", str(tmp_path / "root"), "--allow-local-root",
                     "--output-dir", str(tmp_path / "spec"), "--kfp-endpoint", kfp.url,
                     env={"MLOPS_KFP_TOKEN_FILE": str(token_file)})
    assert result.returncode == 1
    assert f"kfp_token_file {token_file}: No such file or directory" in result.stderr
    assert "Compiled" not in result.stdout  # known before compiling


def test_make_deploy_pipeline_dry_run_compiles_and_changes_nothing(tmp_path):
    # make's own --dry-run: the `+` recipe line still runs, told to change nothing. No endpoint
    # is configured, so any real call would fail.
    args = (f"--home {tmp_path}/home --pipeline-root {tmp_path}/root --allow-local-root "
            f"--output-dir {tmp_path}/spec")
    proc = subprocess.run(["make", "--no-print-directory", "deploy-pipeline", "--dry-run",
                           f"ARGS={args}"], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "spec" / "digits-pipeline.yaml").exists()
    assert "Would call:" in proc.stdout and "upload_pipeline_version(" in proc.stdout
    assert "push" in proc.stdout  # the image build/push it would do, printed by make


def test_unreachable_kfp_is_one_clear_error(tmp_path):
    from mlops.devdb import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(kfp_deploy.DeployError, match=f"cannot reach Kubeflow Pipelines at "
                                                     f"{endpoint}"):
        kfp_deploy.connect(endpoint, "kubeflow")


def test_an_endpoint_that_wants_a_token_is_one_line_at_once(tmp_path):
    """A multi-user KFP answers 401 without a token: said at once with how to give one, not
    after kfp.Client's retries and five tracebacks."""
    import time

    from tests.fake_kfp import FakeKfp

    with FakeKfp(token="s3cret") as server:
        started = time.monotonic()
        with pytest.raises(kfp_deploy.DeployError) as raised:
            kfp_deploy.connect(server.url, "kubeflow")
        assert time.monotonic() - started < 5
        assert str(raised.value) == (
            f"Kubeflow Pipelines at {server.url} answered 401 Unauthorized: it wants a token: "
            "write one to a file and name it with kfp_token_file (MLOPS_KFP_TOKEN_FILE), e.g. "
            "`kubectl -n <namespace> create token default-editor > token`")
        with pytest.raises(kfp_deploy.DeployError, match="refused the token in kfp_token_file"):
            kfp_deploy.connect(server.url, "kubeflow", token="wrong")
        assert kfp_deploy.connect(server.url, "kubeflow", token="s3cret") is not None


def test_cron_forms_for_kfp_and_vertex():
    assert kfp_deploy.check_cron("0 0 3 * * *") == "0 0 3 * * *"
    with pytest.raises(kfp_deploy.DeployError, match="6, seconds first"):
        kfp_deploy.check_cron("0 3 * * *")
    assert vertex_deploy.vertex_cron("0 0 3 * * *", "Europe/Amsterdam") == \
        "TZ=Europe/Amsterdam 0 3 * * *"
    with pytest.raises(kfp_deploy.DeployError, match="no seconds field"):
        vertex_deploy.vertex_cron("30 0 3 * * *", "Etc/UTC")


def test_vertex_schedule_dry_run_names_the_calls(tmp_path):
    plan = kfp_deploy.Plan(dry_run=True)
    vertex_deploy.schedule(plan, "job.json", display_name="digits", pipeline_root="gs://b/r",
                           project="acme", region="europe-west4", cron="0 0 3 * * *",
                           timezone="Etc/UTC")
    assert plan.calls[-1] == ("PipelineJob.create_schedule(cron='TZ=Etc/UTC 0 3 * * *', "
                              "max_concurrent_run_count=1)")

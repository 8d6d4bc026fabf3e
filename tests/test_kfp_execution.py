"""Scheduled retraining on Kubeflow, through a stand-in as strict as open-source KFP
(tests/kfp_harness.py): the compiled YAML that `make deploy-pipeline` uploads, run after run with
one persistent KFP cache and KFP's ML Metadata in MariaDB (`metadb`), inputs delivered untyped as
KFP's driver delivers them.

The story: span 1 -> version 1; a new span -> retrained, compared with version 1, pushed as 2; no
new span -> nothing that costs re-executes, no new version; a new span that gives a worse model ->
refused, version 2 stays; an operator rolls production back to version 1 -> the next run's
baseline is version 1.

With MLOPS_HARNESS_IMAGE set (`make test-image`), every task runs in that pipeline image through
podman or docker, as on a cluster; otherwise in this interpreter."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from mlops import data, devdb
from mlops.metadata import connection_config, parse_url
from tests.conftest import E2E_TRAIN_STEPS, run_cli
from tests.kfp_harness import Harness, TaskRun

pytestmark = pytest.mark.e2e
PIPELINE = "digits-pipeline"
# What costs: a run with no new span must execute none of these.
COSTLY = ("ImportExampleGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer", "Evaluator",
          "EvaluatorTFLite", "EvaluatorTFLiteVariants", "BlessingGate", "Pusher")


@dataclasses.dataclass
class Cluster:
    base: Path
    spec: Path
    metadata_url: str
    password_file: str
    runs: list[dict[str, TaskRun]] = dataclasses.field(default_factory=list)
    harness: Harness | None = None

    @property
    def home(self) -> Path:
        return self.base / "home"

    def run(self) -> dict[str, TaskRun]:
        # A new harness per run, as each scheduled run is new to KFP: only the store, the
        # pipeline root, the published buckets and the cache carry over.
        target = parse_url(self.metadata_url, password_file=self.password_file)
        self.harness = Harness(str(self.spec), str(self.base / "root"), connection_config(target),
                               cache_file=str(self.base / "kfp-cache.json"),
                               **_in_image(self.base))
        self.runs.append(self.harness.run())
        return self.runs[-1]

    def cli(self, *args: str):
        return run_cli(*args, "--home", str(self.home), "--metadata", self.metadata_url,
                       env={"MLOPS_METADATA_PASSWORD_FILE": self.password_file})

    def versions(self) -> list[int]:
        return sorted(int(p.name) for p in (self.home / "publish/serving/digits").iterdir()
                      if p.name.isdigit())

    def latest_mobile(self) -> int:
        return json.loads((self.home / "publish/mobile/digits/latest.json").read_text())["version"]

    def baseline_id(self, run: int) -> int:
        """The MLMD id of the model the run's SavedModel Evaluator was given as its baseline."""
        return self.input_ids(run, "Evaluator", "baseline_model")[0]

    def baseline_uri(self, run: int) -> str:
        (artifact,) = self.harness.store.get_artifacts_by_id([self.baseline_id(run)])
        return artifact.uri

    def model_uri(self, run: int) -> str:
        return self.runs[run]["Trainer"].outputs["model"][0]["uri"]

    def input_ids(self, run: int, task: str, key: str) -> list[int]:
        from ml_metadata.proto import metadata_store_pb2 as mlmd

        store = self.harness.store
        execution_id = self.runs[run][task].execution_id
        return [e.artifact_id for e in store.get_events_by_execution_ids([execution_id])
                if e.type == mlmd.Event.INPUT and e.path.steps[0].key == key]


def _in_image(base: Path) -> dict:
    """The task command's `python`, inside the pipeline image, with `base` at the same path."""
    image = os.environ.get("MLOPS_HARNESS_IMAGE")
    if not image:
        return {}
    engine = shutil.which("podman") or shutil.which("docker")
    wrapper = base / "python-in-image"
    wrapper.write_text(f"#!/bin/sh\nexec {engine} run --rm -e KFP_POD_NAME -e KFP_POD_UID "
                       f'-v {base}:{base} {image} python "$@"\n')
    wrapper.chmod(0o755)
    return {"python": str(wrapper), "env": {}}


def _write_scrambled_span(directory: Path) -> Path:
    """Span 3's images with seeded random labels: a model trained on it is worse than any real
    one, and its eval split says so."""
    import numpy as np
    import tensorflow as tf

    source = data.write_digits_span(str(directory), 3)
    records = [tf.train.Example.FromString(r.numpy())
               for r in tf.data.TFRecordDataset(os.path.join(source, data.DIGITS_FILE))]
    labels = np.random.default_rng(7).integers(0, 10, len(records))
    out = directory / "scrambled.tfrecord"
    with tf.io.TFRecordWriter(str(out)) as writer:
        for example, label in zip(records, labels):
            example.features.feature["image_class"].int64_list.value[:] = [int(label)]
            writer.write(example.SerializeToString())
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, mysql_server) -> Cluster:
    base = tmp_path_factory.mktemp("kfp-cluster")
    data_root = base / "data"
    data.ingest(str(data_root), None)  # span 1
    spec_dir = base / "spec"
    # The same command `make deploy-pipeline` compiles with (a local root: no bucket here). Two
    # equally good models differ by chance on ~100 eval examples: allow a 5-point drop.
    result = run_cli("compile", "--home", str(base / "home"), "--data", str(data_root),
                     "--pipeline-root", str(base / "root"), "--allow-local-root",
                     "--train-steps", E2E_TRAIN_STEPS, "--max-accuracy-drop", "0.05",
                     "--output-dir", str(spec_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    cluster = Cluster(base, spec_dir / f"{PIPELINE}.yaml",
                      devdb.create_database(mysql_server, "metadb"),
                      str(mysql_server.password_file))

    cluster.run()                                   # 1: span 1, nothing in production
    data.ingest(str(data_root), None)
    cluster.run()                                   # 2: span 2, against version 1
    cluster.run()                                   # 3: no new span
    data.ingest(str(data_root), str(_write_scrambled_span(base / "scrambled")))
    cluster.run()                                   # 4: span 3, a worse model
    rollback = cluster.cli("rollback", "--version", "1")
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    cluster.run()                                   # 5: no new span, production is version 1
    return cluster


def _metadata(run: dict[str, TaskRun], task: str, key: str) -> dict:
    (artifact,) = run[task].outputs[key]
    return artifact["metadata"]


def test_first_run_pushes_version_1_gated_by_value_thresholds_alone(cluster):
    run = cluster.runs[0]
    assert _metadata(run, "ImportExampleGen", "examples")["span"] == 1
    gate = _metadata(run, "BlessingGate", "blessing")
    assert gate["blessed"] == 1
    assert json.loads(gate["saved_model_metrics"])["sparse_categorical_accuracy"] >= 0.85
    assert "saved_model_baseline_metrics" not in gate  # no baseline: nothing in production
    (baseline,) = run["ProductionBaseline"].outputs["result"]
    assert baseline["uri"].endswith("ProductionBaseline/no-production-model")
    pushed = _metadata(run, "Pusher", "pushed_model")
    assert pushed["pushed"] == 1 and pushed["pushed_version"] == "1"
    serving = cluster.home / "publish/serving/digits/1"
    assert json.loads(pushed["pushed_destinations"])["TF Serving"] == str(serving)
    assert (serving / "saved_model.pb").exists() and (serving / "tflite").exists()


def test_new_span_is_retrained_compared_with_version_1_and_pushed_as_2(cluster):
    run = cluster.runs[1]
    assert run["ImportExampleGen"].state == "COMPLETE" and run["Trainer"].state == "COMPLETE"
    examples = _metadata(run, "ImportExampleGen", "examples")
    assert examples["span"] == 2 and "num_files:1" in examples["input_fingerprint"]
    # The baseline is the model version 1 was trained into (importer, reimport off).
    assert cluster.baseline_uri(1) == cluster.model_uri(0)
    gate = _metadata(run, "BlessingGate", "blessing")
    assert gate["blessed"] == 1
    assert json.loads(gate["saved_model_baseline_metrics"])["sparse_categorical_accuracy"] > 0
    assert _metadata(run, "Pusher", "pushed_model")["pushed_version"] == "2"


def test_no_new_span_executes_nothing_that_costs_and_makes_no_new_version(cluster):
    run = cluster.runs[2]
    assert {task: run[task].state for task in COSTLY} == {task: "CACHED" for task in COSTLY}
    # Only the two look-ups ran: the newest span, and the model in production.
    assert run["LatestSpan"].state == run["ProductionModel"].state == "COMPLETE"
    # Version 2 is in production and is the candidate itself: its own baseline (version 1) again,
    # the same artifact, so the Evaluators' cache keys are unchanged.
    assert cluster.baseline_id(2) == cluster.baseline_id(1)
    assert _metadata(run, "Pusher", "pushed_model")["pushed_version"] == "2"


def test_worse_model_from_a_new_span_is_refused_and_version_2_stays_everywhere(cluster):
    run = cluster.runs[3]
    assert _metadata(run, "ImportExampleGen", "examples")["span"] == 3
    assert run["Trainer"].state == "COMPLETE"
    assert cluster.baseline_uri(3) == cluster.model_uri(1)
    assert _metadata(run, "BlessingGate", "blessing")["blessed"] == 0
    assert _metadata(run, "Pusher", "pushed_model")["pushed"] == 0
    # Run 5 came after the rollback; before it, version 2 was everywhere (models.config unpinned).
    assert cluster.versions() == [1, 2]
    assert (cluster.home / "publish/hub/mlops/digits/2").exists()
    assert not (cluster.home / "publish/hub/mlops/digits/3").exists()


def test_after_a_rollback_to_version_1_the_next_run_gates_against_version_1(cluster):
    run = cluster.runs[4]
    assert run["Trainer"].state == "CACHED"  # no new span: span 3's model is still the candidate
    assert run["Evaluator"].state == "COMPLETE"  # a new baseline is a new evaluation
    assert cluster.baseline_uri(4) == cluster.model_uri(0)
    assert cluster.baseline_id(4) == cluster.baseline_id(1)  # the artifact KFP already held
    assert cluster.versions() == [1, 2] and cluster.latest_mobile() == 1
    config = (cluster.home / "publish/serving/models.config").read_text()
    assert "model_version_policy { specific { versions: 1 } }" in config
    assert "Version 1" in cluster.cli("production").stdout


def test_inputs_arrive_untyped_as_kfp_delivers_them_and_tfx_still_runs(cluster):
    """The driver hands over artifacts read back from ML Metadata: no schema, name = MLMD id."""
    statistics_gen = cluster.runs[0]["StatisticsGen"]
    (examples,) = cluster.runs[0]["ImportExampleGen"].outputs["examples"]
    assert examples["type"] == {"instanceSchema": ""} and examples["name"] == str(examples["_id"])
    assert statistics_gen.state == "COMPLETE"
    assert cluster.input_ids(0, "StatisticsGen", "examples") == [examples["_id"]]


def test_kfp_store_records_runs_as_kfp_does(cluster):
    store = cluster.harness.store
    runs = store.get_contexts_by_type("system.PipelineRun")
    assert len(runs) == 5
    types = {t.name for t in store.get_artifact_types()}
    assert {"tfx.Examples", "tfx.Model", "tfx.ModelBlessing", "tfx.PushedModel"} <= types
    executions = store.get_executions_by_context(runs[2].id)
    states = {e.custom_properties["task_name"].string_value: e.last_known_state
              for e in executions}
    assert states["Trainer"] == 5  # CACHED


def test_mlops_runs_and_lineage_read_the_kubeflow_store(cluster):
    result = cluster.cli("runs", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["span"] for r in rows] == [1, 2, 2, 3, 3]
    assert [r["pushed_version"] for r in rows] == ["1", "2", "2", None, None]
    lineage = cluster.cli("lineage", "--version", "2", "--format", "json")
    assert lineage.returncode == 0, lineage.stderr
    steps = {s["node_id"]: s for s in json.loads(lineage.stdout)["steps"]}
    assert steps["ImportExampleGen"]["details"]["span"] == 2
    assert {"Trainer", "Evaluator", "BlessingGate", "Pusher"} <= set(steps)


def test_the_run_page_shows_the_verdict_metrics_and_report(cluster, tmp_path):
    """What KFP's UI renders of run 2 (pushed as version 2, gated against version 1): ML Metadata
    holds the Pusher's system.Metrics, system.ClassificationMetrics, system.Markdown and
    system.HTML artifacts with the fields the UI reads, their files exist at their URIs, and the
    report renders in Chromium."""
    from tests.browser import Browser
    from tests.test_report_pages import ARTIFACTS

    store = cluster.harness.store
    outputs = cluster.runs[1]["Pusher"].outputs
    recorded = {}
    for key, title in (("gate_metrics", "system.Metrics"), ("verdict", "system.Markdown"),
                       ("report", "system.HTML")):
        (artifact,) = outputs[key]
        (stored,) = store.get_artifacts_by_uri(artifact["uri"])
        (artifact_type,) = store.get_artifact_types_by_id([stored.type_id])
        assert artifact_type.name == title, key
        recorded[key] = artifact
    metrics = recorded["gate_metrics"]["metadata"]
    assert metrics["display_name"] == "gate metrics"
    for name in ("sparse_categorical_accuracy", "tflite_sparse_categorical_accuracy",
                 "production_sparse_categorical_accuracy", "mobile_model_bytes"):
        assert isinstance(metrics[name], float), name  # the UI's metrics table shows numbers
    # The SavedModel's confusion matrix on the eval split, as KFP's UI reads it (the launcher
    # wraps a dict as {"struct": ...}): ten classes, every eval example counted once.
    (classification,) = outputs["classification_metrics"]
    (stored,) = store.get_artifacts_by_uri(classification["uri"])
    (artifact_type,) = store.get_artifact_types_by_id([stored.type_id])
    assert artifact_type.name == "system.ClassificationMetrics"
    confusion = classification["metadata"]["confusionMatrix"]["struct"]
    assert [spec["displayName"] for spec in confusion["annotationSpecs"]] == [
        str(i) for i in range(10)]
    assert len(confusion["rows"]) == 10 and all(len(r["row"]) == 10 for r in confusion["rows"])
    gate = _metadata(cluster.runs[1], "BlessingGate", "blessing")
    examples = json.loads(gate["saved_model_metrics"])["example_count"]
    assert sum(sum(r["row"]) for r in confusion["rows"]) == examples
    verdict = Path(recorded["verdict"]["uri"]).read_text()
    assert verdict.startswith("**digits: published as version 2.**")
    assert "- TF Serving:" in verdict and "- mobile model bucket:" in verdict

    # KFP's HTML viewer renders the file's content as a page whatever its name: so does this.
    page = tmp_path / "report.html"
    page.write_text(Path(recorded["report"]["uri"]).read_text())
    browser = Browser(tmp_path / "chromium-profile")
    try:
        browser.open(page.as_uri())
        assert "published as version 2" in browser.evaluate(
            "document.getElementById('verdict').innerText")
        rows = browser.evaluate("[...document.querySelectorAll('#metrics tr')]"
                                ".map(row => row.innerText)")
        assert any(row.startswith("production_sparse_categorical_accuracy") for row in rows)
        assert "<" not in browser.evaluate("document.body.innerText")  # markup, not text
        assert browser.errors == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert browser.screenshot(ARTIFACTS / "kfp-run-report.png").stat().st_size > 5_000
    finally:
        browser.close()

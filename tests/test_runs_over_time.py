"""Retraining over time on ML Metadata in MySQL (a private MariaDB): two spans in sequence, each
candidate compared with the model in production; a worse one is never pushed, and a rerun that
changes nothing executes nothing; lineage traces it all. (The same story with a new span that
makes a worse model, a rollback and KFP's cache runs on Kubeflow in test_kfp_execution.py.)
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import E2E_TRAIN_STEPS, run_cli, write_dimmed_digits

pytestmark = pytest.mark.e2e
FIRST_TRAIN_STEPS = "20"


class History:
    def __init__(self, home, env):
        self.home, self.env = home, env
        self.results = []

    def cli(self, *args):
        return run_cli(*args, "--home", str(self.home), env=self.env)

    def run(self, *flags):
        result = self.cli("run", *flags)
        assert result.returncode == 0, result.stdout + result.stderr
        self.results.append(result)
        return result

    def json(self, *args):
        result = self.cli(*args, "--format", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def served_versions(self):
        return sorted(int(p.name) for p in (self.home / "publish/serving/digits").iterdir()
                      if p.name.isdigit())

    def gate(self, lineage):
        return next(s for s in lineage["steps"] if s["node_id"] == "BlessingGate")["details"]


@pytest.fixture(scope="module")
def history(tmp_path_factory, mysql_server):
    home = tmp_path_factory.mktemp("spans-home")
    env = {"MLOPS_METADATA": mysql_server.url,
           "MLOPS_METADATA_PASSWORD_FILE": str(mysql_server.password_file)}
    history = History(home, env)
    # Span 1: no baseline yet, so value thresholds alone. A short first training (and a lower
    # bound to match) makes the second model clearly better; two equally good models trained on
    # a few hundred examples each would make "not worse" a coin toss on 112 eval examples.
    history.run("--train-steps", FIRST_TRAIN_STEPS, "--accuracy-threshold", "0.5")
    assert history.cli("ingest").returncode == 0
    history.run("--train-steps", E2E_TRAIN_STEPS)  # span 2: against span 1's model
    # The same span with a deliberately bad trainer (1 step). The value threshold is switched
    # off, so only the comparison with the model in production (version 2) can stop it.
    history.run("--train-steps", "1", "--accuracy-threshold", "0")
    # Nothing new: TFX's cache (--force), then the platform's own check, which does not start TFX.
    history.run("--train-steps", "1", "--accuracy-threshold", "0", "--force")
    history.noop = history.cli("run", "--train-steps", "1", "--accuracy-threshold", "0")
    return history


def test_metadata_lives_in_mysql_not_in_the_home(history):
    assert "ML Metadata: mysql://mlops@127.0.0.1" in history.results[0].stdout
    assert not (history.home / "metadata").exists()


def test_each_run_took_the_newest_span_and_only_better_models_were_pushed(history):
    runs = history.json("runs")[:4]  # the data-validation story below adds more
    assert [r["span"] for r in runs] == [1, 2, 2, 2]
    assert [r["blessed"] for r in runs] == [True, True, False, False]
    assert [r["pushed_version"] for r in runs] == ["1", "2", None, None]
    assert all(r["status"] == "COMPLETE" for r in runs)


def test_second_model_was_compared_with_the_first(history):
    lineage = history.json("lineage", "--version", "2")
    first_model = history.json("lineage", "--version", "1")
    first_trainer = next(s for s in first_model["steps"] if s["node_id"] == "Trainer")
    for step in lineage["steps"]:
        if step["node_id"] in ("Evaluator", "EvaluatorTFLite"):
            assert step["details"]["baseline_model_artifact_id"] == \
                first_trainer["details"]["model_artifact_id"]
            assert step["details"]["blessed"]
            # Gated on "never worse than production": the change is at least 0.
            assert step["details"]["change"]["sparse_categorical_accuracy"] >= 0
    for step in lineage["steps"]:
        if step["node_id"] in ("Evaluator", "EvaluatorTFLite"):
            assert step["details"]["metrics"]["sparse_categorical_accuracy"] >= 0.85
    # The first run had no baseline: value thresholds alone.
    first_steps = {s["node_id"]: s["details"] for s in first_model["steps"]}
    assert first_steps["Evaluator"]["baseline_metrics"] is None
    assert first_steps["Evaluator"]["metrics"]["sparse_categorical_accuracy"] >= 0.5


def test_worse_model_is_refused_by_the_change_threshold_and_version_2_stays_served(history):
    refused = history.results[2].stdout
    assert "(cached)" in _progress_line(refused, "Transform")  # same span: only training anew
    assert "(cached)" not in _progress_line(refused, "Trainer")
    assert "Not pushed" in refused and "model in production" in refused
    assert history.served_versions() == [1, 2]
    latest = json.loads((history.home / "publish/mobile/digits/latest.json").read_text())
    assert latest["version"] == 2
    # The default lineage is still version 2's: nothing newer was pushed.
    assert history.json("lineage")["target"]["pushed_version"] == "2"


def test_a_run_with_nothing_new_says_so_without_starting_tfx(history):
    """The same span, configuration, module, schema, platform and published models as the last
    completed run (the forced rerun): nothing to do, said in one line, no pipeline run."""
    noop = history.noop
    assert noop.returncode == 0, noop.stderr
    last = history.json("runs")[3]["run_id"]
    assert noop.stdout.startswith(f"Nothing changed since run {last} ")
    assert "Version 2 is in production. --force runs anyway." in noop.stdout
    assert "ImportExampleGen" not in noop.stdout
    assert len([r for r in history.json("runs") if r["span"] == 2]) == 3  # no run recorded


def test_rerun_without_a_new_span_executes_nothing_again(history):
    rerun = history.results[3]
    assert "Not pushed" in rerun.stdout
    runs = history.json("runs")[:4]
    # Every execution is CACHED, the baseline Importer too (it hands back the artifact it holds).
    assert runs[-1]["cached"] == runs[-1]["executions"]
    for component in ("Trainer", "Evaluator", "Pusher"):
        assert "(cached)" in _progress_line(rerun.stdout, component)


def _progress_line(stdout: str, component: str) -> str:
    (line,) = [line for line in stdout.splitlines() if f"] {component} ... done in" in line]
    return line


def test_lineage_traces_the_served_model_back_to_its_span(history):
    by_path = history.json("lineage", "--path",
                           str(history.home / "publish/mobile/digits/2/model.tflite"))
    default = history.json("lineage")
    assert by_path == default
    steps = {s["node_id"]: s for s in default["steps"]}
    assert {"Pusher", "BlessingGate", "Evaluator", "EvaluatorTFLite", "Trainer", "Transform",
            "SchemaGen", "StatisticsGen", "ExampleValidator", "ImportExampleGen"} <= set(steps)
    assert steps["ImportExampleGen"]["details"]["span"] == 2
    assert "num_files:1" in steps["ImportExampleGen"]["details"]["input_fingerprint"]
    assert steps["Trainer"]["details"]["train_steps"] == int(E2E_TRAIN_STEPS)
    assert steps["Trainer"]["details"]["hyperparameters"]["learning_rate"] == 0.005
    assert len(steps["Trainer"]["details"]["code_fingerprint"]) >= 16
    assert steps["Pusher"]["details"]["version"] == "2"
    assert steps["ExampleValidator"]["details"]["anomaly_free_splits"] == {"train": 1.0,
                                                                           "eval": 1.0}
    # One pipeline run produced all of it.
    assert len({s["run_id"] for s in default["steps"]}) == 1
    text = history.cli("lineage").stdout
    assert text.splitlines()[0].startswith("Pushed model version 2")
    assert "span: 2" in text


def test_lineage_graph_renders_as_svg_and_html(history):
    svg, page = history.home / "lineage.svg", history.home / "lineage.html"
    assert history.cli("lineage", "--graph", str(svg)).returncode == 0
    assert history.cli("lineage", "--version", "1", "--graph", str(page)).returncode == 0
    picture = svg.read_text()
    assert picture.lstrip().startswith("<?xml") and "<svg" in picture
    for node in ("ImportExampleGen", "Trainer", "EvaluatorTFLite", "Pusher", "span 2"):
        assert node in picture
    html = page.read_text()
    assert "<svg" in html and "span: 1" in html and "pushed version 1" in html


def test_unknown_model_is_one_clear_error(history):
    result = history.cli("lineage", "--version", "99")
    assert result.returncode != 0 and "no pushed model has version 99" in result.stderr


# Data validation over spans (README "Data validation"), after the story above: span 2's model is
# in production, its span's statistics recorded beside it.
# The production model still reads dim digits well: the change threshold relaxed, so the accepted
# span's model is pushed and its lineage can be read.
ACCEPTED = ("--train-steps", "300", "--accept-drift", "--max-accuracy-drop", "0.2")


@pytest.fixture(scope="module")
def drift(history, tmp_path_factory):
    promoted = history.cli("schema", "--promote")
    assert promoted.returncode == 0, promoted.stderr
    source = write_dimmed_digits(tmp_path_factory.mktemp("dimmed"))
    assert history.cli("ingest", "--source", str(source)).returncode == 0  # span 3
    stopped = history.cli("run", "--train-steps", E2E_TRAIN_STEPS)
    served_after_stop = history.served_versions()
    accepted = history.cli("run", *ACCEPTED)
    # The curated schema edited: labels 0..8 only. The same span, flags and cache otherwise.
    schema_file = history.home / "schema" / "digits-pipeline.pbtxt"
    curated = schema_file.read_text()
    schema_file.write_text(curated.replace('name: "image_class"\n  type: INT\n',
                                           'name: "image_class"\n  type: INT\n'
                                           '  int_domain {\n    min: 0\n    max: 8\n  }\n', 1))
    narrowed = history.cli("run", *ACCEPTED)
    return {"promoted": promoted, "curated": curated, "stopped": stopped,
            "served_after_stop": served_after_stop, "accepted": accepted,
            "narrowed": narrowed, "runs": history.json("runs")[4:]}


def test_promoted_schema_is_shown_and_has_training_and_serving_environments(drift):
    shown = drift["promoted"].stdout
    assert "image_floats  FLOAT  required  [64]" in shown and "Promoted to" in shown
    assert 'default_environment: "SERVING"' in drift["curated"]
    assert 'not_in_environment: "SERVING"' in drift["curated"]  # the label, on image_class


def test_a_drifted_span_stops_before_transform_naming_the_feature(drift, history):
    stopped = drift["stopped"]
    assert stopped.returncode != 0
    assert "DataGate failed" in stopped.stderr and "stops before Transform" in stopped.stderr
    assert "feature 'image_floats': quantile distance" in stopped.stderr
    assert "against threshold 0.05" in stopped.stderr and "--accept-drift" in stopped.stderr
    assert "Nothing was pushed" in stopped.stderr
    assert "] Transform ... started" not in stopped.stdout  # nothing trained
    assert "] ImportSchemaGen ... done" in stopped.stdout  # the curated schema, imported
    assert drift["served_after_stop"] == [1, 2]
    assert (history.home / "data/digits/span-3").is_dir()  # the span is kept
    assert drift["runs"][0]["span"] == 3 and drift["runs"][0]["status"] == "FAILED"
    assert drift["runs"][0]["data"] == "stopped"


def test_accepted_drift_runs_through_and_lineage_records_it(drift, history):
    accepted = drift["accepted"]
    assert accepted.returncode == 0, accepted.stderr
    assert "] Pusher ... done" in accepted.stdout
    assert drift["runs"][1]["data"] == "drift accepted: image_floats"
    assert drift["runs"][1]["status"] == "COMPLETE"
    assert history.served_versions() == [1, 2, 3]
    lineage = history.json("lineage", "--version", "3")["steps"]
    steps = {s["node_id"]: s["details"] for s in lineage}
    # Both checks of span 3 are in its lineage: the run it stopped, and the override.
    gates = {s["state"]: s["details"] for s in lineage if s["node_id"] == "DataGate"}
    assert gates["FAILED"] == {"verdict": "stopped"}
    gate = gates["COMPLETE"]
    assert gate["verdict"] == "drift accepted: image_floats" and gate["accept_drift"] is True
    assert gate["drift"]["image_floats"]["value"] > gate["drift"]["image_floats"]["threshold"]
    assert gate["previous_statistics"].startswith(str(history.home))
    assert len(steps["ImportSchemaGen"]["schema_sha256"]) == 16  # which curated schema
    before = {s["node_id"]: s["details"]
              for s in history.json("lineage", "--version", "2")["steps"]}
    assert before["DataGate"]["verdict"] == "passed" and not before["DataGate"]["accept_drift"]
    assert before["SchemaGen"]["curated"] is False


def test_editing_the_curated_schema_changes_the_verdict(drift):
    narrowed = drift["narrowed"]
    assert narrowed.returncode != 0
    assert "feature 'image_class'" in narrowed.stderr
    assert "] ImportSchemaGen ... done" in narrowed.stdout
    assert "(cached)" not in _progress_line(narrowed.stdout, "ImportSchemaGen")
    assert drift["runs"][2]["data"] == "stopped"
    assert "Nothing was pushed" in narrowed.stderr


def test_serving_skew_compares_requests_with_the_production_span(drift, history, tmp_path):
    # Version 3, trained on the dim span, is in production: dim requests match it, bright do not.
    dim = write_dimmed_digits(tmp_path, scale=0.5, rows=300, seed=11, labelled=False)
    bright = write_dimmed_digits(tmp_path, scale=1.0, rows=300, seed=11, labelled=False)
    matching = history.cli("skew", "--requests", str(dim))
    assert matching.returncode == 0, matching.stdout + matching.stderr
    assert "300 requests" in matching.stdout and matching.stdout.rstrip().endswith("No skew found.")
    skewed = history.cli("skew", "--requests", str(bright))
    assert skewed.returncode == 1
    assert "feature 'image_floats': quantile distance" in skewed.stdout
    assert "<- skew" in skewed.stdout and "image_class" not in skewed.stdout  # label not served

"""Two publishers racing for the same destinations, as two runs (or a scheduled run and a manual
one) do: each version is one model everywhere, latest.json names files whose sha256 it states,
nothing staged is left behind. Local paths here; the GCS emulator in test_publish_gcs.py. And
compare-and-publish: a candidate gated before another run published is not published over it
(local paths and the GCS emulator)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # publishes the session's model
ROUNDS = 4  # publishes per writer

WRITER = textwrap.dedent("""
    import json, sys, time
    import mlops  # TF_USE_LEGACY_KERAS before TensorFlow
    from components.pusher.destinations import serving
    from components.pusher.destinations.base import Release
    from components.pusher.destinations.registry import destinations_from
    from components.pusher.executor import publish

    # The load check (a TF Serving-like load in a fresh process) is tested on its own; here it
    # would only slow the race down.
    serving.load_check = lambda *args: None
    args = json.loads(sys.argv[1])
    destinations = destinations_from(args["roots"])
    while time.time() < args["start"]:
        time.sleep(0.01)
    for index in range(args["rounds"]):
        release = Release(model_name="digits", model_uri=f"{args['model']}-{index}",
                          model_artifact_id=index, run_id=args["name"], labels=tuple("0123456789"))
        version, _ = publish(release, destinations)
        print(version, release.model_uri, flush=True)
""")


def race(model_uri: str, roots: dict, work: Path, env: dict | None = None) -> list[tuple]:
    """Two writers, each publishing ROUNDS distinct models (copies of `model_uri`) at once;
    returns (version, model_uri) of every publish."""
    import os

    models = []
    for writer in ("a", "b"):
        for index in range(ROUNDS):
            target = work / f"model-{writer}-{index}"
            shutil.copytree(model_uri, target)
            models.append(str(target))
    start = time.time() + 20  # both past their imports
    procs = [subprocess.Popen(
        [sys.executable, "-c", WRITER, json.dumps({
            "roots": {"model_name": "digits", "destinations": [
                {"kind": "serving", "root": roots["serving"]},
                {"kind": "hub", "root": roots["hub"], "publisher": "acme"},
                {"kind": "mobile", "root": roots["mobile"]}]},
            "model": str(work / f"model-{writer}"), "name": writer, "rounds": ROUNDS,
            "start": start})],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}) for writer in ("a", "b")]
    published = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
        published += [(int(line.split()[0]), line.split()[1]) for line in out.splitlines()]
    return published


def check_destinations(published: list[tuple], read, names: list[str]) -> None:
    """Each version is one model in every destination; pointers name what they state. `read`
    gives a file's bytes by its path relative to the roots' parent; `names` lists every file."""
    versions = sorted(v for v, _ in published)
    assert versions == list(range(1, 2 * ROUNDS + 1)), versions  # no version lost or shared
    for version, model_uri in published:
        serving_source = json.loads(read(f"serving/digits/{version}/mlops_source.json"))
        hub_source = json.loads(read(f"hub/acme/digits/{version}/mlops_source.json"))
        manifest = json.loads(read(f"mobile/digits/{version}/manifest.json"))
        assert serving_source["model_uri"] == hub_source["model_uri"] == \
            manifest["source"]["model_uri"] == model_uri, version
        model = read(f"mobile/digits/{version}/model.tflite")
        assert manifest["sha256"] == hashlib.sha256(model).hexdigest()
    latest = json.loads(read("mobile/digits/latest.json"))
    assert latest["version"] == 2 * ROUNDS
    assert latest["sha256"] == hashlib.sha256(read(f"mobile/digits/{latest['model']}")).hexdigest()
    assert [n for n in names if ".staging-" in n or ".tmp-" in n] == []


def test_two_publishers_racing_on_local_paths_never_mix_versions(digits_run, tmp_path):
    model = digits_run.outputs("Trainer", "model")[0]
    roots = {name: str(tmp_path / "roots" / name) for name in ("serving", "hub", "mobile")}
    published = race(model.uri, roots, tmp_path)
    root = tmp_path / "roots"
    check_destinations(published, lambda path: (root / path).read_bytes(),
                       [str(p.relative_to(root)) for p in root.rglob("*")])


def test_leftovers_of_a_dead_publisher_are_removed_by_the_next(digits_run, tmp_path):
    from components.pusher.destinations.base import Release
    from components.pusher.destinations.hub import HubDestination
    from components.pusher.executor import publish

    hub = HubDestination(str(tmp_path / "hub"), "digits", "acme")
    dead = tmp_path / "hub/acme/digits/.staging-1"
    dead.mkdir(parents=True)
    (dead / "saved_model.pb").write_bytes(b"half")
    (tmp_path / "hub/acme/digits/.staging-1.tar.gz").write_bytes(b"half")
    model = digits_run.outputs("Trainer", "model")[0]
    version, _ = publish(Release(model_name="digits", model_uri=model.uri, model_artifact_id=1,
                                 run_id="next"), [hub])
    assert version == 1
    assert sorted(p.name for p in (tmp_path / "hub/acme/digits").iterdir()) == \
        [".publish-lease", "1", "1.tar.gz"]


PUBLISH_ONE = textwrap.dedent("""
    import json, sys
    import mlops  # TF_USE_LEGACY_KERAS before TensorFlow
    from components.baseline.production import baseline_uri
    from components.pusher.destinations import serving
    from components.pusher.destinations.base import Release
    from components.pusher.destinations.registry import destinations_from
    from components.pusher.executor import ProductionMoved, publish

    serving.load_check = lambda *args: None  # tested on its own
    args = json.loads(sys.argv[1])
    destinations = destinations_from(args["roots"])
    if args["model"] is None:  # what a run's gate compares its candidate with, at its start
        print(json.dumps(baseline_uri(destinations, args["pipeline_root"], args["candidate"])))
        sys.exit(0)
    release = Release(model_name="digits", model_uri=args["model"], model_artifact_id=1,
                      run_id="r", labels=tuple("0123456789"))
    try:
        print(json.dumps(publish(release, destinations, gated_against=args["gate"])[0]))
    except ProductionMoved as err:
        print(json.dumps(str(err)))
""")


def stale_gate(model_uri: str, roots: dict, work: Path, env: dict | None = None,
               next_run: bool = True) -> dict:
    """Runs A and B start together; A publishes, then B publishes against its stale gate; then
    (`next_run`) B's next run. Each step is a process of its own, as each run is."""
    import os

    def step(model=None, gate=None, candidate=""):
        proc = subprocess.run(
            [sys.executable, "-c", PUBLISH_ONE, json.dumps({
                "roots": {"model_name": "digits", "destinations": [
                    {"kind": "serving", "root": roots["serving"]},
                    {"kind": "hub", "root": roots["hub"], "publisher": "acme"},
                    {"kind": "mobile", "root": roots["mobile"]}]},
                "model": model, "gate": gate, "candidate": candidate,
                "pipeline_root": str(work / "pipeline-root")})],
            capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    a, b = (str(work / f"model-{name}") for name in ("a", "b"))
    for model in (a, b):
        shutil.copytree(model_uri, model)
    gate_a, gate_b = step(candidate=a), step(candidate=b)  # both: nothing in production
    steps = {"a": step(a, gate_a), "b": step(b, gate_b)}
    if next_run:
        steps["b_again"] = step(b, step(candidate=b))  # the next run gates against A's model
    return steps


def _check_stale_gate(steps: dict, work: Path) -> None:
    """A's model went in as version 1 while B's candidate was gated against nothing: B is not
    published over it (the race of issue 27: a worse model replaced a better one); B's next gate
    compares it with A's model and then it may go in."""
    assert steps["a"] == 1
    assert steps["b"].startswith("nothing was published: version 1 (")
    assert str(work / "model-a") in steps["b"] and "the next run gates against it" in steps["b"]
    if "b_again" in steps:
        assert steps["b_again"] == 2  # B's refused attempt took no version


def test_a_candidate_gated_before_another_run_published_is_not_published(digits_run, tmp_path):
    model = digits_run.outputs("Trainer", "model")[0]
    roots = {name: str(tmp_path / "roots" / name) for name in ("serving", "hub", "mobile")}
    _check_stale_gate(stale_gate(model.uri, roots, tmp_path), tmp_path)


def test_the_same_on_gcs(digits_run, gcs, tmp_path):
    from tests.conftest import GCS_BUCKET

    _, env = gcs
    model = digits_run.outputs("Trainer", "model")[0]
    roots = {name: f"gs://{GCS_BUCKET}/stale/{name}" for name in ("serving", "hub", "mobile")}
    # Not B's next run: a second version's copy hangs in TensorFlow's GCS filesystem against
    # fake-gcs-server (also without this check; an open finding, see README "Publishing").
    _check_stale_gate(stale_gate(model.uri, roots, tmp_path, env, next_run=False), tmp_path)

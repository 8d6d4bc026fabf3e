"""The whole push to gs:// destinations, against a real GCS-API server (fake-gcs-server)."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.conftest import E2E_TRAIN_STEPS, run_cli
from tests.conftest import GCS_BUCKET as BUCKET

pytestmark = pytest.mark.e2e


def test_pipeline_publishes_to_gcs_buckets(digits_run, gcs, tmp_path):
    bucket, env = gcs
    home = tmp_path / "home"
    shutil.copytree(digits_run.home, home)
    shutil.rmtree(home / "publish")

    # Same data and pipeline root as the session run: the cache serves everything but the Pusher.
    result = run_cli(
        "run", "--home", str(home), "--train-steps", E2E_TRAIN_STEPS,
        "--data", str(digits_run.home / "data/digits"),
        "--pipeline-root", str(digits_run.home / "pipelines/digits-pipeline"),
        "--serving-dir", f"gs://{BUCKET}/serving", "--hub-dir", f"gs://{BUCKET}/hub",
        "--mobile-dir", f"gs://{BUCKET}/mobile", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"gs://{BUCKET}/mobile/digits/1" in result.stdout
    names = {blob.name for blob in bucket.list_blobs()}
    assert "serving/digits/1/saved_model.pb" in names
    assert any(n.startswith("serving/digits/1/variables/") for n in names)
    assert f'base_path: "gs://{BUCKET}/serving/digits"' in bucket.blob(
        "serving/models.config").download_as_text()
    assert {"hub/mlops/digits/1/saved_model.pb", "hub/mlops/digits/1.tar.gz"} <= names
    assert not [n for n in names if ".staging" in n or ".tmp-" in n]

    latest = json.loads(bucket.blob("mobile/digits/latest.json").download_as_text())
    manifest = json.loads(bucket.blob("mobile/digits/1/manifest.json").download_as_text())
    model = bucket.blob("mobile/digits/1/model.tflite").download_as_bytes()
    assert latest["version"] == manifest["version"] == 1
    assert hashlib.sha256(model).hexdigest() == manifest["sha256"] == latest["sha256"]
    assert len(model) == manifest["size_bytes"]
    assert not (home / "publish").exists()  # nothing went to the local defaults


def test_the_lookups_find_the_newest_span_and_production_on_gcs(gcs, monkeypatch):
    """What the look-up tasks read on gs:// without TensorFlow (components.common.files): the
    newest span and its fingerprint as TFX computes it, and the version in production."""
    from components.baseline.production import production_model
    from components.common import files
    from components.pusher.destinations.registry import build
    from components.spans.newest import newest_span

    bucket, env = gcs
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    files._client.cache_clear()  # a client for the emulator
    for name, content in {"data/span-1/part": b"x", "data/span-10/part": b"xyz",
                          "data/span-10/more": b"ab", "data/span-2/part": b"xy",
                          "pub/serving/digits/1/mlops_source.json": b'{"model_uri": "m1"}',
                          "pub/serving/digits/2/mlops_source.json": b'{"model_uri": "m2"}',
                          "pub/serving/digits/2/saved_model.pb": b"pb"}.items():
        bucket.blob(name).upload_from_string(content)
    try:
        config = json.dumps({"splits": [{"name": "single_split", "pattern": "span-{SPAN}/*"}]})
        fingerprint, span = newest_span(f"gs://{BUCKET}/data", config)
        mtimes = [int(bucket.get_blob(f"data/span-10/{n}").updated.timestamp())
                  for n in ("more", "part")]
        assert span == 10
        assert fingerprint == (f"split:single_split,num_files:2,total_bytes:5,"
                               f"xor_checksum:{mtimes[0] ^ mtimes[1]},sum_checksum:{sum(mtimes)}")
        serving = build([{"kind": "serving", "root": f"gs://{BUCKET}/pub/serving"}], "digits")
        production = production_model(serving)
        assert (production.version, production.model_uri) == (2, "m2")
        assert files.listdir(f"gs://{BUCKET}/pub/serving/digits") == ["1", "2"]
        assert files.exists(f"gs://{BUCKET}/pub/serving") and not files.exists(
            f"gs://{BUCKET}/pub/nothing")
    finally:
        files._client.cache_clear()

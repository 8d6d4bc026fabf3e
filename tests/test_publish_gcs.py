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

"""Publishing destinations on local paths, with the model the session's pipeline run trained."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
from sklearn.datasets import load_digits

from components.pusher.destinations import fileio
from components.pusher.destinations.base import PublishError, Release
from components.pusher.destinations.hub import HubDestination
from components.pusher.destinations.mobile import MobileDestination
from components.pusher.destinations.serving import ServingDestination
from components.pusher.executor import publish

pytestmark = pytest.mark.e2e  # needs the session's pipeline run
IMAGES = load_digits().data[:20].astype(np.float32)


@pytest.fixture
def release(digits_run) -> Release:
    model = digits_run.outputs("Trainer", "model")[0]
    examples = digits_run.outputs("ImportExampleGen", "examples")[0]
    return Release(model_name="digits", model_uri=model.uri, model_artifact_id=model.id,
                   run_id="test-run", labels=tuple("0123456789"),
                   metrics={"sparse_categorical_accuracy": 0.9},
                   eval_examples=examples.uri + "/Split-eval/*")


def _destinations(root):
    return [ServingDestination(str(root / "serving"), "digits"),
            HubDestination(str(root / "hub"), "digits", "acme"),
            MobileDestination(str(root / "mobile"), "digits")]


def test_serving_layout_models_config_and_load_check(release, tmp_path):
    serving = ServingDestination(str(tmp_path), "digits")
    serving.stage(release, 1)
    assert serving.versions() == []  # staged out of TF Serving's sight
    path = serving.commit(release, 1)
    assert path == str(tmp_path / "digits" / "1") and serving.versions() == [1]
    assert (tmp_path / "digits/1/saved_model.pb").exists()
    assert (tmp_path / "digits/1/variables").is_dir()
    config = (tmp_path / "models.config").read_text()
    assert 'name: "digits"' in config and f'base_path: "{tmp_path / "digits"}"' in config


def test_serving_load_check_refuses_a_broken_model(release, tmp_path):
    broken_model = tmp_path / "model"
    shutil.copytree(release.model_uri, broken_model)
    (broken_model / "Format-Serving/saved_model.pb").write_bytes(b"not a SavedModel")
    broken = Release(**{**release.__dict__, "model_uri": str(broken_model)})
    serving = ServingDestination(str(tmp_path / "serving"), "digits")
    with pytest.raises(PublishError, match="load check failed"):
        serving.stage(broken, 1)
    serving.abort(1)
    assert serving.versions() == []
    assert not (tmp_path / "serving/digits/.staging-1").exists()


def test_hub_module_is_reusable_and_archived(release, tmp_path):
    destination = HubDestination(str(tmp_path), "digits", "acme")
    destination.stage(release, 3)
    path = destination.commit(release, 3)
    assert path == str(tmp_path / "acme/digits/3")
    module = hub.load(path)
    saved_model = tf.saved_model.load(release.serving_model_dir)
    expected = saved_model.signatures["serving_raw"](image_floats=IMAGES)["probabilities"]
    np.testing.assert_allclose(module(IMAGES), expected, atol=1e-5)
    assert module.variables and module.trainable_variables
    layer = hub.KerasLayer(path, trainable=True)
    assert layer.trainable_weights and layer(IMAGES).shape == (20, 10)
    with tarfile.open(tmp_path / "acme/digits/3.tar.gz") as archive:
        names = archive.getnames()
    assert "saved_model.pb" in names and any(n.startswith("variables/") for n in names)


def test_mobile_manifest_and_latest_pointer(release, tmp_path):
    destination = MobileDestination(str(tmp_path), "digits")
    destination.stage(release, 2)
    assert not (tmp_path / "digits/latest.json").exists()  # not visible before commit
    destination.commit(release, 2)
    latest = json.loads((tmp_path / "digits/latest.json").read_text())
    manifest = json.loads((tmp_path / "digits/2/manifest.json").read_text())
    model_file = tmp_path / "digits/2/model.tflite"
    assert latest["version"] == manifest["version"] == 2
    assert manifest["sha256"] == fileio.sha256(str(model_file)) == latest["sha256"]
    assert manifest["size_bytes"] == model_file.stat().st_size
    assert manifest["inputs"][0]["shape"] == [-1, 64]
    assert manifest["outputs"][0]["shape"] == [-1, 10]
    assert manifest["labels"] == list("0123456789")
    assert manifest["model_artifact_id"] == release.model_artifact_id
    assert manifest["run_id"] == "test-run" and manifest["metrics"]
    assert not list((tmp_path / "digits").glob("latest.json.tmp-*"))


def test_publishing_the_same_model_twice_makes_one_version(release, tmp_path):
    destinations = _destinations(tmp_path)
    first, _ = publish(release, destinations)
    second, _ = publish(release, destinations)
    assert first == second == 1
    assert [d.versions() for d in destinations] == [[1], [1], [1]]


def test_failure_in_the_last_destination_moves_no_pointer(release, tmp_path):
    destinations = _destinations(tmp_path / "publish")
    publish(release, destinations)
    latest_before = (tmp_path / "publish/mobile/digits/latest.json").read_bytes()

    # A second model whose TFLite file is missing: the mobile bucket, published last, fails.
    second_model = tmp_path / "model-2"
    shutil.copytree(release.model_uri, second_model)
    second = Release(**{**release.__dict__, "model_uri": str(second_model)})
    Path(second.tflite_file).unlink()

    with pytest.raises(PublishError, match="publishing to mobile model bucket failed"):
        publish(second, destinations)

    assert [d.versions() for d in destinations] == [[1], [1], [1]]
    assert (tmp_path / "publish/mobile/digits/latest.json").read_bytes() == latest_before
    leftovers = [p for p in (tmp_path / "publish").rglob("*") if ".staging" in p.name]
    assert leftovers == []

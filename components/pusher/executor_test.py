"""The Pusher's executor on a tiny model built here (seconds, no pipeline run): a blessed model is
published to TF Serving, TF Hub and the mobile bucket as one version; an unblessed one nowhere; the
same model again keeps its version; a destination that fails leaves every other one untouched."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts

from components.common import model_layout
from components.common.names import MOBILE_VARIANT, TFLITE_VARIANT_RESULTS
from components.pusher import executor
from components.pusher.destinations import registry, serving
from components.pusher.destinations.base import SOURCE_RECORD, Destination, PublishError, Release

LABELS = ["small", "big"]


class _Tiny(tf.Module):
    """Two float inputs, two classes: what TF Serving (tf.Examples) and phones (raw) call."""

    def __init__(self):
        super().__init__()
        self.weights = tf.Variable([[1.0, -1.0], [0.5, 0.5]])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, examples):
        x = tf.io.parse_example(examples, {"x": tf.io.FixedLenFeature([2], tf.float32)})["x"]
        return {"probabilities": tf.nn.softmax(x @ self.weights)}

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    def raw(self, x):
        return {"probabilities": tf.nn.softmax(x @ self.weights)}


def _example(values) -> bytes:
    feature = {"x": tf.train.Feature(float_list=tf.train.FloatList(value=values))}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A Model artifact's directory laid out as the Trainer writes it, and eval examples."""
    root = tmp_path_factory.mktemp("trained")
    model_uri = str(root / "model")
    module = _Tiny()
    tf.saved_model.save(module, model_layout.serving_dir(model_uri),
                        signatures={"serving_default": module.serve, "serving_raw": module.raw})
    tf.saved_model.save(module, model_layout.hub_dir(model_uri))
    raw_dir = str(root / "raw")
    tf.saved_model.save(module, raw_dir, signatures={"serving_default": module.raw})
    tflite = tf.lite.TFLiteConverter.from_saved_model(raw_dir).convert()
    os.makedirs(model_layout.variant_dir(model_uri, "float32"))
    with open(model_layout.variant_file(model_uri, "float32"), "wb") as handle:
        handle.write(tflite)
    with open(model_layout.inputs_file(model_uri), "w") as handle:
        json.dump({"x": {"dtype": "float32", "shape": [2]}}, handle)
    examples_uri = root / "examples"
    (examples_uri / "Split-eval").mkdir(parents=True)
    with tf.io.TFRecordWriter(str(examples_uri / "Split-eval/data.tfrecord")) as writer:
        for values in ([1.0, 2.0], [0.0, -1.0], [3.0, 0.5]):
            writer.write(_example(values))
    return model_uri, str(examples_uri)


def _artifacts(model_uri: str, examples_uri: str, blessed: bool, out: str):
    model = standard_artifacts.Model()
    model.uri, model.id = model_uri, 7
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = os.path.join(out, "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    blessing.set_string_custom_property(MOBILE_VARIANT, "float32")
    blessing.set_string_custom_property(TFLITE_VARIANT_RESULTS, json.dumps(
        {"float32": {"size_bytes": 1, "metric": "accuracy", "value": 0.9, "eligible": True}}))
    examples = standard_artifacts.Examples()
    examples.uri, examples.split_names = examples_uri, json.dumps(["train", "eval"])
    pushed = standard_artifacts.PushedModel()
    pushed.uri = os.path.join(out, "pushed")
    inputs = {"model": [model], "model_blessing": [blessing], "examples": [examples]}
    return inputs, {"pushed_model": [pushed]}, pushed


def _properties(roots) -> dict:
    return {"model_name": "tiny", "labels_json": json.dumps(LABELS), "destinations": json.dumps([
        {"kind": "serving", "root": str(roots / "serving")},
        {"kind": "hub", "root": str(roots / "hub"), "publisher": "acme"},
        {"kind": "mobile", "root": str(roots / "mobile")}])}


def test_a_blessed_model_is_one_version_everywhere_and_a_rerun_keeps_it(trained, tmp_path):
    model_uri, examples_uri = trained
    inputs, outputs, pushed = _artifacts(model_uri, examples_uri, True, str(tmp_path))
    executor.Executor().Do(inputs, outputs, _properties(tmp_path))  # with the real load check

    assert pushed.get_int_custom_property("pushed") == 1
    assert pushed.get_string_custom_property("pushed_version") == "1"
    assert tf.saved_model.load(str(tmp_path / "serving/tiny/1")).signatures["serving_default"](
        examples=tf.constant([_example([1.0, 2.0])]))["probabilities"].shape == (1, 2)
    assert (tmp_path / "hub/acme/tiny/1/saved_model.pb").exists()
    version = tmp_path / "mobile/tiny/1"
    manifest = json.loads((version / "manifest.json").read_text())
    latest = json.loads((tmp_path / "mobile/tiny/latest.json").read_text())
    model_bytes = (version / "model.tflite").read_bytes()
    assert latest["version"] == manifest["version"] == 1
    assert latest["sha256"] == manifest["sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert manifest["labels"] == LABELS and manifest["task"] == "multiclass"
    assert manifest["source"]["model_uri"] == model_uri
    runner = tf.lite.Interpreter(model_content=model_bytes).get_signature_runner()
    assert runner(x=tf.constant([[1.0, 2.0]]))["probabilities"].shape == (1, 2)

    # The same model again (a rerun of the run that published it) keeps version 1.
    inputs, outputs, again = _artifacts(model_uri, examples_uri, True, str(tmp_path / "again"))
    executor.Executor().Do(inputs, outputs, _properties(tmp_path))
    assert again.get_string_custom_property("pushed_version") == "1"
    assert sorted(p.name for p in (tmp_path / "serving/tiny").iterdir()
                  if not p.name.startswith(".")) == ["1"]


def test_an_unblessed_model_is_published_nowhere(trained, tmp_path):
    inputs, outputs, pushed = _artifacts(*trained, blessed=False, out=str(tmp_path))
    executor.Executor().Do(inputs, outputs, _properties(tmp_path))
    assert pushed.get_int_custom_property("pushed") == 0
    assert not any((tmp_path / kind).exists() for kind in ("serving", "hub", "mobile"))


def _left(root, base: str) -> list[str]:
    """What a destination holds, its lease file aside."""
    path = root / base
    return sorted(p.name for p in path.iterdir() if p.name != ".publish-lease") \
        if path.exists() else []


def test_a_failing_destination_leaves_every_other_untouched(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(serving, "load_check", lambda *args: None)  # tested above
    inputs, outputs, pushed = _artifacts(*trained, blessed=True, out=str(tmp_path))
    # The gate chose a variant the model does not have: the mobile bucket, staged last, fails.
    inputs["model_blessing"][0].set_string_custom_property(MOBILE_VARIANT, "int8")
    with pytest.raises(PublishError, match="publishing to mobile model bucket failed, nothing "
                                           "was published anywhere: the model has no TFLite"):
        executor.Executor().Do(inputs, outputs, _properties(tmp_path))
    assert _left(tmp_path, "serving/tiny") == _left(tmp_path, "hub/acme/tiny") == []
    assert _left(tmp_path, "mobile/tiny") == []
    assert not pushed.has_custom_property("pushed")


def test_a_file_where_a_destination_should_be_is_named(trained, tmp_path):
    (tmp_path / "mobile").write_text("a file where the bucket should be")
    inputs, outputs, pushed = _artifacts(*trained, blessed=True, out=str(tmp_path))
    with pytest.raises(PublishError, match=r"nothing was published: cannot take the publish lease "
                                           r".*/mobile/tiny/\.publish-lease: Not a directory"):
        executor.Executor().Do(inputs, outputs, _properties(tmp_path))
    assert _left(tmp_path, "serving/tiny") == _left(tmp_path, "hub/acme/tiny") == []
    assert not pushed.has_custom_property("pushed")


class ArchiveDestination(Destination):
    """README's template for a new kind: every published SavedModel, kept in a cold bucket."""

    kind = "archive"
    name = "model archive"

    def stage(self, release: Release, version: int) -> None:
        self.stage_tree(release.serving_model_dir, version)
        self.stage_json(version, SOURCE_RECORD, release.source_record(version))

    def commit(self, release: Release, version: int) -> str:
        return self.promote(version, last=("saved_model.pb",))


def test_a_new_kind_is_one_class_and_one_registry_line(trained, tmp_path, monkeypatch):
    monkeypatch.setitem(registry.KINDS, "archive", registry.Kind(__name__, "ArchiveDestination"))
    monkeypatch.setattr(serving, "load_check", lambda *args: None)  # tested above
    properties = _properties(tmp_path)
    properties["destinations"] = json.dumps(
        [*json.loads(properties["destinations"]),
         {"kind": "archive", "root": str(tmp_path / "cold")}])
    inputs, outputs, pushed = _artifacts(*trained, blessed=True, out=str(tmp_path))
    executor.Executor().Do(inputs, outputs, properties)
    assert (tmp_path / "cold/tiny/1/saved_model.pb").exists()
    assert json.loads((tmp_path / "cold/tiny/1" / SOURCE_RECORD).read_text())["version"] == 1
    assert "model archive" in json.loads(pushed.get_string_custom_property("pushed_destinations"))


def test_a_model_gated_before_production_moved_is_not_published(trained, tmp_path):
    """Run A published while run B trained: B's candidate was gated against no model in
    production, so it is not published over A's (it was never compared with it)."""
    import shutil

    from components.baseline.production import NO_BASELINE_MARKER, no_baseline_uri
    from components.common.names import NOT_PUSHED_REASON

    model_uri, examples_uri = trained
    other = str(tmp_path / "model-b")
    shutil.copytree(model_uri, other)
    nothing = no_baseline_uri(str(tmp_path / "root"))  # what the importer hands over on a first run
    os.makedirs(nothing)
    with open(os.path.join(nothing, NO_BASELINE_MARKER), "w") as handle:
        handle.write("{}")
    baseline = standard_artifacts.Model()
    baseline.uri = nothing

    def push(uri: str, out: str):
        inputs, outputs, pushed = _artifacts(uri, examples_uri, True, out)
        inputs["model"][0].uri = uri
        inputs["baseline_model"] = [baseline]
        executor.Executor().Do(inputs, outputs, _properties(tmp_path))
        return pushed

    assert push(model_uri, str(tmp_path / "a")).get_int_custom_property("pushed") == 1
    refused = push(other, str(tmp_path / "b"))
    assert refused.get_int_custom_property("pushed") == 0
    reason = refused.get_string_custom_property(NOT_PUSHED_REASON)
    assert reason.startswith("nothing was published: version 1 (") and model_uri in reason
    assert _left(tmp_path, "serving/tiny") == ["1"] and _left(tmp_path, "hub/acme/tiny") == \
        ["1", "1.tar.gz"]

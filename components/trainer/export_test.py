"""export_models on a real model: the default digits module's preprocessing on real Beam, its
training, and the SavedModel, TFLite and on-device models it exports."""

from __future__ import annotations

import sys
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from sklearn.datasets import load_digits
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

sys.path.insert(0, str(Path(__file__).parent / "digits"))
import digits_trainer  # noqa: E402  (TFX loads it by file path; so does this test)

from components.common import model_layout  # noqa: E402
from components.trainer import export, tflite_variants  # noqa: E402

RAW_SPEC = {
    "image_floats": tf.io.FixedLenFeature([64], tf.float32),
    "image_class": tf.io.FixedLenFeature([1], tf.int64),
}


@pytest.fixture(scope="module")
def tft_output(tmp_path_factory) -> tft.TFTransformOutput:
    """Analyzes 400 digits with preprocessing_fn through tf.Transform on a real Beam pipeline."""
    digits = load_digits()
    rows = [{"image_floats": image.astype(np.float32), "image_class": np.array([label])}
            for image, label in zip(digits.data[:400], digits.target[:400])]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(RAW_SPEC))
    out = tmp_path_factory.mktemp("transform")
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(out / "tmp")):
        transform_fn = (pipeline | beam.Create(rows), metadata) | tft_beam.AnalyzeDataset(
            digits_trainer.preprocessing_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(out / "tft"))
    metadata_io.write_metadata(metadata, str(out / "tft" / "metadata"))  # the raw schema
    return tft.TFTransformOutput(str(out / "tft"))


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.data.astype(np.float32), data.target


@pytest.fixture(scope="module")
def trained_model(tft_output, digits):
    images, labels = digits
    layer = tft_output.transform_features_layer()
    features = {"image_xf": layer({"image_floats": tf.constant(images[:1200])})["image_xf"]}
    tf.keras.utils.set_random_seed(0)
    model = digits_trainer.build_model(num_classes=10, learning_rate=0.01)
    before = model.evaluate(features, labels[:1200], verbose=0)[0]
    model.fit(features, labels[:1200], epochs=30, batch_size=32, verbose=0)
    return model, before


def test_preprocessing_scales_pixels_to_unit_range(tft_output, digits):
    images, _ = digits
    layer = tft_output.transform_features_layer()
    scaled = layer({"image_floats": tf.constant(images[:50])})["image_xf"].numpy()
    # The digits' intensities span 0..16 in the analyzed data, so scaling is a division by 16.
    np.testing.assert_allclose(scaled, images[:50] / 16.0, atol=1e-6)
    assert set(tft_output.transformed_feature_spec()) == {"image_xf", "image_class"}


def test_model_learns_and_outputs_probabilities(tft_output, trained_model, digits):
    model, loss_before = trained_model
    images, labels = digits
    features = {"image_xf": tft_output.transform_features_layer()(
        {"image_floats": tf.constant(images[1200:1500])})["image_xf"]}
    loss, accuracy = model.evaluate(features, labels[1200:1500], verbose=0)
    assert loss < loss_before / 3
    assert accuracy > 0.85  # on digits the model did not see
    probabilities = model.predict(features, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def _write_raw_examples(path, images, labels) -> str:
    """Raw examples the way ExampleGen writes them: gzipped TFRecords of tf.Example."""
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for image, label in zip(images, labels):
            writer.write(tf.train.Example(features=tf.train.Features(feature={
                "image_floats": tf.train.Feature(float_list=tf.train.FloatList(value=image)),
                "image_class": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            })).SerializeToString())
    return str(path)


@pytest.fixture(scope="module")
def exported(tft_output, trained_model, digits, tmp_path_factory):
    """What the platform's Trainer leaves in a Model artifact: export_models (run_fn) with the
    on-device model, then every TFLite variant converted by the executor's export_variants."""
    model, _ = trained_model
    images, labels = digits
    model_uri = tmp_path_factory.mktemp("model")
    serving = str(model_uri / model_layout.SERVING_DIR)
    export.export_models(model, tft_output, serving, label_key="image_class",
                         on_device_training=True)
    train = _write_raw_examples(model_uri.parent / "train.gz", images[:1200], labels[:1200])
    written = {}
    report = tflite_variants.export_variants(
        serving, export.RAW_SIGNATURE, train, tflite_variants.MobileOptions(),
        write=lambda variant, content: written.__setitem__(variant, content))
    return model_uri, written, report


def test_export_gives_consistent_saved_model_and_tflite(tft_output, trained_model, digits,
                                                        exported):
    model, _ = trained_model
    images, _ = digits
    model_uri, written, report = exported
    loaded = tf.saved_model.load(str(model_uri / model_layout.SERVING_DIR))
    assert set(loaded.signatures) == {"serving_default", export.RAW_SIGNATURE}
    serialized = [tf.train.Example(features=tf.train.Features(feature={
        "image_floats": tf.train.Feature(float_list=tf.train.FloatList(value=image))}))
        .SerializeToString() for image in images[1500:1540]]
    from_examples = loaded.signatures["serving_default"](examples=tf.constant(serialized))
    from_raw = loaded.signatures[export.RAW_SIGNATURE](image_floats=tf.constant(images[1500:1540]))
    expected = model.predict(tft_output.transform_features_layer()(
        {"image_floats": tf.constant(images[1500:1540])}), verbose=0)
    np.testing.assert_allclose(from_examples["probabilities"], expected, atol=1e-5)
    np.testing.assert_allclose(from_raw["probabilities"], expected, atol=1e-5)
    np.testing.assert_array_equal(from_examples["classes"], expected.argmax(axis=1))

    assert set(written) == set(tflite_variants.VARIANTS)
    assert report["assessment"]["select_tf_ops"] == []
    assert "FULLY_CONNECTED" in report["assessment"]["builtin_ops"]
    assert report["int8_calibration"] == {"split": "train", "examples": 300, "seed": 0}
    for variant, content in written.items():
        assert report["variants"][variant]["size_bytes"] == len(content)
        interpreter = tf.lite.Interpreter(model_content=content)
        # TFMA's tf_lite evaluator feeds inputs by name after removing 'serving_default_', and
        # reads a single output as the prediction.
        assert [d["name"] for d in interpreter.get_input_details()] == [
            "serving_default_image_floats:0"]
        assert len(interpreter.get_output_details()) == 1
        runner = interpreter.get_signature_runner("serving_default")
        probabilities = runner(image_floats=images[1500:1540])["probabilities"]
        tolerance = 1e-4 if variant == "float32" else 0.1
        np.testing.assert_allclose(probabilities, expected, atol=tolerance)


def _images_and_labels(digits, rows):
    images, labels = digits
    return images[rows], labels[rows].astype(np.int64)


def test_on_device_model_trains_saves_and_restores(trained_model, tft_output, digits, exported,
                                                   tmp_path):
    """A phone's personalisation loop in tf.lite.Interpreter (with the Flex delegate): train lowers
    the loss, save writes the head, a fresh interpreter restores it and infers the same."""
    model, _ = trained_model
    model_uri, _, _ = exported
    path = model_layout.trainable_file(str(model_uri))
    interpreter = tf.lite.Interpreter(model_path=path)
    assert set(interpreter.get_signature_list()) == set(export.ON_DEVICE_SIGNATURES)
    train, infer = (interpreter.get_signature_runner(name) for name in ("train", "infer"))

    # Before any step it is the trained model.
    images, labels = _images_and_labels(digits, slice(1200, 1264))
    expected = model.predict(tft_output.transform_features_layer()(
        {"image_floats": tf.constant(images)}), verbose=0)
    np.testing.assert_allclose(infer(image_floats=images)["probabilities"], expected, atol=1e-4)

    # The user's own examples: a relabelled class the model has never seen this way.
    personal_images, _ = _images_and_labels(digits, slice(1264, 1296))
    personal_labels = np.full(len(personal_images), 3, np.int64)
    losses = [float(train(image_floats=personal_images, label=personal_labels)["loss"])
              for _ in range(10)]
    assert losses[-1] < losses[0] * 0.8, losses
    tuned = infer(image_floats=images)["probabilities"]
    assert not np.allclose(tuned, expected, atol=1e-3)

    checkpoint = str(tmp_path / "head.ckpt")
    interpreter.get_signature_runner("save")(checkpoint_path=np.array(checkpoint, dtype=np.bytes_))
    fresh = tf.lite.Interpreter(model_path=path)
    fresh_infer = fresh.get_signature_runner("infer")
    np.testing.assert_allclose(fresh_infer(image_floats=images)["probabilities"], expected,
                               atol=1e-4)
    fresh.get_signature_runner("restore")(checkpoint_path=np.array(checkpoint, dtype=np.bytes_))
    np.testing.assert_allclose(fresh_infer(image_floats=images)["probabilities"], tuned, atol=1e-6)


def test_on_device_export_refuses_a_model_without_a_softmax_dense_head(tft_output):
    image = tf.keras.Input(shape=(64,), name="image_xf")
    logits_model = tf.keras.Model({"image_xf": image}, tf.keras.layers.Dense(10)(image))
    serving = export.ServingModule(logits_model, tft_output, "image_class")
    with pytest.raises(ValueError, match="softmax activation.*set on_device_training: false"):
        export.TrainableModule(serving, learning_rate=0.01)

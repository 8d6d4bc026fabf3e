"""A raw-tensor signature derived from a tf.Example-only serving_default, the way TFX's example
modules save one: it answers as serving_default does, missing values included, and a
serving_default that does more than parse, transform and call the model is refused, named."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from components.trainer import raw_signature, transform_testing

RAW_SPEC = {"company": tf.io.VarLenFeature(tf.string),  # optional: blank in some rows
            "fare": tf.io.FixedLenFeature([], tf.float32),
            "tips": tf.io.FixedLenFeature([], tf.float32)}  # the label's raw column


def _fill_in_missing(x):
    """TFX's taxi module."""
    default = "" if x.dtype == tf.string else 0
    return tf.squeeze(tf.sparse.to_dense(
        tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1]), default), axis=1)


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory) -> tft.TFTransformOutput:
    def preprocessing_fn(inputs):
        return {"company_xf": tft.compute_and_apply_vocabulary(
                    _fill_in_missing(inputs["company"]), num_oov_buckets=2),
                "fare_xf": tft.scale_to_z_score(inputs["fare"]),
                "tips_xf": tf.cast(inputs["tips"] > 0.2 * inputs["fare"], tf.int64)}

    rows = [{"company": companies, "fare": fare, "tips": tips} for companies, fare, tips in (
        (["Flash Cab"], 10.0, 3.0), ([], 20.0, 0.0), (["City Service"], 5.0, 2.0),
        (["Flash Cab"], 8.0, 0.5), (["Flash Cab"], 12.0, 4.0), (["City Service"], 30.0, 1.0))]
    return transform_testing.analyze(tmp_path_factory.mktemp("transform"), RAW_SPEC,
                                     preprocessing_fn, rows)


def _stock_saved_model(path, tft_output, post=lambda outputs: outputs) -> str:
    """Saved as TFX's taxi_utils_native_keras.py saves: tf.saved_model.save of the Keras model,
    serving_default parses tf.Examples without the label, applies Transform, calls the model."""
    inputs = {"company_xf": tf.keras.layers.Input(shape=(1,), name="company_xf", dtype="int32"),
              "fare_xf": tf.keras.layers.Input(shape=(1,), name="fare_xf")}
    hidden = tf.keras.layers.concatenate([
        tf.keras.layers.CategoryEncoding(num_tokens=4)(inputs["company_xf"]), inputs["fare_xf"]])
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.tft_layer_inference = tft_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_tf_examples_fn(serialized):
        spec = tft_output.raw_feature_spec()
        spec.pop("tips")
        transformed = model.tft_layer_inference(tf.io.parse_example(serialized, spec))
        return {"outputs": post(model(transformed))}

    tf.saved_model.save(model, str(path), signatures={"serving_default": serve_tf_examples_fn})
    return str(path)


def _examples() -> list[bytes]:
    def example(company, fare):
        feature = {"fare": tf.train.Feature(float_list=tf.train.FloatList(value=[fare]))}
        if company is not None:  # a blank cell: the feature is there with no value
            feature["company"] = tf.train.Feature(bytes_list=tf.train.BytesList(
                value=[company] if company else []))
        return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
    return [example(c, f) for c, f in ((b"Flash Cab", 10.0), (None, 7.0), (b"", 3.0),
                                       (b"Unknown Cab", 40.0), (b"City Service", 1.5))]


def test_the_derived_signature_answers_as_serving_default_missing_values_included(
        tmp_path, transform_output):
    saved = _stock_saved_model(tmp_path / "model", transform_output)
    module = raw_signature.derive(saved, transform_output, task="binary")
    # The raw features serving_default parses, not the label's raw column.
    assert sorted(module.raw_feature_spec) == ["company", "fare"]
    assert module.fill_values == {"company": b""}
    assert raw_signature.check_agreement(module, _examples(), "outputs") == 5

    # What an app sends: the fill value '' for the company missing in the second example.
    dense = {"company": tf.constant([[b"Flash Cab"], [b""]]), "fare": tf.constant([10.0, 7.0])}
    expected = tf.saved_model.load(saved).signatures["serving_default"](
        examples=tf.constant(_examples()[:2]))["outputs"]
    np.testing.assert_allclose(module.output(module.parse_dense(dense)), expected, atol=1e-6)


def test_a_serving_default_that_does_more_is_refused_naming_the_difference(
        tmp_path, transform_output):
    saved = _stock_saved_model(tmp_path / "model", transform_output,
                               post=lambda outputs: 1.0 - outputs)
    module = raw_signature.derive(saved, transform_output, task="binary")
    with pytest.raises(raw_signature.DerivationError,
                       match="differs from serving_default by .* does more than parse"):
        raw_signature.check_agreement(module, _examples(), "outputs")
    with pytest.raises(raw_signature.DerivationError, match="not the configured prediction"):
        raw_signature.check_agreement(module, _examples(), "probabilities")


def test_a_saved_model_that_is_not_keras_is_refused(tmp_path, transform_output):
    class NotKeras(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, serialized):
            parsed = tf.io.parse_example(serialized,
                                         {"fare": tf.io.FixedLenFeature([], tf.float32)})
            return {"outputs": parsed["fare"]}

    module = NotKeras()
    tf.saved_model.save(module, str(tmp_path / "model"),
                        signatures={"serving_default": module.serve})
    with pytest.raises(raw_signature.DerivationError, match="not a saved Keras model"):
        raw_signature.derive(str(tmp_path / "model"), transform_output, task="binary")

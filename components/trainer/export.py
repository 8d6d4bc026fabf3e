"""Exports one trained Keras model as a SavedModel and a TFLite model, both carrying Transform.

Any user module's run_fn can call `export_models`; the default digits module does. The outputs:
- SavedModel signature `serving_default`: serialized tf.Example in (what TF Serving's REST and gRPC
  APIs carry), {'probabilities', 'classes'} out.
- SavedModel signature `serving_raw`: the raw (untransformed) dense features as tensors in, same
  outputs; for callers that already hold the numbers.
- A float32 TFLite model, file `tflite` beside saved_model.pb: the same raw tensors in,
  `probabilities` out. TFX's Evaluator (model_type='tf_lite') looks for exactly this file name,
  and TFMA feeds each input by its name with the 'serving_default_' prefix removed, which is why
  the model is converted from a signature called serving_default.
"""

from __future__ import annotations

import os
import tempfile

import tensorflow as tf
import tensorflow_transform as tft

TFLITE_FILE_NAME = "tflite"
RAW_SIGNATURE = "serving_raw"
# Beside Format-Serving in the Model artifact: the TF Hub (reusable SavedModel) form of the model.
HUB_DIR_NAME = "Format-Hub"


class ServingModule(tf.Module):
    """The trained model with Transform's graph in front of it."""

    def __init__(self, model: tf.keras.Model, tft_output: tft.TFTransformOutput, label_key: str):
        super().__init__()
        self.model = model
        self.tft_layer = tft_output.transform_features_layer()
        self.raw_feature_spec = {
            k: v for k, v in tft_output.raw_feature_spec().items() if k != label_key}
        self.model_input_keys = [
            k for k in tft_output.transformed_feature_spec() if k != label_key]

    def probabilities(self, raw_features):
        transformed = self.tft_layer(raw_features)
        return self.model({k: transformed[k] for k in self.model_input_keys})

    def predict(self, raw_features):
        probabilities = self.probabilities(raw_features)
        return {"probabilities": probabilities, "classes": tf.argmax(probabilities, axis=-1)}

    def raw_tensor_specs(self) -> dict[str, tf.TensorSpec]:
        specs = {}
        for key, spec in self.raw_feature_spec.items():
            if not isinstance(spec, tf.io.FixedLenFeature):
                raise ValueError(
                    f"feature '{key}' is not fixed-length; the raw-tensor and TFLite signatures "
                    "need fixed-length features (set infer_feature_shape in SchemaGen)")
            specs[key] = tf.TensorSpec([None, *spec.shape], spec.dtype, name=key)
        return specs


def export_models(model: tf.keras.Model, tft_output: tft.TFTransformOutput, serving_model_dir: str,
                  label_key: str) -> None:
    """Writes the SavedModel and the `tflite` file into `serving_model_dir`."""
    module = ServingModule(model, tft_output, label_key)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_tf_examples(serialized):
        return module.predict(tf.io.parse_example(serialized, module.raw_feature_spec))

    @tf.function
    def serve_raw(features):
        return module.predict(features)

    @tf.function
    def serve_tflite(features):
        return {"probabilities": module.probabilities(features)}

    specs = module.raw_tensor_specs()
    tf.saved_model.save(module, serving_model_dir, signatures={
        "serving_default": serve_tf_examples.get_concrete_function(),
        RAW_SIGNATURE: serve_raw.get_concrete_function(specs),
    })
    write_tflite(module, serve_tflite.get_concrete_function(specs),
                 os.path.join(serving_model_dir, TFLITE_FILE_NAME))
    write_hub_module(module, os.path.join(os.path.dirname(serving_model_dir), HUB_DIR_NAME))


def write_hub_module(module: ServingModule, path: str) -> None:
    """A reusable SavedModel for TF Hub: raw features in, class probabilities out.

    A Keras model saved with tf.saved_model.save has exactly the attributes that `hub.load` and
    `hub.KerasLayer` expect of a reusable SavedModel: a callable `__call__`, `variables`,
    `trainable_variables` and `regularization_losses`. Transform runs inside it, so callers pass the
    same raw tensors as to the TFLite model (one tensor when there is one feature, else a dict).
    """
    inputs = {key: tf.keras.Input(shape=spec.shape[1:], dtype=spec.dtype, name=key)
              for key, spec in module.raw_tensor_specs().items()}
    transformed = module.tft_layer(inputs)
    probabilities = module.model({k: transformed[k] for k in module.model_input_keys})
    single = len(inputs) == 1
    hub_model = tf.keras.Model(next(iter(inputs.values())) if single else inputs, probabilities)
    tf.saved_model.save(hub_model, path)


def write_tflite(module: tf.Module, concrete_fn, path: str) -> int:
    """Converts `concrete_fn` to a float32 TFLite model at `path` (any tf.io.gfile path)."""
    with tempfile.TemporaryDirectory() as tmp:
        # Converting from a SavedModel whose only signature is serving_default gives TFLite input
        # names TFMA understands ('serving_default_<feature>:0').
        tf.saved_model.save(module, tmp, signatures={"serving_default": concrete_fn})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        tflite_model = converter.convert()
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(tflite_model)
    return len(tflite_model)

"""Exports one trained Keras model, with Transform in front of it, in every form the platform ships.

Any user module's run_fn calls `export_models`; the default digits module does. It writes:
- SavedModel signature `serving_default`: serialized tf.Example in (what TF Serving's REST and gRPC
  APIs carry), {'probabilities', 'classes'} out.
- SavedModel signature `serving_raw`: the raw (untransformed) dense features as tensors in, same
  outputs; for callers that already hold the numbers, and the function every TFLite variant is
  converted from (by the platform's Trainer executor, after run_fn: see components/trainer).
- The TF Hub module (Format-Hub).
- Optionally the on-device trainable TFLite model (`TrainableModule`): signatures train, infer,
  save and restore, so that a phone can fine-tune the classifier head on its own examples.
"""

from __future__ import annotations

import os
import tempfile

import tensorflow as tf
import tensorflow_transform as tft

from components.common import model_layout

RAW_SIGNATURE = "serving_raw"
ON_DEVICE_SIGNATURES = ("train", "infer", "save", "restore")


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
                  label_key: str, on_device_training: bool = False,
                  on_device_learning_rate: float = 0.01) -> None:
    """Writes the SavedModel into `serving_model_dir` (fn_args.serving_model_dir), the Hub module
    and, when asked, the on-device trainable TFLite model beside it in the Model artifact."""
    module = ServingModule(model, tft_output, label_key)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_tf_examples(serialized):
        return module.predict(tf.io.parse_example(serialized, module.raw_feature_spec))

    @tf.function
    def serve_raw(features):
        return module.predict(features)

    specs = module.raw_tensor_specs()
    tf.saved_model.save(module, serving_model_dir, signatures={
        "serving_default": serve_tf_examples.get_concrete_function(),
        RAW_SIGNATURE: serve_raw.get_concrete_function(specs),
    })
    model_uri = os.path.dirname(serving_model_dir)
    write_hub_module(module, model_layout.hub_dir(model_uri))
    if on_device_training:
        write_trainable_tflite(TrainableModule(module, on_device_learning_rate),
                               model_layout.trainable_file(model_uri))


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


class TrainableModule(tf.Module):
    """The trained model split for on-device personalisation: Transform and every layer but the
    last stay frozen (a feature extractor); the last Dense layer (the head) is trainable.

    Signatures (the TFLite on-device training convention):
      train(<raw features>, label) -> {'loss'}   one SGD step on a batch, returns the batch loss
      infer(<raw features>) -> {'probabilities'}
      save(checkpoint_path) / restore(checkpoint_path)   the head's weights, as a TF checkpoint
    """

    def __init__(self, serving: ServingModule, learning_rate: float):
        super().__init__()
        head = serving.model.layers[-1]
        # infer and train apply softmax to the head's logits, as the trained model's head does.
        if not (isinstance(head, tf.keras.layers.Dense)
                and getattr(head.activation, "__name__", "") == "softmax"):
            raise ValueError(
                "on-device training fine-tunes a last Dense layer with softmax activation, but "
                f"the model ends in {head.name} ({type(head).__name__}); "
                "set on_device_training: false")
        self.serving = serving
        self.body = tf.keras.Model(serving.model.inputs, serving.model.layers[-2].output)
        self.kernel = tf.Variable(head.kernel, name="head_kernel")
        self.bias = tf.Variable(head.bias, name="head_bias")
        self.learning_rate = learning_rate

    def signature_functions(self) -> dict:
        specs = self.serving.raw_tensor_specs()
        label = tf.TensorSpec([None], tf.int64, name="label")
        path = tf.TensorSpec([], tf.string, name="checkpoint_path")
        return {
            "train": tf.function(self._train).get_concrete_function(specs, label),
            "infer": tf.function(self._infer).get_concrete_function(specs),
            "save": tf.function(self._save).get_concrete_function(path),
            "restore": tf.function(self._restore).get_concrete_function(path),
        }

    def _logits(self, raw_features):
        transformed = self.serving.tft_layer(raw_features)
        features = self.body({k: transformed[k] for k in self.serving.model_input_keys})
        return tf.matmul(features, self.kernel) + self.bias

    def _train(self, raw_features, label):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=label, logits=self._logits(raw_features)))
        grad_kernel, grad_bias = tape.gradient(loss, [self.kernel, self.bias])
        self.kernel.assign_sub(self.learning_rate * grad_kernel)
        self.bias.assign_sub(self.learning_rate * grad_bias)
        return {"loss": loss}

    def _infer(self, raw_features):
        return {"probabilities": tf.nn.softmax(self._logits(raw_features))}

    def _head(self):
        return {"head_kernel": self.kernel, "head_bias": self.bias}

    def _save(self, checkpoint_path):
        names, variables = zip(*self._head().items())
        tf.raw_ops.Save(filename=checkpoint_path, tensor_names=list(names),
                        data=[v.read_value() for v in variables])
        return {"checkpoint_path": checkpoint_path}

    def _restore(self, checkpoint_path):
        restored = {}
        for name, variable in self._head().items():
            value = tf.raw_ops.Restore(file_pattern=checkpoint_path, tensor_name=name,
                                       dt=variable.dtype)
            variable.assign(value)
            restored[name] = value
        return restored


def write_trainable_tflite(module: TrainableModule, path: str) -> int:
    """Converts the trainable module (resource variables, TF ops through the Flex delegate for the
    gradient and checkpoint ops) to `path`; returns its size."""
    with tempfile.TemporaryDirectory() as tmp:
        tf.saved_model.save(module, tmp, signatures=module.signature_functions())
        converter = tf.lite.TFLiteConverter.from_saved_model(
            tmp, signature_keys=list(ON_DEVICE_SIGNATURES))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                               tf.lite.OpsSet.SELECT_TF_OPS]
        converter.experimental_enable_resource_variables = True
        tflite_model = converter.convert()
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(tflite_model)
    return len(tflite_model)

"""Exports one trained Keras model, with Transform in front of it, in every form the platform ships.

A user module's run_fn may call `export_models` (the default digits module does) instead of
saving a SavedModel itself; it writes:
- SavedModel signature `serving_default`: serialized tf.Example in (what TF Serving's REST and gRPC
  APIs carry; optional features may be absent), {'probabilities', 'classes'} out for classifiers,
  {'predictions'} for regression.
- SavedModel signature `serving_raw`: the raw (untransformed) features as dense tensors in, same
  outputs; an optional feature takes its fill value (FILL_VALUES) for "missing". Every TFLite
  variant is converted from it (by the platform's Trainer executor, after run_fn).
- `raw_inputs.json`: each raw input's dtype, shape and fill value, for the mobile manifest.
- The TF Hub module (Format-Hub).
- Optionally the on-device trainable TFLite model (`TrainableModule`): signatures train, infer,
  save and restore, so that a phone can fine-tune the model's head on its own examples.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Mapping, Optional, Sequence

import tensorflow as tf
import tensorflow_transform as tft

from components.common import model_layout, tasks
from components.trainer.text_tables import inline_text_file_tables

RAW_SIGNATURE = "serving_raw"
ON_DEVICE_SIGNATURES = ("train", "infer", "save", "restore")
# What a client sends for a missing value of an optional feature in the raw-tensor signature and
# every TFLite model: the value TFMA's tf_lite evaluator feeds for a missing feature, so the
# TFLite gate measures exactly what an app gets. The model treats it as "missing" and fills it
# the way the user's preprocessing_fn fills a missing value in a tf.Example.
FILL_VALUES = {tf.float32: float(model_layout.MISSING_NUMBER),
               tf.int64: model_layout.MISSING_NUMBER,
               tf.string: model_layout.MISSING_TEXT.encode()}


class ExportError(ValueError):
    """The trained model cannot be exported in a form the platform ships; names feature and fix."""


class ServingModule(tf.Module):
    """The trained model with Transform's graph in front of it, answering for one task type."""

    def __init__(self, model: tf.keras.Model, tft_output: tft.TFTransformOutput, label_key: str,
                 task: str = tasks.MULTICLASS,
                 fill_values: Optional[Mapping[str, object]] = None,
                 raw_keys: Optional[Sequence[str]] = None,
                 model_input_keys: Optional[Sequence[str]] = None):
        """`raw_keys`: the raw features in (default: all but the label); `model_input_keys`: the
        Transform outputs the model takes (default: all but the label)."""
        super().__init__()
        if task not in tasks.TASKS:
            raise ExportError(f"unknown task {task!r}; known: {', '.join(tasks.TASKS)}")
        self.model = model
        self.task = task
        self.tft_layer = tft_output.transform_features_layer()
        raw_spec = tft_output.raw_feature_spec()
        self.raw_feature_spec = {k: raw_spec[k] for k in raw_keys} if raw_keys is not None else {
            k: v for k, v in raw_spec.items() if k != label_key}
        self.model_input_keys = list(model_input_keys) if model_input_keys is not None else [
            k for k in tft_output.transformed_feature_spec() if k != label_key]
        self._schema = {f.name: f for f in tft_output.raw_metadata.schema.feature}
        self.fill_values = self._fill_values(fill_values or {})

    def _fill_values(self, overrides: Mapping[str, object]) -> dict:
        """Fill value per optional feature (absent in some training examples)."""
        fills = {}
        for key, spec in self.raw_feature_spec.items():
            if isinstance(spec, tf.io.FixedLenFeature):
                continue
            # CsvExampleGen writes an empty cell as a feature with no values, so the inferred
            # schema often gives no value count at all: only a known maximum above 1 is refused.
            feature = self._schema.get(key)
            max_values = feature.value_count.max if feature is not None else 0
            if not isinstance(spec, tf.io.VarLenFeature) or max_values > 1:
                raise ExportError(
                    f"feature '{key}' holds a varying number of values per example; the "
                    "raw-tensor and TFLite signatures take one value per example or a fixed-length "
                    "vector: drop it from the model, or give every example the same number of "
                    "values (SchemaGen then infers its shape)")
            fills[key] = overrides.get(key, FILL_VALUES[spec.dtype])
        return fills

    def parse_dense(self, dense_features: dict) -> dict:
        """Dense raw tensors (the raw-tensor signature's inputs) in the form tf.io.parse_example
        gives for the same tf.Examples: an optional feature becomes a SparseTensor without the
        entries that hold its fill value (the missing ones)."""
        parsed = {}
        for key, value in dense_features.items():
            if key not in self.fill_values:
                parsed[key] = value
                continue
            present = tf.not_equal(value, tf.constant(self.fill_values[key], value.dtype))
            indices = tf.where(present)
            parsed[key] = tf.SparseTensor(indices, tf.gather_nd(value, indices),
                                          tf.shape(value, out_type=tf.int64))
        return parsed

    def output(self, parsed_features):
        """The model's prediction tensor (probabilities or predicted values) for parsed raw
        features."""
        transformed = self.tft_layer(parsed_features)
        # Transform drops outputs whose raw features are not passed in (the label's).
        return self.model({k: transformed[k] for k in self.model_input_keys if k in transformed})

    def predict(self, parsed_features):
        output = self.output(parsed_features)
        if self.task == tasks.REGRESSION:
            return {tasks.prediction_key(self.task): output}
        if self.task == tasks.BINARY:
            return {"probabilities": output,
                    "classes": tf.cast(tf.reshape(output, [-1]) > 0.5, tf.int64)}
        return {"probabilities": output, "classes": tf.argmax(output, axis=-1)}

    def raw_tensor_specs(self) -> dict[str, tf.TensorSpec]:
        """One dense tensor per raw feature: fixed-length ones in their own shape, optional ones
        as one value per example ([batch, 1]; the fill value when missing)."""
        specs = {}
        for key, spec in self.raw_feature_spec.items():
            shape = spec.shape if isinstance(spec, tf.io.FixedLenFeature) else [1]
            specs[key] = tf.TensorSpec([None, *shape], spec.dtype, name=key)
        return specs

    def input_descriptions(self) -> dict[str, dict]:
        """Per raw input, what a client must know: dtype, shape and, for optional features, the
        fill value that stands for "missing" (recorded in the TFLite metadata and manifest)."""
        described = {}
        for key, spec in self.raw_tensor_specs().items():
            entry = {"dtype": spec.dtype.name, "shape": [-1, *spec.shape[1:]],
                     "optional": key in self.fill_values}
            if key in self.fill_values:
                fill = self.fill_values[key]
                entry["fill_value"] = fill.decode() if isinstance(fill, bytes) else fill
            described[key] = entry
        return described


def export_models(model: tf.keras.Model, tft_output: tft.TFTransformOutput, serving_model_dir: str,
                  label_key: str, on_device_training: bool = False,
                  on_device_learning_rate: float = 0.01, task: str = tasks.MULTICLASS,
                  fill_values: Optional[Mapping[str, object]] = None) -> None:
    """Writes the SavedModel into `serving_model_dir` (fn_args.serving_model_dir), the Hub module
    and, when asked, the on-device trainable TFLite model beside it in the Model artifact.
    `task` is fn_args.custom_config['task']; `fill_values` overrides the value that stands for a
    missing optional feature in the dense signatures (default: FILL_VALUES by dtype)."""
    module = ServingModule(model, tft_output, label_key, task, fill_values)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_tf_examples(serialized):
        return module.predict(tf.io.parse_example(serialized, module.raw_feature_spec))

    save_with_raw_signature(module, serving_model_dir,
                            {"serving_default": serve_tf_examples.get_concrete_function()})
    model_uri = os.path.dirname(serving_model_dir)
    write_raw_forms(module, model_uri)
    if on_device_training:
        write_trainable_tflite(TrainableModule(module, on_device_learning_rate),
                               model_layout.trainable_file(model_uri))


def save_with_raw_signature(module: ServingModule, path: str, signatures: Optional[dict] = None
                            ) -> None:
    """Saves `module` at `path` with the raw-tensor signature (RAW_SIGNATURE) beside
    `signatures`."""

    @tf.function
    def serve_raw(features):
        return module.predict(module.parse_dense(features))

    tf.saved_model.save(module, path, signatures={
        **(signatures or {}),
        RAW_SIGNATURE: serve_raw.get_concrete_function(module.raw_tensor_specs())})


def write_raw_forms(module: ServingModule, model_uri: str, hub: bool = True) -> None:
    """What an app needs besides the TFLite models: raw_inputs.json and the TF Hub module."""
    with tf.io.gfile.GFile(model_layout.inputs_file(model_uri), "w") as handle:
        handle.write(json.dumps(module.input_descriptions(), indent=2))
    if hub:
        write_hub_module(module, model_layout.hub_dir(model_uri))


def dense_features(serialized, specs: Mapping[str, tf.TensorSpec],
                   fill_values: Mapping[str, object]) -> dict:
    """Serialized tf.Examples as the dense raw tensors an app sends (the inverse of
    `ServingModule.parse_dense`): an optional feature (a key of `fill_values`) that is absent or
    blank holds its fill value."""
    feature_spec = {name: tf.io.VarLenFeature(spec.dtype) if name in fill_values
                    else tf.io.FixedLenFeature(spec.shape[1:], spec.dtype)
                    for name, spec in specs.items()}
    parsed = tf.io.parse_example(serialized, feature_spec)
    dense = {}
    for name, value in parsed.items():
        if isinstance(value, tf.SparseTensor):
            value = tf.sparse.to_dense(
                tf.SparseTensor(value.indices, value.values, [value.dense_shape[0], 1]),
                tf.constant(fill_values[name], value.dtype))
        dense[name] = value
    return dense


def write_hub_module(module: ServingModule, path: str) -> None:
    """A reusable SavedModel for TF Hub: raw features in, the prediction out.

    It has what `hub.load` and `hub.KerasLayer` expect of a reusable SavedModel: a callable
    `__call__`, and the lists `variables`, `trainable_variables` and `regularization_losses`.
    Transform runs inside it, so callers pass the same raw tensors as to the TFLite model (one
    tensor when there is one feature, else a dict; the fill value for a missing optional one).
    """
    from tensorflow.python.trackable import autotrackable

    specs = module.raw_tensor_specs()
    hub_module = autotrackable.AutoTrackable()
    hub_module.serving = module
    if len(specs) == 1:
        (key, spec), = specs.items()

        @tf.function(input_signature=[spec])
        def call(inputs):
            return module.output(module.parse_dense({key: inputs}))
    else:
        @tf.function(input_signature=[specs])
        def call(inputs):
            return module.output(module.parse_dense(inputs))
    hub_module.__call__ = call
    hub_module.variables = list(module.model.variables)
    hub_module.trainable_variables = list(module.model.trainable_variables)
    hub_module.regularization_losses = []
    tf.saved_model.save(hub_module, path)


# The head activation each task's model ends in, and what its on-device `train` minimizes.
_HEADS = {tasks.MULTICLASS: "softmax", tasks.BINARY: "sigmoid", tasks.REGRESSION: "linear"}


class TrainableModule(tf.Module):
    """The trained model split for on-device personalisation: Transform and every layer but the
    last stay frozen (a feature extractor); the last Dense layer (the head) is trainable.

    Signatures (the TFLite on-device training convention):
      train(<raw features>, label) -> {'loss'}   one SGD step on a batch, returns the batch loss
      infer(<raw features>) -> {<prediction key>}   'probabilities', or 'predictions' (regression)
      save(checkpoint_path) / restore(checkpoint_path)   the head's weights, as a TF checkpoint
    """

    def __init__(self, serving: ServingModule, learning_rate: float):
        super().__init__()
        head = serving.model.layers[-1]
        activation = _HEADS[serving.task]
        # infer and train apply the head's activation to its logits, as the trained model does.
        if not (isinstance(head, tf.keras.layers.Dense)
                and getattr(head.activation, "__name__", "") == activation):
            raise ValueError(
                f"on-device training of a {serving.task} model fine-tunes a last Dense layer with "
                f"{activation} activation, but the model ends in {head.name} "
                f"({type(head).__name__}); set on_device_training: false")
        self.serving = serving
        self.body = tf.keras.Model(serving.model.inputs, serving.model.layers[-2].output)
        self.kernel = tf.Variable(head.kernel, name="head_kernel")
        self.bias = tf.Variable(head.bias, name="head_bias")
        self.learning_rate = learning_rate

    def signature_functions(self) -> dict:
        specs = self.serving.raw_tensor_specs()
        if self.serving.task == tasks.MULTICLASS:
            label = tf.TensorSpec([None], tf.int64, name="label")
        else:
            label = tf.TensorSpec([None, 1], tf.float32, name="label")
        path = tf.TensorSpec([], tf.string, name="checkpoint_path")
        return {
            "train": tf.function(self._train).get_concrete_function(specs, label),
            "infer": tf.function(self._infer).get_concrete_function(specs),
            "save": tf.function(self._save).get_concrete_function(path),
            "restore": tf.function(self._restore).get_concrete_function(path),
        }

    def _logits(self, raw_features):
        transformed = self.serving.tft_layer(self.serving.parse_dense(raw_features))
        features = self.body({k: transformed[k] for k in self.serving.model_input_keys})
        return tf.matmul(features, self.kernel) + self.bias

    def _loss(self, label, logits):
        if self.serving.task == tasks.MULTICLASS:
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label, logits=logits)
        if self.serving.task == tasks.BINARY:
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=label, logits=logits)
        return tf.square(logits - label)

    def _train(self, raw_features, label):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self._loss(label, self._logits(raw_features)))
        grad_kernel, grad_bias = tape.gradient(loss, [self.kernel, self.bias])
        self.kernel.assign_sub(self.learning_rate * grad_kernel)
        self.bias.assign_sub(self.learning_rate * grad_bias)
        return {"loss": loss}

    def _infer(self, raw_features):
        logits = self._logits(raw_features)
        activation = {tasks.MULTICLASS: tf.nn.softmax, tasks.BINARY: tf.sigmoid,
                      tasks.REGRESSION: tf.identity}[self.serving.task]
        return {tasks.prediction_key(self.serving.task): activation(logits)}

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
        inline_text_file_tables(tmp)  # tf.Transform vocabularies, which TFLite would drop
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

"""A raw-tensor signature for a model whose SavedModel serves tf.Examples only.

TFX's example modules (and most users' modules) save one `serving_default`: serialized
tf.Examples in, parsed, run through Transform's layer, then the Keras model. Phones cannot send
tf.Examples, and TFLite has no ParseExample, so every TFLite model is converted from a signature
taking dense raw tensors. `derive` rebuilds that call without the parse: the raw features
`serving_default` parses (read from its ParseExample op), each as a dense tensor with the
platform's fill value for "missing", turned into what the parse would have given, then the
pipeline's Transform graph, then the saved Keras model restored from the SavedModel. It checks
the rebuilt call against `serving_default` on real examples before anything is converted from it:
a module whose `serving_default` does more than parse, transform and call the model is told so,
and phones are skipped with that reason.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components.trainer import export

# How close the rebuilt call must come to serving_default: the same graph on the same values,
# so only float reassociation may differ.
AGREEMENT_TOLERANCE = 1e-5


class DerivationError(ValueError):
    """No raw-tensor signature can be derived; the message says exactly why."""


def parsed_keys(signature) -> list[str]:
    """The feature keys a tf.Example signature parses (ParseExampleV2's sparse and dense keys,
    wherever in its nested functions the parse sits)."""
    graph = signature.graph.as_graph_def()
    functions = [graph.node, *(f.node_def for f in graph.library.function)]
    keys: list[str] = []
    for nodes in functions:
        by_name = {n.name: n for n in nodes}
        for node in nodes:
            if node.op != "ParseExampleV2":
                continue
            for key_input in node.input[2:4]:  # sparse_keys, dense_keys
                const = by_name.get(key_input.split(":")[0])
                if const is None or const.op != "Const":
                    raise DerivationError("serving_default parses feature names computed at run "
                                          "time; the raw features cannot be read from it")
                keys += [k.decode() for k in tf.make_ndarray(const.attr["value"].tensor).ravel()]
    return list(dict.fromkeys(keys))


class RestoredKerasCall(tf.Module):
    """The Keras model restored from a SavedModel, called as Keras calls a model: the inputs it
    was traced with picked by name from the transformed features and cast to their dtypes."""

    def __init__(self, restored):
        super().__init__()
        self.restored = restored
        concrete = getattr(getattr(restored, "__call__", None), "concrete_functions", None)
        if not concrete:
            raise DerivationError("the SavedModel's root is not a saved Keras model (it has no "
                                  "traced __call__), so its model cannot be called on raw "
                                  "features; export with components.trainer.export.export_models")
        self.input_specs = concrete[0].structured_input_signature[0][0]

    @property
    def variables(self):  # the restored model's, for the Hub module
        return list(self.restored.variables)

    @property
    def trainable_variables(self):
        return list(self.restored.trainable_variables)

    @property
    def input_keys(self) -> list[str]:
        return [spec.name for spec in tf.nest.flatten(self.input_specs)]

    def __call__(self, transformed: Mapping[str, tf.Tensor]):
        def conform(spec):
            if spec.name not in transformed:
                raise DerivationError(f"the model takes '{spec.name}', which Transform does not "
                                      "make from the features serving_default parses")
            value = transformed[spec.name]
            if isinstance(value, tf.SparseTensor):
                raise DerivationError(f"Transform output '{spec.name}' is sparse; the model's "
                                      "input is dense")
            value = tf.cast(value, spec.dtype)
            if spec.shape.rank == 2 and value.shape.rank == 1:
                value = tf.expand_dims(value, -1)  # Keras adds the feature axis
            return value
        return self.restored(tf.nest.map_structure(conform, self.input_specs), False, None)


def derive(serving_dir: str, tft_output: tft.TFTransformOutput, task: str,
           fill_values: Optional[Mapping[str, object]] = None) -> export.ServingModule:
    """The model at `serving_dir` as a ServingModule taking dense raw tensors; raises
    DerivationError naming why that is not possible."""
    loaded = tf.saved_model.load(serving_dir)
    if "serving_default" not in loaded.signatures:
        raise DerivationError("the SavedModel has no serving_default signature")
    keys = parsed_keys(loaded.signatures["serving_default"])
    if not keys:
        raise DerivationError("serving_default does not parse tf.Examples (no ParseExample op), "
                              "so its raw features are unknown")
    raw_spec = tft_output.raw_feature_spec()
    unknown = [k for k in keys if k not in raw_spec]
    if unknown:
        raise DerivationError("serving_default parses features the Transform graph does not "
                              "know: " + ", ".join(unknown))
    model = RestoredKerasCall(loaded)
    return export.ServingModule(model, tft_output, label_key="", task=task,
                                fill_values=fill_values, raw_keys=keys,
                                model_input_keys=model.input_keys)


def check_agreement(module: export.ServingModule, serialized: Sequence[bytes],
                    prediction_key: str) -> int:
    """Feeds the same examples to `serving_default` of the SavedModel `derive` restored
    (serialized) and to the rebuilt call (dense, missing values as fill values); raises
    DerivationError if any prediction differs. Returns how many examples agreed."""
    if not serialized:
        raise DerivationError("no examples to check the raw-tensor signature on")
    signature = module.model.restored.signatures["serving_default"]
    outputs = signature(tf.constant(list(serialized)))
    if prediction_key not in outputs:
        raise DerivationError(f"serving_default answers {', '.join(sorted(outputs))}, not the "
                              f"configured prediction '{prediction_key}' (prediction_key)")
    expected = outputs[prediction_key].numpy()
    dense = export.dense_features(tf.constant(list(serialized)), module.raw_tensor_specs(),
                                  module.fill_values)
    actual = module.output(module.parse_dense(dense)).numpy()
    if expected.size != actual.size:
        raise DerivationError(f"serving_default answers {expected.shape} per batch, the rebuilt "
                              f"call {actual.shape}: serving_default does more than parse, "
                              "transform and call the model")
    worst = float(np.max(np.abs(expected.reshape(-1).astype(np.float64)
                                - actual.reshape(-1).astype(np.float64))))
    if not worst <= AGREEMENT_TOLERANCE:
        raise DerivationError(f"the rebuilt raw-tensor call differs from serving_default by "
                              f"{worst:.3g} on real examples: serving_default does more than "
                              "parse, transform and call the model")
    return len(serialized)

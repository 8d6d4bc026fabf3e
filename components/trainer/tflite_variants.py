"""TFLite conversion for phones: which ops a model needs, and its quantized variants.

- `assess_ops`: converts once with TFLite builtins plus SELECT_TF_OPS and reads the operator table
  of the result. Ops that only run through the Flex delegate (TF ops) are listed by name; unless
  they are allowed, that is an error naming them.
- `convert`: float32, dynamic-range, float16, or full-integer int8 (calibrated on a representative
  dataset; int8 inputs/outputs optional).
- `weight_types`: the element types of a converted model's constant tensors, to check what a
  variant really stores.

The SavedModel must have the signature to convert as `serving_default` (see export.write_tflite:
TFMA's tf_lite extractor matches input names only after stripping that prefix).
"""

from __future__ import annotations

import collections
import dataclasses
import re
from typing import Callable, Iterable, Optional

import numpy as np
import tensorflow as tf
from tensorflow.lite.python.convert_phase import ConverterError

VARIANTS = ("float32", "dynamic", "float16", "int8")
FLEX_PREFIX = "Flex"


class UnsupportedOpsError(ValueError):
    """The model needs TF ops outside the TFLite builtin set and they are not allowed."""


@dataclasses.dataclass(frozen=True)
class OpAssessment:
    builtin_ops: tuple[str, ...]
    select_tf_ops: tuple[str, ...]  # run only through the Flex delegate
    select_tf_ops_allowed: bool

    @property
    def decision(self) -> str:
        if not self.select_tf_ops:
            return "builtins only"
        return "SELECT_TF_OPS allowed for: " + ", ".join(self.select_tf_ops)

    def as_dict(self) -> dict:
        return {"builtin_ops": list(self.builtin_ops), "select_tf_ops": list(self.select_tf_ops),
                "select_tf_ops_allowed": self.select_tf_ops_allowed, "decision": self.decision}


def model_ops(tflite_model: bytes) -> list[str]:
    """Operator names in a TFLite flatbuffer: builtins by enum name, custom ops by their code."""
    from tensorflow.lite.python import schema_py_generated as schema_fb

    names = {value: name for name, value in vars(schema_fb.BuiltinOperator).items()
             if not name.startswith("_")}
    model = schema_fb.ModelT.InitFromObj(schema_fb.Model.GetRootAsModel(tflite_model, 0))
    ops = []
    for code in model.operatorCodes:
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        if builtin == schema_fb.BuiltinOperator.CUSTOM:
            ops.append(code.customCode.decode())
        else:
            ops.append(names.get(builtin, str(builtin)))
    return sorted(set(ops))


def _converter(saved_model_dir: str, allow_select_tf_ops: bool) -> tf.lite.TFLiteConverter:
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir,
                                                         signature_keys=["serving_default"])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if allow_select_tf_ops:
        converter.target_spec.supported_ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    return converter


def assess_ops(saved_model_dir: str, allow_select_tf_ops: bool = False) -> OpAssessment:
    """Which ops the model needs; raises UnsupportedOpsError naming any TF-only op unless allowed,
    and any op that neither TFLite nor its Flex delegate has a kernel for."""
    try:
        ops = model_ops(_converter(saved_model_dir, allow_select_tf_ops=True).convert())
    except ConverterError as err:
        missing = re.search(r"Custom ops: (.+)", str(err))
        if missing is None:
            raise
        raise UnsupportedOpsError(
            "ops with no TFLite kernel, builtin or Flex: " + missing.group(1).strip()) from None
    select = tuple(op[len(FLEX_PREFIX):] for op in ops if op.startswith(FLEX_PREFIX))
    if select and not allow_select_tf_ops:
        raise UnsupportedOpsError(
            "ops outside the TFLite builtin set: " + ", ".join(select)
            + " (set allow_select_tf_ops to ship them with the Flex delegate)")
    return OpAssessment(tuple(op for op in ops if not op.startswith(FLEX_PREFIX)), select,
                        allow_select_tf_ops)


def convert(saved_model_dir: str, variant: str,
            representative: Optional[Callable[[], Iterable[list[np.ndarray]]]] = None,
            int8_io: bool = False, allow_select_tf_ops: bool = False) -> bytes:
    """One variant of the model. `representative` yields input lists (int8 calibration)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown TFLite variant {variant!r}; known: {', '.join(VARIANTS)}")
    converter = _converter(saved_model_dir, allow_select_tf_ops)
    if variant == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "int8":
        if representative is None:
            raise ValueError("int8 needs a representative dataset")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if allow_select_tf_ops:
            converter.target_spec.supported_ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    return converter.convert()


def with_serving_default(saved_model_dir: str, signature: str, out_dir: str) -> str:
    """Re-saves a SavedModel with `signature` as its only, serving_default, signature (the form
    the converter and TFMA's tf_lite extractor expect); returns out_dir."""
    loaded = tf.saved_model.load(saved_model_dir)
    tf.saved_model.save(loaded, out_dir, signatures={"serving_default": loaded.signatures[signature]})
    return out_dir


def representative_dataset(features: dict[str, np.ndarray], count: int = 300, seed: int = 0,
                           input_order: Optional[list[str]] = None):
    """A seeded sample of `count` single examples, as the converter's calibration generator."""
    order = input_order or sorted(features)
    total = len(next(iter(features.values())))
    rows = np.random.default_rng(seed).choice(total, size=min(count, total), replace=False)

    def generate():
        for row in rows:
            yield [features[name][row:row + 1] for name in order]
    return generate


def weight_types(tflite_model: bytes) -> dict[str, int]:
    """How many constant tensors (weights, biases, quantization tables) the model stores per
    element type, from the flatbuffer: tensors whose buffer holds data."""
    from tensorflow.lite.python import schema_py_generated as schema_fb

    type_names = {value: name.lower() for name, value in vars(schema_fb.TensorType).items()
                  if not name.startswith("_")}
    model = schema_fb.ModelT.InitFromObj(schema_fb.Model.GetRootAsModel(tflite_model, 0))
    counts: collections.Counter = collections.Counter()
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            data = model.buffers[tensor.buffer].data
            if data is not None and len(data):
                counts[type_names.get(tensor.type, str(tensor.type))] += 1
    return dict(counts)

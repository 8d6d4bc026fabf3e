"""TFLite conversion for phones: which ops a model needs, and its quantized variants.

- `assess_ops`: converts once with TFLite builtins plus SELECT_TF_OPS and reads the operator table
  of the result. Ops that only run through the Flex delegate (TF ops) are listed by name; unless
  they are allowed, that is an error naming them.
- `convert`: float32, dynamic-range, float16, or full-integer int8 (calibrated on a representative
  dataset; int8 inputs/outputs optional).
- `weight_types`: the element types of a converted model's constant tensors, to check what a
  variant really stores.
- `export_variants`: all of the above for one trained model, as the Trainer executor runs it, on a
  copy in which TF ops with an exact builtin equivalent are rewritten first (tflite_rewrites).

The converter reads the signature called `serving_default` (`with_serving_default` re-saves the
raw-tensor signature under that name): TFMA's tf_lite extractor matches input names only after
stripping that prefix.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import tempfile
from typing import Callable, Iterable, Optional

import numpy as np
import tensorflow as tf
from tensorflow.lite.python.convert_phase import ConverterError

from components.common import model_layout
from components.common.names import TFLITE_VARIANTS as VARIANTS
from components.trainer.export import dense_features
from components.trainer.text_tables import inline_text_file_tables
from components.trainer.tflite_rewrites import rewrite_for_builtins

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
            int8_io: bool = False, allow_select_tf_ops: bool = False,
            int8_float_fallback: bool = False) -> bytes:
    """One variant of the model. `representative` yields {input name: batch} dicts (int8
    calibration). `int8_float_fallback` lets ops with no int8 kernel (string table look-ups,
    for a model with text inputs) stay float in the int8 variant."""
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
        if int8_float_fallback:
            converter.target_spec.supported_ops.append(tf.lite.OpsSet.TFLITE_BUILTINS)
        if allow_select_tf_ops:
            converter.target_spec.supported_ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    return converter.convert()


def with_serving_default(saved_model_dir: str, signature: str, out_dir: str,
                         outputs: Optional[tuple[str, ...]] = ("probabilities",)) -> str:
    """Re-saves a SavedModel with `signature` as its only, serving_default, signature (the form
    the converter and TFMA's tf_lite extractor expect), keeping only the named `outputs` (TFMA
    reads a single-output TFLite model as the prediction; None keeps all); returns out_dir."""
    loaded = tf.saved_model.load(saved_model_dir)
    function = loaded.signatures[signature]
    if outputs is None:
        serving = function
    else:
        specs = dict(function.structured_input_signature[1])

        @tf.function(input_signature=[specs])
        def selected(features):
            result = function(**features)
            return {name: result[name] for name in outputs}
        serving = selected.get_concrete_function()
    tf.saved_model.save(loaded, out_dir, signatures={"serving_default": serving})
    inline_text_file_tables(out_dir)  # tf.Transform vocabularies, which TFLite would drop
    return out_dir


def first_call_failure(tflite_model: bytes) -> str:
    """What goes wrong when an app's first call sends one example (inputs kept at the stored batch
    of one, fill values), or ''. A model the converter accepts can still fail there: TFLite
    prepares run-time shapes wrongly in some graphs (tflite_rewrites removes the known cause)."""
    runner = tf.lite.Interpreter(model_content=tflite_model).get_signature_runner()
    inputs = {}
    for name, detail in runner.get_input_details().items():
        dtype = detail["dtype"]
        inputs[name] = np.full([1, *list(detail["shape"])[1:]],
                               model_layout.missing_value(dtype in (np.bytes_, np.object_)),
                               dtype=dtype)
    try:
        runner(**inputs)
    except (RuntimeError, ValueError) as err:
        return f"an app's first call on one example: {str(err).splitlines()[0][:300]}"
    return ""


def representative_dataset(features: dict[str, np.ndarray], count: int = 300, seed: int = 0):
    """A seeded sample of `count` single examples, as the converter's calibration generator
    (one {input name: batch of 1} dict per example)."""
    total = len(next(iter(features.values())))
    rows = np.random.default_rng(seed).choice(total, size=min(count, total), replace=False)

    def generate():
        for row in rows:
            yield {name: values[row:row + 1] for name, values in features.items()}
    return generate


def signature_input_specs(saved_model_dir: str, signature: str = "serving_default"
                          ) -> dict[str, tf.TensorSpec]:
    """The named input tensors of one signature of a SavedModel."""
    function = tf.saved_model.load(saved_model_dir).signatures[signature]
    return dict(function.structured_input_signature[1])


def read_features(file_pattern: str, specs: dict[str, tf.TensorSpec], limit: int,
                  fill_values: Optional[dict] = None) -> dict:
    """Up to `limit` tf.Examples (gzipped TFRecords, as ExampleGen writes them) parsed into one
    array per input of `specs`, as an app would send them: an optional feature (a key of
    `fill_values`) holds its fill value where the example lacks it."""
    files = tf.io.gfile.glob(file_pattern)
    if not files:
        raise FileNotFoundError(f"no examples for the representative dataset at {file_pattern}")
    records = tf.data.TFRecordDataset(files, compression_type="GZIP").take(limit).batch(limit)
    # An optional feature may be absent or present with no values (CsvExampleGen's empty cell).
    return {name: value.numpy() for name, value in
            dense_features(next(iter(records)), specs, fill_values or {}).items()}


def numeric_ranges(features: dict) -> dict[str, list[float]]:
    """[min, max] of each numeric input (strings have no range)."""
    return {name: [float(values.min()), float(values.max())]
            for name, values in features.items() if values.dtype.kind in "fiu" and values.size}


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


@dataclasses.dataclass(frozen=True)
class MobileOptions:
    """The Trainer's TFLite settings, from its custom_config (see mlops/defaults.yaml)."""

    variants: tuple[str, ...] = VARIANTS
    allow_select_tf_ops: bool = False
    representative_examples: int = 300
    representative_seed: int = 0
    int8_io: bool = False

    @classmethod
    def from_config(cls, config: dict) -> "MobileOptions":
        variants = tuple(config.get("tflite_variants") or VARIANTS)
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            raise ValueError(f"unknown TFLite variant(s) {', '.join(unknown)}; "
                             f"known: {', '.join(VARIANTS)}")
        if "float32" not in variants:
            raise ValueError("tflite_variants must include float32: the other variants are "
                             "judged against it")
        return cls(variants=variants,
                   allow_select_tf_ops=bool(config.get("allow_select_tf_ops", False)),
                   representative_examples=int(config.get("representative_examples", 300)),
                   int8_io=bool(config.get("int8_io", False)))


def export_variants(serving_model_dir: str, raw_signature: str, train_pattern: Optional[str],
                    options: MobileOptions, write: Callable[[str, bytes], None],
                    log: Callable[[str], None] = print, output: str = "probabilities",
                    fill_values: Optional[dict] = None) -> dict:
    """Assesses the ops of `raw_signature`, then converts every variant and hands each to
    `write(variant, bytes)`; each keeps the one `output` (the prediction). Returns the report
    recorded with the model: the op assessment, each variant's size and stored weight types, and
    how int8 was calibrated (on raw training examples, optional features filled with
    `fill_values` as an app sends them)."""
    with tempfile.TemporaryDirectory() as tmp:
        saved_model = with_serving_default(serving_model_dir, raw_signature, tmp, (output,))
        rewrites = rewrite_for_builtins(saved_model)
        for line in rewrites:
            log(f"TFLite rewrite: {line}")
        assessment = assess_ops(saved_model, options.allow_select_tf_ops)
        log(f"TFLite op assessment: {assessment.decision} ({', '.join(assessment.builtin_ops)})")
        representative, calibration, input_ranges = None, {}, {}
        specs = signature_input_specs(saved_model)
        text_inputs = sorted(name for name, spec in specs.items() if spec.dtype == tf.string)
        if train_pattern:
            features = read_features(train_pattern, specs, 10 * options.representative_examples,
                                     fill_values)
            # The raw value range seen in training, for the published file's TFLite metadata.
            input_ranges = numeric_ranges(features)
            representative = representative_dataset(
                features, options.representative_examples, options.representative_seed)
            calibration = {"split": "train",
                           "examples": min(options.representative_examples,
                                           len(next(iter(features.values())))),
                           "seed": options.representative_seed,
                           # Table look-ups of these text inputs have no int8 kernel: float.
                           **({"float_ops_for_text_inputs": text_inputs} if text_inputs else {})}
        elif "int8" in options.variants:
            raise ValueError("the int8 variant needs the raw training examples "
                             "(the Trainer's raw_examples input)")
        variants, skipped = {}, {}
        if assessment.select_tf_ops and "int8" in options.variants:
            # The converter's int8 calibration runs the model in its own interpreter, which has
            # no Flex delegate (it crashes the process), so such a model has no int8 variant.
            skipped["int8"] = ("int8 calibration cannot run TF (Flex) ops: "
                               + ", ".join(assessment.select_tf_ops))
            log(f"TFLite variant int8 skipped: {skipped['int8']}")
        converted = [v for v in options.variants if v not in skipped]
        for index, variant in enumerate(converted, 1):
            log(f"converting TFLite variant {variant} ({index}/{len(converted)})")
            model = convert(saved_model, variant, representative, int8_io=options.int8_io,
                            allow_select_tf_ops=options.allow_select_tf_ops,
                            int8_float_fallback=bool(text_inputs))
            failure = first_call_failure(model)
            if failure and variant == "float32":
                raise UnsupportedOpsError(f"the float32 TFLite model fails {failure}")
            if failure:
                skipped[variant] = f"fails {failure}"
                log(f"TFLite variant {variant} skipped: {skipped[variant]}")
                continue
            write(variant, model)
            variants[variant] = {"size_bytes": len(model), "weight_types": weight_types(model)}
    return {"assessment": assessment.as_dict(), "rewrites": rewrites, "variants": variants,
            "variants_skipped": skipped,
            "int8_calibration": calibration if "int8" in options.variants else {},
            "int8_io": options.int8_io, "input_ranges": input_ranges}

"""TFLite Metadata (model name and version, input descriptions with the fill value for a missing
value, normalization, the class labels) embedded in a .tflite file, as Android Studio's ML binding
and the Task Library read it.

tflite-support's package __init__ imports modules that need protobuf 3; the metadata writers work
on protobuf 4 when imported directly, which is all this module does. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import os
import tempfile
from typing import Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
from tensorflow_lite_support.metadata import metadata_schema_py_generated as metadata_fb
from tensorflow_lite_support.metadata.python import metadata as metadata_lib
from tensorflow_lite_support.metadata.python.metadata_writers import metadata_info, metadata_writer

LABELS_FILE = "labels.txt"
INPUT_PREFIX = "serving_default_"


class RawFeatureTensorMd(metadata_info.TensorMd):
    """A feature vector fed as-is: the model applies Transform's scaling itself, so the
    normalization a client applies is the identity (mean 0, std 1)."""

    def create_metadata(self) -> metadata_fb.TensorMetadataT:
        tensor = super().create_metadata()
        options = metadata_fb.NormalizationOptionsT()
        options.mean, options.std = [0.0], [1.0]
        unit = metadata_fb.ProcessUnitT()
        unit.optionsType = metadata_fb.ProcessUnitOptions.NormalizationOptions
        unit.options = options
        tensor.processUnits = [unit]
        return tensor


def input_name(tensor_name: str) -> str:
    """'serving_default_image_floats:0' -> 'image_floats'."""
    name = tensor_name.split(":")[0]
    return name[len(INPUT_PREFIX):] if name.startswith(INPUT_PREFIX) else name


def _input_description(feature: str, low_high, fill) -> str:
    text = f"raw '{feature}' as in the training data"
    if low_high:
        text += f" (range {low_high[0]:g} to {low_high[1]:g})"
    text += "; the model normalizes it itself"
    if fill is not None:
        text += f"; send {fill!r} when the value is missing"
    return text


def with_metadata(model: bytes, *, name: str, version: str, description: str,
                  labels: Sequence[str], task: str = "multiclass",
                  input_ranges: Optional[Mapping[str, Sequence[float]]] = None,
                  fill_values: Optional[Mapping[str, object]] = None) -> bytes:
    """`model` with TFLite Metadata for a single-output model: class scores with their labels
    (classifiers; a binary model's one score is the probability of the second label) or a
    predicted value (regression). `input_ranges` gives the [min, max] seen in training per
    numeric feature, `fill_values` the value an app sends for a missing optional feature."""
    interpreter = tf.lite.Interpreter(model_content=model)
    outputs = interpreter.get_output_details()
    if len(outputs) != 1:
        raise ValueError(f"TFLite metadata is written for one output (the prediction), the model "
                         f"has {len(outputs)}")
    inputs = []
    for detail in interpreter.get_input_details():
        feature = input_name(detail["name"])
        low_high = (input_ranges or {}).get(feature)
        fill = (fill_values or {}).get(feature)
        numeric = detail["dtype"] not in (np.bytes_, np.object_, np.str_)
        inputs.append((RawFeatureTensorMd if numeric else metadata_info.TensorMd)(
            name=feature, description=_input_description(feature, low_high, fill),
            min_values=[float(low_high[0])] if low_high and numeric else None,
            max_values=[float(low_high[1])] if low_high and numeric else None))
    with tempfile.TemporaryDirectory() as tmp:
        associated = []
        if task == "regression":
            output = metadata_info.TensorMd(name="predictions", description="the predicted value")
        else:
            labels_path = os.path.join(tmp, LABELS_FILE)
            with open(labels_path, "w") as handle:
                handle.write("".join(f"{label}\n" for label in labels))
            associated.append(labels_path)
            what = (f"probability of '{labels[-1]}'" if task == "binary"
                    else "probability of each class")
            output = metadata_info.ClassificationTensorMd(
                name="probabilities", description=what,
                label_files=[metadata_info.LabelFileMd(labels_path)])
        writer = metadata_writer.MetadataWriter.create_from_metadata_info(
            model_buffer=bytearray(model),
            general_md=metadata_info.GeneralMd(name=name, version=version,
                                               description=description),
            input_md=inputs, output_md=[output], associated_files=associated)
        return bytes(writer.populate())


def signature_keys(model: bytes) -> list[str]:
    """The signature names of a .tflite file, read from the flatbuffer (no interpreter, so no Flex
    delegate is set up just to list them)."""
    from tensorflow.lite.python import schema_py_generated as schema_fb

    parsed = schema_fb.Model.GetRootAsModel(model, 0)
    return sorted(parsed.SignatureDefs(i).SignatureKey().decode()
                  for i in range(parsed.SignatureDefsLength()))


def read_metadata(model: bytes) -> dict:
    """The metadata of a .tflite file as a dict (the JSON form), and its packed files' names."""
    import json

    displayer = metadata_lib.MetadataDisplayer.with_model_buffer(model)
    result = json.loads(displayer.get_metadata_json())
    result["associated_files"] = displayer.get_packed_associated_file_list()
    return result


def read_labels(model: bytes) -> list[str]:
    displayer = metadata_lib.MetadataDisplayer.with_model_buffer(model)
    return displayer.get_associated_file_buffer(LABELS_FILE).decode().splitlines()

"""Writes the combined blessing and chooses the TFLite variant for phones."""

import json
import os
from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.components.util.model_utils import is_model_blessed
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.common import model_layout
from components.common.tfma_metrics import overall_metrics
from pipelines.names import ACCURACY_METRIC, TFLITE_VARIANTS

BLESSED_KEY = "blessed"
MOBILE_VARIANT_KEY = "mobile_variant"
VARIANTS_KEY = "tflite_variants"
INPUT_BLESSINGS = ("saved_model_blessing", "tflite_blessing")
# Evaluation input -> prefix of the custom properties recorded for it.
INPUT_EVALUATIONS = {"saved_model_evaluation": "saved_model", "tflite_evaluation": "tflite"}
QUANTIZED_VARIANTS = tuple(v for v in TFLITE_VARIANTS if v != "float32")


def variant_blessing_key(variant: str) -> str:
    return f"tflite_{variant}_blessing"


def variant_evaluation_key(variant: str) -> str:
    return f"tflite_{variant}_evaluation"


def choose_variant(sizes: dict[str, int], eligible: dict[str, bool]) -> str:
    """The smallest eligible variant; float32, the reference, is always eligible. Ties go to the
    earlier variant in TFLITE_VARIANTS (the less aggressive conversion)."""
    candidates = [v for v in TFLITE_VARIANTS
                  if v in sizes and (v == "float32" or eligible.get(v, False))]
    return min(candidates, key=lambda v: (sizes[v], TFLITE_VARIANTS.index(v)))


def _file_size(path: str) -> int:
    from tfx.dsl.io import fileio

    return fileio.stat(path).length if fileio.exists(path) else -1


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        model = artifact_utils.get_single_instance(input_dict["model"])
        verdicts = {key: is_model_blessed(artifact_utils.get_single_instance(input_dict[key]))
                    for key in INPUT_BLESSINGS}
        blessed = all(verdicts.values())

        blessing = artifact_utils.get_single_instance(output_dict["blessing"])
        blessing.set_int_custom_property(BLESSED_KEY, int(blessed))
        blessing.set_string_custom_property("current_model", model.uri)
        blessing.set_int_custom_property("current_model_id", model.id)
        for key, verdict in verdicts.items():
            blessing.set_int_custom_property(key, int(verdict))
        baseline_id = artifact_utils.get_single_instance(
            input_dict["saved_model_blessing"]).get_custom_property("baseline_model_id")
        if baseline_id:
            blessing.set_int_custom_property("baseline_model_id", int(baseline_id))
        for key, prefix in INPUT_EVALUATIONS.items():
            if not input_dict.get(key):
                continue
            uri = artifact_utils.get_single_uri(input_dict[key])
            for kind, suffix in (("candidate", "accuracy"), ("baseline", "baseline_accuracy")):
                value = overall_metrics(uri, kind).get(ACCURACY_METRIC)
                if value is not None:
                    blessing.set_float_custom_property(f"{prefix}_{suffix}", value)
        self._choose_mobile_variant(model, input_dict, blessing)
        # Same marker files the Evaluator writes, for people browsing the pipeline root.
        io_utils.write_string_file(
            os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "")

    @staticmethod
    def _choose_mobile_variant(model: types.Artifact, input_dict: Dict[str, List[types.Artifact]],
                               blessing: types.Artifact) -> None:
        """Records {variant: size_bytes, accuracy, eligible} as `tflite_variants` (JSON), and the
        chosen one as `mobile_variant`; eligible and refused lists too, for the Kubeflow UI."""
        float32_accuracy = (blessing.get_float_custom_property("tflite_accuracy")
                            if blessing.has_custom_property("tflite_accuracy") else None)
        variants = {"float32": {
            "size_bytes": _file_size(model_layout.variant_file(model.uri, "float32")),
            "accuracy": float32_accuracy, "eligible": True}}
        for variant in QUANTIZED_VARIANTS:
            if not input_dict.get(variant_blessing_key(variant)):
                continue
            accuracy = None
            if input_dict.get(variant_evaluation_key(variant)):
                accuracy = overall_metrics(
                    artifact_utils.get_single_uri(input_dict[variant_evaluation_key(variant)]),
                    "candidate", baseline_name="float32").get(ACCURACY_METRIC)
            variants[variant] = {
                "size_bytes": _file_size(model_layout.variant_file(model.uri, variant)),
                "accuracy": accuracy,
                "eligible": is_model_blessed(
                    artifact_utils.get_single_instance(input_dict[variant_blessing_key(variant)])),
            }
        chosen = choose_variant({v: info["size_bytes"] for v, info in variants.items()},
                                {v: info["eligible"] for v, info in variants.items()})
        blessing.set_string_custom_property(MOBILE_VARIANT_KEY, chosen)
        blessing.set_string_custom_property(VARIANTS_KEY, json.dumps(variants))
        blessing.set_string_custom_property(
            "tflite_eligible_variants", ",".join(v for v, i in variants.items() if i["eligible"]))
        blessing.set_string_custom_property(
            "tflite_refused_variants", ",".join(v for v, i in variants.items() if not i["eligible"]))

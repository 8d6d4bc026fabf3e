"""Writes the combined blessing."""

import os
from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.components.util.model_utils import is_model_blessed
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.common.tfma_metrics import overall_metrics
from pipelines.names import ACCURACY_METRIC

BLESSED_KEY = "blessed"
INPUT_BLESSINGS = ("saved_model_blessing", "tflite_blessing")
# Evaluation input -> prefix of the custom properties recorded for it.
INPUT_EVALUATIONS = {"saved_model_evaluation": "saved_model", "tflite_evaluation": "tflite"}


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
        # Same marker files the Evaluator writes, for people browsing the pipeline root.
        io_utils.write_string_file(
            os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "")

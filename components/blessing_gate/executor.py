"""Writes the combined blessing."""

import os
from typing import Any, Dict, List

from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.components.util.model_utils import is_model_blessed
from tfx.types import artifact_utils
from tfx.utils import io_utils

BLESSED_KEY = "blessed"
INPUT_BLESSINGS = ("saved_model_blessing", "tflite_blessing")


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
        # Same marker files the Evaluator writes, for people browsing the pipeline root.
        io_utils.write_string_file(
            os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "")

"""TFMA's TFLite prediction, made to run every model the Trainer converts.

Two things differ from TFMA 0.47's `TFLitePredictionDoFn`:
- Models are called through their signature runner (inputs by name, as an app calls them), not
  tensor by tensor.
- A missing value arrives as None (absent feature), which TFMA fills with -1 or '' (the
  platform's fill values), or as an empty list (CsvExampleGen writes an empty cell as a feature
  with no values), which it fails to reshape. Both are filled here.
Everything else (which model per ModelSpec, the fill values, (de)quantization, where the
predictions go) is TFMA's.
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
from tensorflow_model_analysis import constants
from tensorflow_model_analysis.api import types
from tensorflow_model_analysis.extractors import tflite_predict_extractor
from tensorflow_model_analysis.utils import util


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, np.ndarray) and value.size == 0:
        return True
    return bool(np.any(np.equal(value, None)))


class SignatureRunnerPredictionDoFn(tflite_predict_extractor.TFLitePredictionDoFn):

    def setup(self):
        super().setup()
        self._runners = {name: interpreter.get_signature_runner()
                         for name, interpreter in self._interpreters.items()}

    def _batch_reducible_process(self, element: types.Extracts) -> Sequence[types.Extracts]:
        result = copy.copy(element)
        features = element[constants.FEATURES_KEY]
        batch_size = util.batch_size(features)
        specs = self._eval_config.model_specs
        for spec in specs:
            model_name = spec.name if len(specs) > 1 else ""
            if model_name not in self._runners:
                raise ValueError(f'model for "{spec.name}" not found: '
                                 f"eval_config={self._eval_config}")
            runner = self._runners[model_name]
            inputs = {}
            for name, detail in runner.get_input_details().items():
                shape, dtype = [1, *list(detail["shape"])[1:]], detail["dtype"]
                column = features.get(name)
                rows = []
                for index in range(batch_size):
                    value = None if column is None else column[index]
                    if _missing(value):
                        value = np.full(shape, -1 if dtype in (np.float32, np.int64) else "",
                                        dtype=dtype)
                    rows.append(np.reshape(value, shape))
                params = detail["quantization_parameters"]
                inputs[name] = self._quantize(np.concatenate(rows, axis=0), params["scales"],
                                              params["zero_points"], dtype)
            answers = runner(**inputs)
            outputs = {}
            for name, detail in runner.get_output_details().items():
                params = detail["quantization_parameters"]
                outputs[name] = self._post_process_result(self._dequantize(
                    answers[name], params["scales"], params["zero_points"]))
            if any(util.batch_size(v) != batch_size for v in outputs.values()):
                raise ValueError("Did not get the expected number of results.")
            if len(outputs) == 1:
                outputs = next(iter(outputs.values()))
            if len(specs) == 1:
                result[constants.PREDICTIONS_KEY] = outputs
            else:
                result.setdefault(constants.PREDICTIONS_KEY, {})[spec.name] = outputs
        return [result]

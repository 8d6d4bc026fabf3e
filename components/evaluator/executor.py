"""TFX's Evaluator executor, with two ways of receiving a baseline that orchestrators impose.

- "Nothing in production." The gate's baseline arrives through an importer
  (components/baseline), which always hands over one artifact: on a first run that is the
  no-baseline directory. The stock executor would load it as a model; this one drops it, so the
  Evaluator runs without a baseline exactly as TFX does when a Resolver finds none (change
  thresholds are skipped, value thresholds alone gate the run).
- "The baseline is the model itself." A TFLite variant Evaluator compares two files of one Model
  artifact (components/evaluator/variant_models.py). Wiring that artifact in as both `model` and
  `baseline_model` fails on Kubeflow: ML Metadata refuses two INPUT events of one artifact for one
  execution, so KFP's driver cannot create the execution. Such Evaluators get `model` only and an
  EvalConfig with an `is_baseline` ModelSpec; the baseline is then the same artifact.
"""

from __future__ import annotations

from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.types import standard_component_specs

from components.baseline.production import is_no_baseline


class Executor(evaluator_executor.Executor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        key = standard_component_specs.BASELINE_MODEL_KEY
        baselines = input_dict.get(key) or []
        if baselines and all(is_no_baseline(b.uri) for b in baselines):
            logging.info("No model in production: evaluating without a baseline.")
            input_dict = {k: v for k, v in input_dict.items() if k != key}
        elif not baselines and _declares_baseline(exec_properties):
            input_dict = {**input_dict, key: input_dict[standard_component_specs.MODEL_KEY]}
        super().Do(input_dict, output_dict, exec_properties)


def _declares_baseline(exec_properties: Dict[str, Any]) -> bool:
    import tensorflow_model_analysis as tfma
    from tfx.utils import proto_utils

    text = exec_properties.get(standard_component_specs.EVAL_CONFIG_KEY)
    if not text:
        return False
    eval_config = proto_utils.json_to_proto(text, tfma.EvalConfig())
    return any(spec.is_baseline for spec in eval_config.model_specs)

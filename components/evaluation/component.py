"""TFX's Evaluator with one parameter more: `max_examples`, the most examples a TFLite evaluation
scores (the executor picks them; see components/evaluation/executor.py). Everything else is TFX's
EvaluatorSpec, so the component compiles, caches and records as the stock one does, and the limit
is an execution property in ML Metadata beside the EvalConfig."""

from __future__ import annotations

from typing import Optional

import tensorflow_model_analysis as tfma
from tfx import types
from tfx.components.evaluator import component as tfx_evaluator
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import component_spec, standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components.common.names import MAX_EXAMPLES
from components.evaluation import executor


class EvaluatorSpec(standard_component_specs.EvaluatorSpec):
    PARAMETERS = {**standard_component_specs.EvaluatorSpec.PARAMETERS,
                  MAX_EXAMPLES: component_spec.ExecutionParameter(type=int, optional=True)}


class Evaluator(tfx_evaluator.Evaluator):
    SPEC_CLASS = EvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, examples: types.BaseChannel, eval_config: tfma.EvalConfig,
                 model: types.BaseChannel, baseline_model: Optional[types.BaseChannel] = None,
                 module_path: Optional[str] = None, max_examples: int = 0):
        if max_examples < 0:
            raise ValueError(f"max_examples must be 0 (all) or more, not {max_examples}")
        spec = EvaluatorSpec(
            examples=examples, model=model, baseline_model=baseline_model,
            eval_config=eval_config, module_path=module_path,
            example_splits=json_utils.dumps(None),
            fairness_indicator_thresholds=json_utils.dumps(None),
            max_examples=max_examples,
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=types.Channel(type=standard_artifacts.ModelBlessing))
        # TFX's Evaluator.__init__ builds the stock spec; the component base is what it calls next.
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)

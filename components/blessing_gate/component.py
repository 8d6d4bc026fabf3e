"""TFX component definition of BlessingGate."""

import json
from typing import Mapping, Optional, Sequence

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.blessing_gate import executor
from components.common import tasks
from components.blessing_gate.executor import (QUANTIZED_VARIANTS, variant_blessing_key,
                                               variant_evaluation_key)


class BlessingGateSpec(component_spec.ComponentSpec):
    # The gate's metrics (components.common.tasks.metrics_to_json), primary first.
    PARAMETERS = {executor.METRICS_KEY: component_spec.ExecutionParameter(type=str)}
    INPUTS = {
        "model": component_spec.ChannelParameter(type=standard_artifacts.Model),
        "saved_model_blessing": component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
        "tflite_blessing": component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
        # Optional: when given, the gate metrics are recorded on the blessing, so ML Metadata (and
        # the Kubeflow UI, `mlops runs`, `mlops lineage`) shows them without reading TFMA files.
        "saved_model_evaluation": component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        "tflite_evaluation": component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        # One blessing (eligible or not) and evaluation per quantized TFLite variant produced.
        **{variant_blessing_key(v): component_spec.ChannelParameter(
            type=standard_artifacts.ModelBlessing, optional=True) for v in QUANTIZED_VARIANTS},
        **{variant_evaluation_key(v): component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True) for v in QUANTIZED_VARIANTS},
    }
    OUTPUTS = {"blessing": component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing)}


class BlessingGate(base_component.BaseComponent):
    """Combines the SavedModel and TFLite Evaluators' blessings for the Pusher, and chooses the
    TFLite variant for phones: the smallest one its Evaluator found eligible (float32 if none).

    TFX's Pusher takes a single ModelBlessing; the output here carries the same properties an
    Evaluator writes (`blessed`, `current_model`, `current_model_id`), so the Pusher and
    LatestBlessedModelStrategy treat it like any Evaluator's blessing, plus `mobile_variant`.
    """

    SPEC_CLASS = BlessingGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, model, saved_model_blessing, tflite_blessing, saved_model_evaluation=None,
                 tflite_evaluation=None,
                 variant_blessings: Optional[Mapping[str, channel.BaseChannel]] = None,
                 variant_evaluations: Optional[Mapping[str, channel.BaseChannel]] = None,
                 metrics: Sequence[tasks.MetricGate] = ()):
        variant_inputs = {}
        for variant, blessing in (variant_blessings or {}).items():
            variant_inputs[variant_blessing_key(variant)] = blessing
        for variant, evaluation in (variant_evaluations or {}).items():
            variant_inputs[variant_evaluation_key(variant)] = evaluation
        super().__init__(spec=BlessingGateSpec(
            model=model,
            saved_model_blessing=saved_model_blessing,
            tflite_blessing=tflite_blessing,
            saved_model_evaluation=saved_model_evaluation,
            tflite_evaluation=tflite_evaluation,
            **variant_inputs,
            metrics=json.dumps(tasks.metrics_to_json(metrics)),
            blessing=channel.Channel(type=standard_artifacts.ModelBlessing),
        ))

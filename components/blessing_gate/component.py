"""TFX component definition of BlessingGate."""

import json
from typing import Optional, Sequence

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.blessing_gate import executor
from components.common import tasks
from components.common.names import SAVED_MODEL_BLESSING, TFLITE_BLESSING


class BlessingGateSpec(component_spec.ComponentSpec):
    # The gate's metrics (components.common.tasks.metrics_to_json), primary first.
    PARAMETERS = {executor.METRICS_KEY: component_spec.ExecutionParameter(type=str)}
    INPUTS = {
        "model": component_spec.ChannelParameter(type=standard_artifacts.Model),
        # Each verdict is recorded on the output under its input's key (components.common.names).
        SAVED_MODEL_BLESSING: component_spec.ChannelParameter(
            type=standard_artifacts.ModelBlessing),
        TFLITE_BLESSING: component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
        # Optional: when given, the gate metrics are recorded on the blessing, so ML Metadata (and
        # the Kubeflow UI, `mlops runs`, `mlops lineage`) shows them without reading TFMA files.
        "saved_model_evaluation": component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        "tflite_evaluation": component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        # The quantized TFLite variants' Evaluator: its verdict per variant (eligible or not) and
        # their metrics. Absent when the Trainer makes float32 only.
        executor.VARIANTS_BLESSING_KEY: component_spec.ChannelParameter(
            type=standard_artifacts.ModelBlessing, optional=True),
        executor.VARIANTS_EVALUATION_KEY: component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
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
                 variants_blessing: Optional[channel.BaseChannel] = None,
                 variants_evaluation: Optional[channel.BaseChannel] = None,
                 metrics: Sequence[tasks.MetricGate] = ()):
        super().__init__(spec=BlessingGateSpec(
            model=model,
            saved_model_blessing=saved_model_blessing,
            tflite_blessing=tflite_blessing,
            saved_model_evaluation=saved_model_evaluation,
            tflite_evaluation=tflite_evaluation,
            tflite_variants_blessing=variants_blessing,
            tflite_variants_evaluation=variants_evaluation,
            metrics=json.dumps(tasks.metrics_to_json(metrics)),
            blessing=channel.Channel(type=standard_artifacts.ModelBlessing),
        ))

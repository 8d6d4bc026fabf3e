"""TFX component definition of BlessingGate."""

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.blessing_gate import executor


class BlessingGateSpec(component_spec.ComponentSpec):
    PARAMETERS = {}
    INPUTS = {
        "model": component_spec.ChannelParameter(type=standard_artifacts.Model),
        "saved_model_blessing": component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
        "tflite_blessing": component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
        # Optional: when given, the accuracies are recorded on the blessing, so ML Metadata (and
        # the Kubeflow UI, `mlops runs`, `mlops lineage`) shows them without reading TFMA files.
        "saved_model_evaluation": component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        "tflite_evaluation": component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
    }
    OUTPUTS = {"blessing": component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing)}


class BlessingGate(base_component.BaseComponent):
    """Combines the SavedModel and TFLite Evaluators' blessings for the Pusher.

    TFX's Pusher takes a single ModelBlessing; the output here carries the same properties an
    Evaluator writes (`blessed`, `current_model`, `current_model_id`), so the Pusher and
    LatestBlessedModelStrategy treat it like any Evaluator's blessing.
    """

    SPEC_CLASS = BlessingGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, model, saved_model_blessing, tflite_blessing, saved_model_evaluation=None,
                 tflite_evaluation=None):
        super().__init__(spec=BlessingGateSpec(
            model=model,
            saved_model_blessing=saved_model_blessing,
            tflite_blessing=tflite_blessing,
            saved_model_evaluation=saved_model_evaluation,
            tflite_evaluation=tflite_evaluation,
            blessing=channel.Channel(type=standard_artifacts.ModelBlessing),
        ))

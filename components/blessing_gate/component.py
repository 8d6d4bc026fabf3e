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

    def __init__(self, model, saved_model_blessing, tflite_blessing):
        super().__init__(spec=BlessingGateSpec(
            model=model,
            saved_model_blessing=saved_model_blessing,
            tflite_blessing=tflite_blessing,
            blessing=channel.Channel(type=standard_artifacts.ModelBlessing),
        ))

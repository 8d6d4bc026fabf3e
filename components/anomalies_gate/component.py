"""TFX component definition of AnomaliesGate."""

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import component_spec, standard_artifacts

from components.anomalies_gate import executor


class AnomaliesGateSpec(component_spec.ComponentSpec):
    PARAMETERS = {}
    INPUTS = {"anomalies": component_spec.ChannelParameter(type=standard_artifacts.ExampleAnomalies)}
    OUTPUTS = {}


class AnomaliesGate(base_component.BaseComponent):
    """Fails (and so stops the run) if ExampleValidator reported any anomaly in any split.

    ExampleValidator itself only records anomalies; the pipeline makes Transform depend on this gate
    so that no model is ever trained, evaluated or pushed from data that broke the schema.
    """

    SPEC_CLASS = AnomaliesGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, anomalies):
        super().__init__(spec=AnomaliesGateSpec(anomalies=anomalies))

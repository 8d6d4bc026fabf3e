"""TFX component definition of the DataGate."""

import json
from typing import Any, Mapping, Optional, Sequence

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.common.names import ACCEPT_DRIFT
from components.data_gate import checks, executor
from components.pusher.destinations.registry import DESTINATIONS_KEY


class DataGateSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        executor.THRESHOLDS_KEY: component_spec.ExecutionParameter(type=str),
        ACCEPT_DRIFT: component_spec.ExecutionParameter(type=int),
        # Where the Pusher publishes: the model in production there names its training span's
        # statistics (the previous span).
        "model_name": component_spec.ExecutionParameter(type=str),
        DESTINATIONS_KEY: component_spec.ExecutionParameter(type=str),
    }
    INPUTS = {
        "statistics": component_spec.ChannelParameter(type=standard_artifacts.ExampleStatistics),
        "schema": component_spec.ChannelParameter(type=standard_artifacts.Schema),
        "anomalies": component_spec.ChannelParameter(type=standard_artifacts.ExampleAnomalies),
    }
    # TFDV's anomalies with the drift measurements; the verdict, each drift and each problem, the
    # previous span's statistics and whether drift was accepted are its custom properties.
    OUTPUTS = {"result": component_spec.ChannelParameter(type=standard_artifacts.ExampleAnomalies)}


class DataGate(base_component.BaseComponent):
    """Fails (and so stops the run before Transform) on any schema anomaly ExampleValidator found,
    on a column the previous span had and this one lost or retyped, and on drift above threshold
    since the span of the model in production unless `accept_drift` is set."""

    SPEC_CLASS = DataGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, statistics, schema, anomalies, model_name: str,
                 destinations: Sequence[Mapping[str, Any]],
                 thresholds: Optional[checks.Thresholds] = None, accept_drift: bool = False):
        super().__init__(spec=DataGateSpec(
            statistics=statistics, schema=schema, anomalies=anomalies,
            drift_thresholds=(thresholds or checks.Thresholds()).to_json(),
            accept_drift=int(accept_drift), model_name=model_name,
            destinations=json.dumps(list(destinations)),
            result=channel.Channel(type=standard_artifacts.ExampleAnomalies)))

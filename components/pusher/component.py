"""TFX component definition of the multi-destination Pusher.

It keeps TFX's Pusher contract — `model` and `model_blessing` in, a PushedModel out with the custom
properties `pushed`, `pushed_destination` and `pushed_version` — so ML Metadata lineage and the
Kubeflow UI read it like the stock Pusher.
"""

import json
from typing import Any, Mapping, Optional, Sequence

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.common import ui_artifacts
from components.pusher import executor, run_card
from components.pusher.destinations.registry import DESTINATIONS_KEY


class PusherSpec(component_spec.ComponentSpec):
    PARAMETERS = {
        "model_name": component_spec.ExecutionParameter(type=str),
        # Where to publish: a JSON list of {kind, root, options} (destinations/registry.py).
        DESTINATIONS_KEY: component_spec.ExecutionParameter(type=str),
        "labels_json": component_spec.ExecutionParameter(type=str),
    }
    INPUTS = {
        "model": component_spec.ChannelParameter(type=standard_artifacts.Model),
        "model_blessing": component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
        # The eval split feeds the TF Serving load check.
        "examples": component_spec.ChannelParameter(type=standard_artifacts.Examples),
        # The TFLite model's evaluation goes into the mobile manifest.
        "evaluation": component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        # The SavedModel's: its confusion matrix goes to the Kubeflow run page (run_card.py).
        run_card.SAVED_MODEL_EVALUATION_KEY: component_spec.ChannelParameter(
            type=standard_artifacts.ModelEvaluation, optional=True),
        # The model the Evaluators compared this one with: recorded with each published version,
        # so a rerun of the model in production is compared with it again (components/baseline).
        "baseline_model": component_spec.ChannelParameter(
            type=standard_artifacts.Model, optional=True),
        # The training span's statistics, recorded with each published version: the next run's
        # drift check compares its span with them (components/data_gate).
        "statistics": component_spec.ChannelParameter(
            type=standard_artifacts.ExampleStatistics, optional=True),
    }
    OUTPUTS = {
        "pushed_model": component_spec.ChannelParameter(type=standard_artifacts.PushedModel),
        # What the Kubeflow run page shows of the run (run_card.py).
        run_card.METRICS_KEY: component_spec.ChannelParameter(type=ui_artifacts.Metrics),
        run_card.CLASSIFICATION_KEY: component_spec.ChannelParameter(
            type=ui_artifacts.ClassificationMetrics),
        run_card.VERDICT_KEY: component_spec.ChannelParameter(type=ui_artifacts.Markdown),
        run_card.REPORT_KEY: component_spec.ChannelParameter(type=ui_artifacts.HTML),
    }


class Pusher(base_component.BaseComponent):
    SPEC_CLASS = PusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, model, model_blessing, examples, model_name: str,
                 destinations: Sequence[Mapping[str, Any]],
                 labels: Sequence[str] = (), evaluation: Optional[channel.BaseChannel] = None,
                 baseline_model: Optional[channel.BaseChannel] = None,
                 statistics: Optional[channel.BaseChannel] = None,
                 saved_model_evaluation: Optional[channel.BaseChannel] = None):
        super().__init__(spec=PusherSpec(
            model=model, model_blessing=model_blessing, examples=examples, evaluation=evaluation,
            baseline_model=baseline_model, statistics=statistics,
            saved_model_evaluation=saved_model_evaluation,
            model_name=model_name, destinations=json.dumps(list(destinations)),
            labels_json=json.dumps(list(labels)),
            pushed_model=channel.Channel(type=standard_artifacts.PushedModel),
            gate_metrics=channel.Channel(type=ui_artifacts.Metrics),
            classification_metrics=channel.Channel(type=ui_artifacts.ClassificationMetrics),
            verdict=channel.Channel(type=ui_artifacts.Markdown),
            report=channel.Channel(type=ui_artifacts.HTML),
        ))

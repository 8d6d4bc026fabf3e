"""The one mapping from the platform's Config to create_pipeline's arguments, shared by runners."""

from __future__ import annotations

from typing import Any

from mlops.config import Config


def pipeline_args(config: Config, data_format: str, input_pattern: str) -> dict[str, Any]:
    """Everything create_pipeline needs except what is orchestrator-specific (metadata store).
    `input_pattern` is 'span-{SPAN}/*' for data in spans (mlops.data.input_location)."""
    return dict(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        data_root=config.data_root,
        data_format=data_format,
        input_pattern=input_pattern,
        module_file=config.resolved_module_file,
        label_key=config.label_key,
        train_steps=config.train_steps,
        eval_steps=config.eval_steps,
        task=config.task,
        prediction_key=config.prediction_key,
        metrics=config.metric_gates,
        slices=config.slices,
        tflite_variants=config.tflite_variants,
        tflite_accuracy_budget=config.tflite_accuracy_budget,
        model_name=config.model_name,
        serving_root=config.serving_root if config.publish_serving else "",
        hub_root=config.hub_root if config.publish_hub else "",
        hub_publisher=config.hub_publisher,
        mobile_root=config.mobile_root if config.publish_mobile else "",
        labels=config.class_labels,
        train_buckets=config.train_buckets,
        eval_buckets=config.eval_buckets,
        trainer_custom_config=config.trainer_custom_config(),
        enable_cache=config.enable_cache,
        beam_pipeline_args=config.beam_args,
    )


def production_baseline_uri(args: dict[str, Any]) -> str:
    """The model a local run's candidate is gated against, read from the publishing destinations
    that `args` (pipeline_args) name (components.baseline)."""
    from components.baseline.production import baseline_uri
    from components.pusher.executor import destinations_from

    return baseline_uri(destinations_from(args), args["pipeline_root"])

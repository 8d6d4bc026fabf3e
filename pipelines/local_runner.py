"""Runs the pipeline locally: TFX LocalDagRunner, Beam DirectRunner, ML Metadata in SQLite."""

from __future__ import annotations

from tfx import v1 as tfx

from mlops.config import Config
from mlops.metadata import sqlite_connection_config
from pipelines.pipeline import create_pipeline


def build(config: Config, data_format: str) -> tfx.dsl.Pipeline:
    """The pipeline for `config`, with the local metadata store and Beam arguments."""
    return create_pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        data_root=config.data_root,
        data_format=data_format,
        module_file=config.resolved_module_file,
        label_key=config.label_key,
        train_steps=config.train_steps,
        eval_steps=config.eval_steps,
        accuracy_threshold=config.accuracy_threshold,
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
        metadata_connection_config=sqlite_connection_config(config.metadata_sqlite_path),
        beam_pipeline_args=config.beam_args,
    )


def run(config: Config, data_format: str) -> None:
    tfx.orchestration.LocalDagRunner().run(build(config, data_format))

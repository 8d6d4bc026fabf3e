"""Runs the pipeline locally: TFX LocalDagRunner, Beam DirectRunner, ML Metadata in SQLite."""

from __future__ import annotations

from tfx import v1 as tfx

from mlops.config import Config
from mlops.metadata import sqlite_connection_config
from pipelines.pipeline import create_pipeline
from pipelines.runner_args import pipeline_args


def build(config: Config, data_format: str) -> tfx.dsl.Pipeline:
    """The pipeline for `config`, with the local metadata store."""
    return create_pipeline(
        **pipeline_args(config, data_format),
        metadata_connection_config=sqlite_connection_config(config.metadata_sqlite_path),
    )


def run(config: Config, data_format: str) -> None:
    tfx.orchestration.LocalDagRunner().run(build(config, data_format))

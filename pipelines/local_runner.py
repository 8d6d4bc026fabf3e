"""Runs the pipeline locally: TFX LocalDagRunner, Beam DirectRunner, ML Metadata in SQLite
(default) or MySQL."""

from __future__ import annotations

from tfx.orchestration import pipeline as tfx_pipeline
from tfx.orchestration.local.local_dag_runner import LocalDagRunner

from components.common.beam_dependencies import package_tfx_only_for_remote_runners
from mlops.config import Config
from mlops.metadata import connection_config
from pipelines.pipeline import create_pipeline
from pipelines.runner_args import curated_schema_uri, pipeline_args, production_baseline_uri


def build(config: Config, data_format: str, input_pattern: str) -> tfx_pipeline.Pipeline:
    """The pipeline for `config`, with its metadata store and the model in production now as the
    baseline (read before the run, from the publishing destinations)."""
    args = pipeline_args(config, data_format, input_pattern)
    return create_pipeline(
        **args,
        baseline_model_uri=production_baseline_uri(args),
        schema_file=curated_schema_uri(config),
        metadata_connection_config=connection_config(config.metadata_target()),
    )


def run(config: Config, data_format: str, input_pattern: str) -> None:
    package_tfx_only_for_remote_runners()
    LocalDagRunner().run(build(config, data_format, input_pattern))

"""Compiles the pipeline for Kubeflow Pipelines v2 (and Vertex AI Pipelines) with TFX's
KubeflowV2DagRunner. The same configuration as local runs; KFP keeps ML Metadata itself.

Outputs: `<name>.json`, the PipelineJob that Vertex AI takes, and `<name>.yaml`, the plain
PipelineSpec that open-source KFP uploads. Schema 2.1 (`use_pipeline_spec_2_1=True`), because
open-source KFP's driver rejects 2.0's `constantValue` parameters.
"""

from __future__ import annotations

import os

import yaml
from tfx import v1 as tfx

from mlops.config import Config
from mlops.data import SPAN_PATTERN
from pipelines.pipeline import create_pipeline
from pipelines.runner_args import pipeline_args


def build(config: Config, data_format: str) -> tfx.dsl.Pipeline:
    # On a cluster the data is in object storage and arrives in spans (`mlops ingest`); every
    # scheduled run takes the newest.
    return create_pipeline(**pipeline_args(config, data_format, SPAN_PATTERN + "/*"))


def compile_pipeline(config: Config, output_dir: str, image: str,
                     data_format: str = "tfrecord") -> dict[str, str]:
    """Writes the Vertex PipelineJob (.json) and the KFP PipelineSpec (.yaml); returns the paths."""
    os.makedirs(output_dir, exist_ok=True)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=image, use_pipeline_spec_2_1=True),
        output_dir=output_dir,
        output_filename=f"{config.pipeline_name}.json",
    )
    job = runner.run(build(config, data_format), write_out=True)
    yaml_path = os.path.join(output_dir, f"{config.pipeline_name}.yaml")
    with open(yaml_path, "w") as handle:
        yaml.safe_dump(job["pipelineSpec"], handle, sort_keys=True)
    return {"vertex": os.path.join(output_dir, f"{config.pipeline_name}.json"), "kfp": yaml_path}

"""Compiles the pipeline for Kubeflow Pipelines v2 (and Vertex AI Pipelines) with TFX's
KubeflowV2DagRunner. The same configuration as local runs; KFP keeps ML Metadata itself.

Outputs: `<name>.json`, the PipelineJob that Vertex AI takes, and `<name>.yaml`, the plain
PipelineSpec that open-source KFP uploads. Schema 2.1 (`use_pipeline_spec_2_1=True`), because
open-source KFP's driver rejects 2.0's `constantValue` parameters. Both carry the same spec, post-
processed by kfp_spec for what open-source KFP needs and TFX's compiler cannot express.
"""

from __future__ import annotations

import json
import os

import yaml
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

from components.baseline.production import no_baseline_uri
from mlops.config import Config
from mlops.data import SPAN_PATTERN
from pipelines import kfp_spec
from pipelines.pipeline import create_pipeline
from pipelines.runner_args import curated_schema_uri, pipeline_args


def build(config: Config, data_format: str) -> tfx_pipeline.Pipeline:
    # On a cluster the data is in object storage and arrives in spans (`mlops ingest`); every
    # scheduled run takes the newest. The baseline URI is a stand-in here: kfp_spec makes it the
    # output of a task that reads the model in production at run time.
    args = pipeline_args(config, data_format, SPAN_PATTERN + "/*")
    return create_pipeline(**args, baseline_model_uri=no_baseline_uri(args["pipeline_root"]),
                           schema_file=curated_schema_uri(config))


def compile_pipeline(config: Config, output_dir: str, image: str,
                     data_format: str = "tfrecord") -> dict[str, str]:
    """Writes the Vertex PipelineJob (.json) and the KFP PipelineSpec (.yaml); returns the paths."""
    os.makedirs(output_dir, exist_ok=True)
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
            default_image=image, use_pipeline_spec_2_1=True),
        output_dir=output_dir,
        output_filename=f"{config.pipeline_name}.json",
    )
    job = runner.run(build(config, data_format), write_out=False)
    # One spec for both: what open-source KFP needs, that TFX's compiler cannot emit (kfp_spec).
    job["pipelineSpec"] = kfp_spec.for_kubeflow(job["pipelineSpec"], config.pipeline_root)
    json_path = os.path.join(output_dir, f"{config.pipeline_name}.json")
    with open(json_path, "w") as handle:
        json.dump(job, handle, indent=2, sort_keys=True)
    yaml_path = os.path.join(output_dir, f"{config.pipeline_name}.yaml")
    with open(yaml_path, "w") as handle:
        yaml.safe_dump(job["pipelineSpec"], handle, sort_keys=True)
    return {"vertex": json_path, "kfp": yaml_path}

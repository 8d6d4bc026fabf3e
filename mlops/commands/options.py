"""The flags commands share: configuration overrides (None means 'not given') and compiling."""

from __future__ import annotations

import click


def config_options(func):
    """Flags that override configuration keys; None means 'not given'."""
    options = [
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="YAML config file (also MLOPS_CONFIG)."),
        click.option("--home", help="Where all state lives (MLOPS_HOME, default ./mlops-home)."),
        click.option("--data", help="Directory or file of TFRecord/CSV input (MLOPS_DATA)."),
        click.option("--data-format", type=click.Choice(["auto", "tfrecord", "csv"])),
        click.option("--label-key"),
        click.option("--feature-keys", help="Comma-separated features the model needs."),
        click.option("--task", type=click.Choice(["multiclass", "binary", "regression"])),
        click.option("--num-classes", type=int),
        click.option("--slices", help="Comma-separated features to evaluate apart (per value)."),
        click.option("--model-name"),
        click.option("--module-file", help="Python file with preprocessing_fn and run_fn."),
        click.option("--train-steps", type=int),
        click.option("--eval-steps", type=int),
        click.option("--accuracy-threshold", type=float,
                     help="Lower bound on accuracy for both evaluators."),
        click.option("--max-accuracy-drop", type=float,
                     help="How much less accurate than the model in production a candidate "
                          "may be."),
        click.option("--tflite-accuracy-budget", type=float,
                     help="Accuracy points a TFLite variant may lose against float32 and still "
                          "be published."),
        click.option("--serving-dir", help="TF Serving root (local path or gs://)."),
        click.option("--hub-dir", help="TF Hub root (local path or gs://)."),
        click.option("--mobile-dir", help="Mobile model bucket root (local path or gs://)."),
        click.option("--serving/--no-serving", "publish_serving", default=None),
        click.option("--hub/--no-hub", "publish_hub", default=None),
        click.option("--mobile/--no-mobile", "publish_mobile", default=None),
        click.option("--pipeline-root", "pipeline_root_dir"),
        click.option("--kfp-endpoint", help="KFP API/UI URL (MLOPS_KFP_ENDPOINT)."),
        click.option("--schedule-cron", help="6-field cron, seconds first (KFP)."),
        click.option("--metadata", help="ML Metadata store: sqlite:///PATH or "
                     "mysql://USER@HOST:PORT/DB (MLOPS_METADATA; password from "
                     "MLOPS_METADATA_PASSWORD or MLOPS_METADATA_PASSWORD_FILE)."),
        click.option("--cache/--no-cache", "enable_cache", default=None),
        click.option("--schema-file", help="The curated schema (.pbtxt); runs import it when it "
                     "exists (MLOPS_SCHEMA_FILE)."),
        click.option("--accept-drift", is_flag=True, default=None,
                     help="Let a span that drifted from the production model's span through "
                          "(recorded in lineage)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def compile_options(func):
    options = [
        click.option("--engine", type=click.Choice(["kfp", "vertex"]), default="kfp",
                     show_default=True, help="Kubeflow Pipelines v2, or Vertex AI Pipelines."),
        click.option("--image", help="Pipeline image every task runs in (config key: image)."),
        click.option("--output-dir", default="build/pipeline", show_default=True),
        click.option("--allow-local-root", is_flag=True,
                     help="Accept a pipeline root that is not gs:// (local harnesses only)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func

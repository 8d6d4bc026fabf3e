"""The one mapping from the platform's Config to create_pipeline's arguments, shared by runners."""

from __future__ import annotations

from typing import Any

from components.data_gate.checks import Thresholds
from mlops.config import Config, ConfigError


def pipeline_args(config: Config, data_format: str, input_pattern: str) -> dict[str, Any]:
    """Everything create_pipeline needs except what is orchestrator-specific (metadata store).
    `input_pattern` is 'span-{SPAN}/*' for data in spans (mlops.data.input_location)."""
    return dict(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        data_root=config.input_base,
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
        tflite_eval_examples=config.tflite_eval_examples,
        model_name=config.model_name,
        destinations=config.destination_specs,
        labels=config.class_labels,
        train_buckets=config.train_buckets,
        eval_buckets=config.eval_buckets,
        trainer_custom_config=config.trainer_custom_config(),
        drift_thresholds=drift_thresholds(config),
        accept_drift=config.accept_drift,
        enable_cache=config.enable_cache,
        beam_pipeline_args=direct_runner_args(config, 0),
    )


def direct_runner_args(config: Config, input_bytes: int) -> list[str]:
    """Beam's arguments for a run reading `input_bytes`: the configured ones, or the DirectRunner
    in-memory with one worker for small input and multi-processing on every core for large."""
    import os

    if config.beam_args:
        return list(config.beam_args)
    switch = config.beam_multiprocessing_mb
    if switch > 0 and input_bytes >= switch * 2**20 and (os.cpu_count() or 1) > 1:
        return ["--direct_running_mode=multi_processing",
                f"--direct_num_workers={os.cpu_count()}"]
    return ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def drift_thresholds(config: Config) -> Thresholds:
    return Thresholds(config.drift_numeric_threshold, config.drift_categorical_threshold,
                      dict(config.drift_thresholds), config.missing_increase_threshold)


def curated_schema_uri(config: Config) -> str:
    """The curated schema as runs read it ('' when there is none, and each run infers one): a copy
    under the pipeline root named by the file's sha256, so an edit changes ImportSchemaGen's cache
    key and lineage names the exact schema that validated each run. On a cluster the copy lands in
    object storage, where the tasks read it (as TFX's module wheels do)."""
    import hashlib
    import os

    import tensorflow as tf

    if not os.path.isfile(config.schema_path):
        return ""
    with open(config.schema_path, "rb") as handle:
        content = handle.read()
    check_schema_text(config.schema_path, content)
    digest = hashlib.sha256(content).hexdigest()
    uri = os.path.join(config.pipeline_root, "schemas", f"sha256-{digest[:16]}", "schema.pbtxt")
    if not tf.io.gfile.exists(uri):
        tf.io.gfile.makedirs(os.path.dirname(uri))
        with tf.io.gfile.GFile(uri, "wb") as handle:
            handle.write(content)
    return uri


def check_schema_text(path: str, content: bytes) -> None:
    """One clear error naming the file, before the run, for a curated schema ImportSchemaGen could
    not read (it would fail mid-run as "7:5 : ..." without the file's name)."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    try:
        text_format.Parse(content.decode("utf-8"), schema_pb2.Schema())
    except (text_format.ParseError, UnicodeDecodeError) as err:
        raise ConfigError(f"the curated schema {path} is not a valid Schema proto in text "
                          f"format: {err} (fix it, or `mlops schema --promote --force` to "
                          "replace it with the latest run's)") from None


def production_baseline_uri(args: dict[str, Any]) -> str:
    """The model a local run's candidate is gated against, read from the publishing destinations
    that `args` (pipeline_args) name (components.baseline)."""
    from components.baseline.production import baseline_uri
    from components.pusher.destinations.registry import destinations_from

    return baseline_uri(destinations_from(args), args["pipeline_root"])

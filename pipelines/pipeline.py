"""The platform's pipeline definition: pure, reads no environment; runners pass everything in.

ExampleGen (newest span) -> StatisticsGen -> SchemaGen (or ImportSchemaGen of the curated schema)
-> ExampleValidator -> (DataGate: schema anomalies, and drift since the span of the model in
production) -> Transform -> Trainer (SavedModel + TFLite variants) -> Evaluator (SavedModel) +
Evaluator (TFLite float32) + one Evaluator of all quantized TFLite variants -> (BlessingGate) ->
Pusher (TF Serving, TF Hub, mobile bucket). An Importer hands the first two Evaluators the model in
production (`baseline_model_uri`, found by components/baseline from the publishing destinations), so
a candidate that is worse than the model in production is never pushed; the variants Evaluator
compares each variant with the same model's float32 TFLite, and the BlessingGate picks the smallest
variant within the accuracy budget for the mobile bucket.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from ml_metadata.proto import metadata_store_pb2

# TFX's modules, not `tfx.v1`: that also imports Vertex AI's SDK for its extensions (3 s of
# every run's start), which the pipeline does not use.
from tfx.components import (
    CsvExampleGen,
    ExampleValidator,
    ImportExampleGen,
    SchemaGen,
    StatisticsGen,
    Transform,
)
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.base import executor_spec
from tfx.dsl.components.common.importer import Importer
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import example_gen_pb2, trainer_pb2
from tfx.types import standard_artifacts

from components.blessing_gate import BlessingGate
from components.common import tasks
from components.common.names import (
    BASELINE_IMPORTER_ID,
    BLESSING_GATE_ID,
    DATA_GATE_ID,
    EVALUATOR_ID,
    TFLITE_EVALUATOR_ID,
    VARIANTS_EVALUATOR_ID,
)
from components.common.tasks import MetricGate
from components.data_gate import DataGate
from components.data_gate.checks import Thresholds
from components.evaluation import gate_config, variant_models
from components.evaluation.component import Evaluator
from components.pusher import Pusher
from components.spans import executor as example_gen_executor
from components.trainer.component import Trainer


def create_pipeline(
    *,
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    data_format: str,
    module_file: str,
    label_key: str,
    train_steps: int,
    eval_steps: int,
    metrics: Sequence[MetricGate],
    model_name: str,
    baseline_model_uri: str,
    task: str = tasks.MULTICLASS,
    prediction_key: str = "",
    slices: Sequence[str] = (),
    input_pattern: str = "*",
    tflite_variants: Sequence[str],
    tflite_accuracy_budget: float,
    tflite_eval_examples: int,
    destinations: Sequence[Mapping[str, Any]],
    labels: Sequence[str] = (),
    train_buckets: int,
    eval_buckets: int,
    trainer_custom_config: Optional[dict] = None,
    schema_file: str = "",
    drift_thresholds: Optional[Thresholds] = None,
    accept_drift: bool = False,
    enable_cache: bool = True,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
    beam_pipeline_args: Sequence[str] = (),
) -> tfx_pipeline.Pipeline:
    """Builds the whole chain. `data_format` is 'tfrecord' or 'csv'; `input_pattern` is relative to
    `data_root` ('span-{SPAN}/*' takes the newest span). `destinations` are where the Pusher
    publishes, each `{kind, root, options}` (components/pusher/destinations/registry.py). `metrics`
    gate the model (the first is the primary metric, which also picks the TFLite variant for
    phones); `slices` are feature names ('payment_type') or one value ('payment_type=Cash') to
    evaluate apart; `prediction_key` names the serving signature's output the gate reads (default:
    the task's). `baseline_model_uri` is the model the candidate is gated against
    (components.baseline.production.baseline_uri: the model in production, or a directory that
    says there is none); the Kubeflow compiler replaces it with a task that finds it at run time.
    `schema_file` is the curated schema (ImportSchemaGen); empty infers one from the span.
    `drift_thresholds` bound the drift since the span of the model in production, which stops the
    run before Transform unless `accept_drift`."""
    input_config = example_gen_pb2.Input(splits=[
        example_gen_pb2.Input.Split(name="single_split", pattern=input_pattern)])
    output_config = example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=train_buckets),
        example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=eval_buckets),
    ]))
    if data_format == "csv":
        example_gen = CsvExampleGen(
            input_base=data_root, input_config=input_config, output_config=output_config)
        span_resolving_executor = example_gen_executor.CsvExecutor
    else:
        example_gen = ImportExampleGen(
            input_base=data_root, input_config=input_config, output_config=output_config)
        span_resolving_executor = example_gen_executor.ImportExecutor
    # Same executor plus {SPAN} resolution where KFP skips TFX's driver (see its module); these
    # components take no custom_executor_spec argument in TFX 1.16.
    example_gen.executor_spec = executor_spec.BeamExecutorSpec(span_resolving_executor)
    examples = example_gen.outputs["examples"]

    statistics_gen = StatisticsGen(examples=examples)
    statistics = statistics_gen.outputs["statistics"]
    if schema_file:
        schema_gen = ImportSchemaGen(schema_file=schema_file)
    else:
        schema_gen = SchemaGen(statistics=statistics, infer_feature_shape=True)
    example_validator = ExampleValidator(
        statistics=statistics, schema=schema_gen.outputs["schema"])
    data_gate = DataGate(
        statistics=statistics, schema=schema_gen.outputs["schema"],
        anomalies=example_validator.outputs["anomalies"], thresholds=drift_thresholds,
        accept_drift=accept_drift, model_name=model_name, destinations=destinations,
    ).with_id(DATA_GATE_ID)

    transform = Transform(
        examples=examples, schema=schema_gen.outputs["schema"], module_file=module_file,
        disable_statistics=True)
    transform.add_upstream_node(data_gate)

    trainer = Trainer(
        module_file=module_file,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        raw_examples=examples,  # int8 calibration reads raw training examples
        train_args=trainer_pb2.TrainArgs(num_steps=train_steps),
        eval_args=trainer_pb2.EvalArgs(num_steps=eval_steps),
        custom_config={**(trainer_custom_config or {}), "task": task,
                       "tflite_variants": list(tflite_variants)},
    )
    model = trainer.outputs["model"]

    # The model in production now. With reimport off the Importer hands back the artifact already
    # registered for that URI (the published Trainer output), so reruns stay cached.
    baseline_importer = Importer(
        source_uri=baseline_model_uri, artifact_type=standard_artifacts.Model,
        reimport=False).with_id(BASELINE_IMPORTER_ID)
    baseline_model = baseline_importer.outputs["result"]

    evaluator = Evaluator(
        examples=examples, model=model, baseline_model=baseline_model,
        eval_config=gate_config.eval_config(task, label_key, metrics, slices, tflite=False,
                                            prediction_key=prediction_key),
    ).with_id(EVALUATOR_ID)
    # TFLite scores examples one at a time, 5-10x slower than the SavedModel: those Evaluators
    # score a fixed sample of a large eval split (the SavedModel Evaluator scores all of it).
    tflite_evaluator = Evaluator(
        examples=examples, model=model, baseline_model=baseline_model,
        eval_config=gate_config.eval_config(task, label_key, metrics, slices, tflite=True),
        max_examples=tflite_eval_examples,
    ).with_id(TFLITE_EVALUATOR_ID)
    # Every quantized variant against the same model's float32 in one TFMA pass: the UDF module
    # picks the variant file per ModelSpec, and the executor uses `model` as the baseline (one
    # artifact cannot be two inputs on KFP).
    quantized = [v for v in tflite_variants if v != "float32"]
    variants_evaluator = None
    if quantized:
        variants_evaluator = Evaluator(
            examples=examples, model=model,
            eval_config=gate_config.variants_eval_config(task, label_key, quantized, metrics[0],
                                                         tflite_accuracy_budget),
            module_path=variant_models.__name__, max_examples=tflite_eval_examples,
        ).with_id(VARIANTS_EVALUATOR_ID)
    evaluators = [e for e in (evaluator, tflite_evaluator, variants_evaluator) if e is not None]
    blessing_gate = BlessingGate(
        model=model,
        saved_model_blessing=evaluator.outputs["blessing"],
        tflite_blessing=tflite_evaluator.outputs["blessing"],
        saved_model_evaluation=evaluator.outputs["evaluation"],
        tflite_evaluation=tflite_evaluator.outputs["evaluation"],
        variants_blessing=variants_evaluator.outputs["blessing"] if variants_evaluator else None,
        variants_evaluation=(variants_evaluator.outputs["evaluation"] if variants_evaluator
                             else None),
        metrics=metrics,
    ).with_id(BLESSING_GATE_ID)

    pusher = Pusher(
        model=model,
        model_blessing=blessing_gate.outputs["blessing"],
        examples=examples,
        evaluation=tflite_evaluator.outputs["evaluation"],
        saved_model_evaluation=evaluator.outputs["evaluation"],
        baseline_model=baseline_model,
        statistics=statistics,
        model_name=model_name,
        destinations=destinations,
        labels=labels,
    )

    return tfx_pipeline.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[example_gen, statistics_gen, schema_gen, example_validator, data_gate,
                    transform, trainer, baseline_importer, *evaluators, blessing_gate, pusher],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(beam_pipeline_args),
    )

"""The stock TFX chain the scale benchmark compares the platform with: the same data, the same user
module and steps, stock components only (no custom executors), LocalDagRunner on SQLite.

ImportExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform -> Trainer
(GenericExecutor: the module's run_fn, so the same training and SavedModel export) -> Evaluator
(SavedModel, no baseline) -> Pusher (a local directory). What the platform adds on top (the TFLite
variants and their Evaluators, the gates) has no stock counterpart and is shown apart.

    python benchmarks/stock_tfx.py --data DIR --root DIR --module-file FILE --train-steps N
"""

from __future__ import annotations

import argparse
import os
import sys

import mlops  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow is imported)


def create_pipeline(data: str, root: str, module_file: str, train_steps: int, eval_steps: int,
                    custom_config: dict, beam_args: list[str]):
    import tensorflow_model_analysis as tfma
    from tfx import v1 as tfx

    example_gen = tfx.components.ImportExampleGen(
        input_base=data,
        input_config=tfx.proto.Input(splits=[tfx.proto.Input.Split(name="single_split",
                                                                   pattern="span-1/*")]),
        output_config=tfx.proto.Output(split_config=tfx.proto.SplitConfig(splits=[
            tfx.proto.SplitConfig.Split(name="train", hash_buckets=4),
            tfx.proto.SplitConfig.Split(name="eval", hash_buckets=1)])))
    examples = example_gen.outputs["examples"]
    statistics_gen = tfx.components.StatisticsGen(examples=examples)
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"],
                                          infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    transform = tfx.components.Transform(examples=examples, schema=schema_gen.outputs["schema"],
                                         module_file=module_file)
    trainer = tfx.components.Trainer(
        module_file=module_file, examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=eval_steps), custom_config=custom_config)
    evaluator = tfx.components.Evaluator(
        examples=examples, model=trainer.outputs["model"],
        eval_config=tfma.EvalConfig(
            model_specs=[tfma.ModelSpec(signature_name="serving_default", label_key="image_class",
                                        prediction_key="probabilities")],
            slicing_specs=[tfma.SlicingSpec()],
            metrics_specs=[tfma.MetricsSpec(metrics=[
                tfma.MetricConfig(class_name="SparseCategoricalAccuracy",
                                  threshold=tfma.MetricThreshold(
                                      value_threshold=tfma.GenericValueThreshold(
                                          lower_bound={"value": 0.1}))),
                tfma.MetricConfig(class_name="ExampleCount")])]))
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=os.path.join(root, "serving"))))
    return tfx.dsl.Pipeline(
        pipeline_name="stock-tfx", pipeline_root=os.path.join(root, "pipeline"),
        components=[example_gen, statistics_gen, schema_gen, example_validator, transform,
                    trainer, evaluator, pusher],
        enable_cache=False,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            os.path.join(root, "metadata.sqlite")),
        beam_pipeline_args=beam_args)


def main() -> int:
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--module-file", required=True)
    parser.add_argument("--train-steps", type=int, required=True)
    parser.add_argument("--eval-steps", type=int, default=50)
    parser.add_argument("--custom-config", default="{}", help="the Trainer's custom_config (JSON)")
    parser.add_argument("--beam-arg", action="append", default=[])
    args = parser.parse_args()
    from absl import logging as absl_logging
    from tfx import v1 as tfx

    from mlops import progress

    absl_logging.set_verbosity(absl_logging.INFO)
    progress.install(os.path.join(args.root, "stock.log"))
    tfx.orchestration.LocalDagRunner().run(create_pipeline(
        args.data, args.root, args.module_file, args.train_steps, args.eval_steps,
        json.loads(args.custom_config), args.beam_arg))
    return 0


if __name__ == "__main__":
    sys.exit(main())

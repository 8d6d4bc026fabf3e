"""TFLite variants of the latest trained model: size, accuracy and single-example latency.

Reads the latest run of MLOPS_HOME (default ./mlops-home; `make run` first) from ML Metadata: the
variants the Trainer produced (Format-TFLite/<variant>/tflite), its SavedModel's raw-tensor
signature for comparison, and the ExampleGen eval split. Latency is the median of many warm
invocations on one example with 1 thread, in TensorFlow's tf.lite.Interpreter and in the
standalone ai-edge-litert runtime. Printed, never asserted.

    .venv/bin/python benchmarks/bench_tflite.py [--home DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import time

import mlops  # noqa: F401  (environment for TensorFlow)

# isort: split
import numpy as np
import tensorflow as tf

from components.common import model_layout
from components.trainer import tflite_variants as tflite
from mlops import metadata
from mlops.config import load_config

TARGET_INT8_RATIO = 0.27
TARGET_ACCURACY_LOSS = 0.005


def _split(examples_uri: str, split: str, feature: str, label: str):
    files = sorted(glob.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    images, labels = [], []
    for raw in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        parsed = tf.train.Example.FromString(raw).features.feature
        images.append(parsed[feature].float_list.value)
        labels.append(parsed[label].int64_list.value[0])
    return np.array(images, np.float32), np.array(labels)


def _median_ms(call, runs: int) -> float:
    for _ in range(20):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _tflite_runner(model: bytes, feature: str, runtime: str = "tf", signature="serving_default"):
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter
    else:
        Interpreter = tf.lite.Interpreter
    interpreter = Interpreter(model_content=model, num_threads=1)
    runner = interpreter.get_signature_runner(signature)
    details = runner.get_input_details()[feature]

    def predict(images: np.ndarray) -> np.ndarray:
        if details["dtype"] == np.int8:
            scale, zero = details["quantization"]
            images = np.clip(np.round(images / scale + zero), -128, 127).astype(np.int8)
        return runner(**{feature: images})["probabilities"]
    return predict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=None)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    config = load_config(overrides={"home": args.home} if args.home else None)
    store = metadata.open_store(config.metadata_target())
    run = metadata.latest_run(store, config.pipeline_name)
    if run is None:
        print(f"no run in {config.metadata_url}: `make run` first", file=sys.stderr)
        return 1
    outputs = {e.node_id: e.outputs for e in metadata.run_executions(store, run,
                                                                     config.pipeline_name)}
    example_gen = next(v for k, v in outputs.items() if k.endswith("ExampleGen"))
    examples_uri = example_gen["examples"][0].uri
    model_uri = outputs["Trainer"]["model"][0].uri
    model_dir = model_layout.serving_dir(model_uri)
    feature, label = config.feature_keys[0], config.label_key
    eval_x, eval_y = _split(examples_uri, "eval", feature, label)

    saved = tf.saved_model.load(model_dir).signatures["serving_raw"]
    rows = [("SavedModel (serving_raw)", None,
             float(np.mean(saved(**{feature: tf.constant(eval_x)})["probabilities"].numpy()
                           .argmax(axis=1) == eval_y)),
             _median_ms(lambda: saved(**{feature: tf.constant(eval_x[:1])}), args.runs), None)]
    files = [(v, model_layout.variant_file(model_uri, v), "serving_default")
             for v in tflite.VARIANTS]
    files.append(("trainable (infer)", model_layout.trainable_file(model_uri), "infer"))
    for name, path, signature in files:
        if not tf.io.gfile.exists(path):
            continue
        with tf.io.gfile.GFile(path, "rb") as handle:
            model = handle.read()
        predict = _tflite_runner(model, feature, signature=signature)
        accuracy = float(np.mean(np.concatenate(
            [predict(eval_x[i:i + 1]) for i in range(len(eval_x))]).argmax(axis=1) == eval_y))
        try:
            litert = _tflite_runner(model, feature, "litert", signature)
            litert_ms = _median_ms(lambda: litert(eval_x[:1]), args.runs)
        except (RuntimeError, ValueError) as err:  # e.g. Flex ops: LiteRT has no Flex delegate
            litert_ms = f"n/a: {str(err).splitlines()[0][:40]}"
        rows.append((name, len(model), accuracy, _median_ms(lambda: predict(eval_x[:1]), args.runs),
                     litert_ms))
    with tf.io.gfile.GFile(model_layout.report_file(model_uri)) as handle:
        import json

        report = json.load(handle)

    float_size = next(r[1] for r in rows if r[0] == "float32")
    float_accuracy = next(r[2] for r in rows if r[0] == "float32")
    assessment = report["assessment"]
    print(f"Model: {model_uri}\nOps: {assessment['decision']} "
          f"({', '.join(assessment['builtin_ops'])})")
    print(f"Eval examples: {len(eval_y)}; latency: median ms of {args.runs} warm single-example "
          "calls, 1 thread\n")
    print(f"{'variant':<26} {'bytes':>9} {'x float32':>9} {'accuracy':>9} {'vs f32':>8} "
          f"{'tf.lite ms':>10} {'LiteRT ms':>10}")
    for name, size, accuracy, ms, litert_ms in rows:
        ratio = "" if size is None else f"{size / float_size:.3f}"
        delta = "" if size is None else f"{(accuracy - float_accuracy) * 100:+.2f}pt"
        litert = "" if litert_ms is None else (
            f"{litert_ms:.3f}" if isinstance(litert_ms, float) else litert_ms)
        print(f"{name:<26} {size or '':>9} {ratio:>9} {accuracy:>9.4f} {delta:>8} {ms:>10.3f} "
              f"{litert:>10}")
    int8 = next(r for r in rows if r[0] == "int8")
    print(f"\nTargets: int8 <= {TARGET_INT8_RATIO}x float32 size "
          f"({int8[1] / float_size:.3f}x), accuracy loss <= {TARGET_ACCURACY_LOSS * 100:.1f}pt "
          f"({(float_accuracy - int8[2]) * 100:.2f}pt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The run's summary says when a TFLite Evaluator scored a sample of the eval split, read from ML
Metadata as the local runner and as Kubeflow's launcher record it (ints, or doubles)."""

from __future__ import annotations

import json

from ml_metadata.proto import metadata_store_pb2

from components.common.names import (
    BLESSED,
    EXAMPLES_AVAILABLE,
    EXAMPLES_EVALUATED,
    GATE_METRICS,
    METRICS_SUFFIX,
    TFLITE_PREFIX,
    gate_key,
)
from mlops import metadata, report


def _artifact(**properties) -> metadata_store_pb2.Artifact:
    artifact = metadata_store_pb2.Artifact()
    for key, value in properties.items():
        field = artifact.custom_properties[key]
        if isinstance(value, str):
            field.string_value = value
        elif isinstance(value, float):
            field.double_value = value
        else:
            field.int_value = value
    return artifact


def _summary_line(evaluation: metadata_store_pb2.Artifact) -> str:
    metrics = {"sparse_categorical_accuracy": 0.9658}
    gate = _artifact(**{GATE_METRICS: json.dumps([{"name": "SparseCategoricalAccuracy"}]),
                        gate_key(TFLITE_PREFIX, METRICS_SUFFIX): json.dumps(metrics)})
    record = metadata.ExecutionRecord(
        node_id="EvaluatorTFLite", execution_id=1, state="COMPLETE", seconds=30.8,
        outputs={"evaluation": [evaluation], "blessing": [_artifact(**{BLESSED: 1})]})
    result = report.evaluation_result(gate, record, "TFLite", TFLITE_PREFIX)
    summary = report.RunSummary("run", [], [result], pushed=False, pushed_destination=None,
                                pushed_version=None)
    (line,) = [ln for ln in report.format_summary(summary, 1.0).splitlines()
               if ln.startswith("  TFLite:")]
    return line


def test_a_sampled_tflite_evaluation_says_how_many_examples_it_scored():
    sampled = _artifact(**{EXAMPLES_AVAILABLE: 199746, EXAMPLES_EVALUATED: 20000})
    assert _summary_line(sampled) == ("  TFLite: sparse_categorical_accuracy 0.9658 "
                                      "(blessed; on 20,000 of 199,746 eval examples)")
    on_kfp = _artifact(**{EXAMPLES_AVAILABLE: 199746.0, EXAMPLES_EVALUATED: 20000.0})
    assert _summary_line(on_kfp).endswith("(blessed; on 20,000 of 199,746 eval examples)")


def test_an_evaluation_of_every_example_says_nothing_more():
    whole = _artifact(**{EXAMPLES_AVAILABLE: 113, EXAMPLES_EVALUATED: 113})
    assert _summary_line(whole) == "  TFLite: sparse_categorical_accuracy 0.9658 (blessed)"
    assert _summary_line(_artifact()) == "  TFLite: sparse_categorical_accuracy 0.9658 (blessed)"

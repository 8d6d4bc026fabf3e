"""The Evaluator executor's reading of TFMA's validation: one verdict per TFLite variant."""

from __future__ import annotations


def test_variants_evaluator_judges_each_variant_apart():
    """TFMA validates every candidate against the baseline; a failure names its model, and one
    TFMA cannot pin on a model (a slice with no examples) refuses them all."""
    from tensorflow_model_analysis.proto import validation_result_pb2 as vr

    from components.evaluation.executor import model_verdicts

    candidates = ["dynamic", "float16", "int8"]
    result = vr.ValidationResult(validation_ok=False)
    failure = result.metric_validations_per_slice.add().failures.add()
    failure.metric_key.name, failure.metric_key.model_name = "sparse_categorical_accuracy", "int8"
    assert model_verdicts(result, candidates) == {"dynamic": True, "float16": True, "int8": False}
    assert model_verdicts(vr.ValidationResult(validation_ok=True), candidates) == {
        name: True for name in candidates}
    result.missing_slices.add()
    assert model_verdicts(result, candidates) == {name: False for name in candidates}

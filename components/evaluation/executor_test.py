"""The Evaluator executor: a verdict per TFLite variant, and the sample TFLite evaluations score."""

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


def _examples_artifact(root, records, train_records=()):
    """An Examples artifact whose eval split holds `records` and train split `train_records`
    (gzipped TFRecord, as ExampleGen writes it), each in two files."""
    import tensorflow as tf
    from tfx.types import artifact_utils, standard_artifacts

    examples = standard_artifacts.Examples()
    examples.uri = str(root / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    for split, split_records in (("eval", records), ("train", list(train_records))):
        split_dir = root / "examples" / f"Split-{split}"
        split_dir.mkdir(parents=True)
        for shard in range(2):
            with tf.io.TFRecordWriter(str(split_dir / f"data-{shard}.gz"), options) as writer:
                for record in split_records[shard::2]:
                    writer.write(record)
    return examples


def _read(examples, split="eval"):
    import tensorflow as tf
    from tfx.types import artifact_utils

    uri = artifact_utils.get_split_uri([examples], split)
    return [r.numpy() for r in tf.data.TFRecordDataset(tf.io.gfile.glob(f"{uri}/*"),
                                                       compression_type="GZIP")]


def test_a_tflite_evaluation_scores_the_same_sample_of_a_large_split_every_run(tmp_path):
    import tensorflow as tf
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.types import standard_artifacts

    from components.common.names import EXAMPLES_AVAILABLE, EXAMPLES_EVALUATED
    from components.evaluation.executor import Executor

    records = [tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[float(i)]))}))
        .SerializeToString() for i in range(68)]
    records, train_records = records[:60], records[60:]
    examples = _examples_artifact(tmp_path, records, train_records)

    def sample(max_examples, run, splits=("eval",)):
        context = BaseBeamExecutor.Context(
            beam_pipeline_args=["--direct_running_mode=in_memory"],
            tmp_dir=str(tmp_path / "tmp"), unique_id=run)
        evaluation = standard_artifacts.ModelEvaluation()
        chosen = Executor(context)._sample([examples], list(splits), max_examples,
                                           {"evaluation": [evaluation]})
        counts = (evaluation.get_int_custom_property(EXAMPLES_AVAILABLE),
                  evaluation.get_int_custom_property(EXAMPLES_EVALUATED))
        assert chosen.get_string_custom_property("payload_format") == \
            examples.get_string_custom_property("payload_format")
        return chosen, counts

    first, counts = sample(25, "1")
    first = _read(first)
    again = _read(sample(25, "2")[0])
    assert counts == (60, 25)
    assert len(first) == 25 and len(set(first)) == 25 and set(first) <= set(records)
    assert sorted(first) == sorted(again)  # the same examples every run
    everything, counts = sample(100, "3")  # a split smaller than the limit is scored whole
    assert sorted(_read(everything)) == sorted(records) and counts == (60, 60)
    # Each split apart: all 8 train records and 25 of the 60 eval records.
    both, counts = sample(25, "4", splits=("train", "eval"))
    assert sorted(_read(both, "train")) == sorted(train_records)
    assert len(_read(both, "eval")) == 25 and counts == (68, 33)

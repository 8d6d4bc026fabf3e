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
        chosen = Executor(context)._prepare([examples], list(splits), max_examples, "", None,
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


def _evaluation(root, slices: dict, failing: list):
    """A TFMA output as the Evaluator writes it: metrics per slice ({'': overall, 'payment_type=
    Dispute': ...}, each {metric: value}) and a validation whose `failing` (slice, metric) pairs
    broke a lower bound of 0.5; and its NOT_BLESSED blessing."""
    import tensorflow as tf
    from tensorflow_model_analysis.proto import metrics_for_slice_pb2 as mfs
    from tensorflow_model_analysis.proto import validation_result_pb2 as vr
    from tfx.types import standard_artifacts

    def slice_key(name):
        key = mfs.SliceKey()
        if name:
            feature, value = name.split("=")
            key.single_slice_keys.add(column=feature, bytes_value=value.encode())
        return key

    root.mkdir()
    with tf.io.TFRecordWriter(str(root / "metrics-00000-of-00001.tfrecord")) as writer:
        for name, metrics in slices.items():
            record = mfs.MetricsForSlice(slice_key=slice_key(name))
            for metric, value in metrics.items():
                item = record.metric_keys_and_values.add()
                item.key.name = metric
                item.value.double_value.value = value
            writer.write(record.SerializeToString())
    validation = vr.ValidationResult(validation_ok=not failing)
    for name, metric in failing:
        per_slice = validation.metric_validations_per_slice.add(slice_key=slice_key(name))
        failure = per_slice.failures.add()
        failure.metric_key.name = metric
        failure.metric_value.double_value.value = slices[name][metric]
        failure.metric_threshold.value_threshold.lower_bound.value = 0.5
    with tf.io.TFRecordWriter(str(root / "validations.tfrecord")) as writer:
        writer.write(validation.SerializeToString())
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(root / "blessing")
    (root / "blessing").mkdir()
    (root / "blessing" / "NOT_BLESSED").write_text("")
    blessing.set_int_custom_property("blessed", 0)
    return blessing


def test_an_auc_bound_on_a_slice_of_one_class_is_not_a_failure(tmp_path):
    """TFMA reports AUC 0.0 on a slice whose examples are all one class (the taxi's
    payment_type=Dispute: two trips, no big tip); that bound does not refuse the model."""
    import tensorflow_model_analysis as tfma

    from components.common import tasks
    from components.common.names import NOT_COMPUTABLE
    from components.evaluation.executor import forgive_not_computable

    slices = {"": {"auc": 0.95, "mean_label": 0.3},
              "payment_type=Dispute": {"auc": 0.0, "mean_label": 0.0},
              "payment_type=Cash": {"auc": 0.21, "mean_label": 0.01}}
    assert tasks.metric_text("auc", slices["payment_type=Dispute"]) == "n/a (one class)"
    assert tasks.metric_text("auc", slices["payment_type=Cash"]) == "0.2100"

    only_one_class = _evaluation(tmp_path / "a", slices, [("payment_type=Dispute", "auc")])
    assert forgive_not_computable(str(tmp_path / "a"), only_one_class) == [
        "auc on payment_type=Dispute: one class"]
    assert tfma.load_validation_result(str(tmp_path / "a")).validation_ok
    assert only_one_class.get_int_custom_property("blessed") == 1
    assert (tmp_path / "a/blessing/BLESSED").exists()
    assert not (tmp_path / "a/blessing/NOT_BLESSED").exists()
    assert only_one_class.get_string_custom_property(NOT_COMPUTABLE).endswith("one class")

    # A real failure beside it still refuses the model; the one-class slice is not among them.
    both = _evaluation(tmp_path / "b", slices,
                       [("payment_type=Dispute", "auc"), ("payment_type=Cash", "auc")])
    forgive_not_computable(str(tmp_path / "b"), both)
    validation = tfma.load_validation_result(str(tmp_path / "b"))
    assert not validation.validation_ok and len(validation.metric_validations_per_slice) == 1
    assert both.get_int_custom_property("blessed") == 0
    assert (tmp_path / "b/blessing/NOT_BLESSED").exists()

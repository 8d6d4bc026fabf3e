"""TFX-style string fills, OOV buckets and buckets on phones without the Flex delegate: the
rewritten model converts to TFLite builtins and answers exactly as the SavedModel does."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from components.trainer import tflite_variants, transform_testing
from components.trainer.tflite_rewrites import rewrite_for_builtins

# Missing values (the fill value b""), out-of-vocabulary strings and known ones.
COMPANIES = np.array([[b"Flash Cab"], [b""], [b"Unknown Cab"], [b"City Service"], [b""],
                      [b"Flash Cab"]])
# Values on, between and beyond the boundaries, NaN and infinities.
FARES = np.array([[1.0], [2.5], [np.nan], [-np.inf], [np.inf], [4.0]], np.float32)


def _dense_to_sparse(value):
    """ServingModule.parse_dense: the entries that hold the fill value are missing."""
    present = tf.where(tf.not_equal(value, ""))
    return tf.SparseTensor(present, tf.gather_nd(value, present),
                           tf.shape(value, out_type=tf.int64))


def _fill_in_missing(x):
    """TFX's example module: densify an optional string feature with ''."""
    return tf.squeeze(tf.sparse.to_dense(
        tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1]), ""), axis=1)


class VocabularyModule(tf.Module):
    def __init__(self, vocabulary_file: str, num_oov_buckets: int):
        super().__init__()
        self.table = tf.lookup.StaticVocabularyTable(tf.lookup.TextFileInitializer(
            vocabulary_file, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER), num_oov_buckets=num_oov_buckets)

    @tf.function(input_signature=[{"company": tf.TensorSpec([None, 1], tf.string,
                                                            name="company")}])
    def serve_raw(self, features):
        return {"company_id": self.table.lookup(
            _fill_in_missing(_dense_to_sparse(features["company"])))}


def _save(module, path) -> str:
    tf.saved_model.save(module, str(path), signatures={"serving_raw": module.serve_raw})
    return str(path)


def _converter_copy(saved_model: str, path) -> str:
    return tflite_variants.with_serving_default(saved_model, "serving_raw", str(path), None)


def _tflite_outputs(converted: bytes, **inputs) -> dict:
    return tf.lite.Interpreter(model_content=converted).get_signature_runner()(**inputs)


def _saved_model_outputs(saved_model: str, signature: str, **inputs) -> dict:
    function = tf.saved_model.load(saved_model).signatures[signature]
    return {name: value.numpy() for name, value in function(**inputs).items()}


def _assert_same(expected: dict, actual: dict):
    assert set(expected) == set(actual)
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)
        assert actual[name].dtype == value.dtype, name


@pytest.fixture
def vocabulary_file(tmp_path) -> str:
    path = tmp_path / "company"
    path.write_text("Flash Cab\nCity Service\n")
    return str(path)


def test_string_fill_and_one_oov_bucket_convert_to_builtins_exactly(tmp_path, vocabulary_file):
    saved = _save(VocabularyModule(vocabulary_file, num_oov_buckets=1), tmp_path / "model")
    plain = _converter_copy(saved, tmp_path / "plain")
    with pytest.raises(tflite_variants.UnsupportedOpsError,
                       match="(?=.*SparseToDense)(?=.*StringToHashBucketFast)"):
        tflite_variants.assess_ops(plain)

    rewritten = _converter_copy(saved, tmp_path / "rewritten")
    applied = rewrite_for_builtins(rewritten)
    assert [line.split(" x")[0] for line in applied] == [
        "StringToHashBucket* (1 bucket)", "SparseToDense (string)", "SelectV2 (integers)"]
    converted = tflite_variants.convert(rewritten, "float32")
    # An app's first call sends one example: the out-of-vocabulary SelectV2 made it fail.
    assert tflite_variants.first_call_failure(converted) == ""
    assert not [op for op in tflite_variants.model_ops(converted)
                if op.startswith(tflite_variants.FLEX_PREFIX)]
    expected = _saved_model_outputs(saved, "serving_raw", company=COMPANIES)
    # Out-of-vocabulary and missing ('') strings both fall into the one OOV bucket, id 2.
    np.testing.assert_array_equal(expected["company_id"], [0, 2, 2, 1, 2, 0])
    _assert_same(expected, _tflite_outputs(converted, company=COMPANIES))
    # The rewritten SavedModel still runs in TensorFlow, with the same answers.
    _assert_same(expected, _saved_model_outputs(rewritten, "serving_default",
                                                company=COMPANIES))


def test_more_oov_buckets_keep_their_hash_for_the_flex_delegate(tmp_path, vocabulary_file):
    saved = _save(VocabularyModule(vocabulary_file, num_oov_buckets=3), tmp_path / "model")
    rewritten = _converter_copy(saved, tmp_path / "rewritten")
    assert [line.split(" x")[0] for line in rewrite_for_builtins(rewritten)] == [
        "SparseToDense (string)", "SelectV2 (integers)"]
    assessment = tflite_variants.assess_ops(rewritten, allow_select_tf_ops=True)
    assert assessment.select_tf_ops == ("StringToHashBucketFast",)
    converted = tflite_variants.convert(rewritten, "float32", allow_select_tf_ops=True)
    assert tflite_variants.first_call_failure(converted) == ""
    _assert_same(_saved_model_outputs(saved, "serving_raw", company=COMPANIES),
                 _tflite_outputs(converted, company=COMPANIES))


def test_strings_used_by_other_ops_are_left_alone(tmp_path):
    class Joined(tf.Module):
        @tf.function(input_signature=[{"company": tf.TensorSpec([None, 1], tf.string,
                                                                name="company")}])
        def serve_raw(self, features):
            dense = _fill_in_missing(_dense_to_sparse(features["company"]))
            return {"length": tf.strings.length(tf.strings.join([dense, "!"]))}

    saved = _save(Joined(), tmp_path / "model")
    rewritten = _converter_copy(saved, tmp_path / "rewritten")
    before = (tmp_path / "rewritten" / "saved_model.pb").read_bytes()
    assert [line.split(" x")[0] for line in rewrite_for_builtins(rewritten)] == [
        "SparseToDense (string)"]
    assert (tmp_path / "rewritten" / "saved_model.pb").read_bytes() == before
    assert "SparseToDense" in tflite_variants.assess_ops(
        rewritten, allow_select_tf_ops=True).select_tf_ops


def test_keras_category_encoding_converts_to_builtins_exactly(tmp_path):
    ids = tf.keras.layers.Input(shape=(2,), dtype="int64", name="ids")
    encoded = {mode: tf.keras.layers.CategoryEncoding(num_tokens=5, output_mode=mode)(ids)
               for mode in ("one_hot", "multi_hot", "count") if mode != "one_hot"}
    model = tf.keras.Model(ids, encoded)

    class Encoding(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[{"ids": tf.TensorSpec([None, 2], tf.int64, name="ids")}])
        def serve_raw(self, features):
            return self.model(features["ids"])

    saved = _save(Encoding(), tmp_path / "model")
    rewritten = _converter_copy(saved, tmp_path / "rewritten")
    assert [line.split(" x")[0] for line in rewrite_for_builtins(rewritten)] == [
        "DenseBincount (no weights)"]
    converted = tflite_variants.convert(rewritten, "float32")
    assert not [op for op in tflite_variants.model_ops(converted)
                if op.startswith(tflite_variants.FLEX_PREFIX)]
    values = np.array([[0, 4], [3, 3], [1, 2]], np.int64)  # repeated ids count twice
    expected = _saved_model_outputs(saved, "serving_raw", ids=values)
    np.testing.assert_array_equal(expected["count"], [[1, 0, 0, 0, 1], [0, 0, 0, 2, 0],
                                                      [0, 1, 1, 0, 0]])
    _assert_same(expected, _tflite_outputs(converted, ids=values))


def test_searchsorted_both_sides_and_batched_rows_are_exact(tmp_path):
    class Searches(tf.Module):
        @tf.function(input_signature=[{"x": tf.TensorSpec([2, None], tf.float32, name="x")}])
        def serve_raw(self, features):
            rows = tf.constant([[-1.0, 0.0, 0.0, 2.5], [1.0, 2.0, 3.0, 4.0]])
            return {side: tf.searchsorted(rows, features["x"], side=side, out_type=out_type)
                    for side, out_type in (("left", tf.int32), ("right", tf.int64))}

    saved = _save(Searches(), tmp_path / "model")
    rewritten = _converter_copy(saved, tmp_path / "rewritten")
    assert len(rewrite_for_builtins(rewritten)) == 1
    converted = tflite_variants.convert(rewritten, "float32")
    assert not [op for op in tflite_variants.model_ops(converted) if op.startswith("Flex")]
    x = np.array([[-0.0, 0.0, 2.5, -2.0, np.nan, np.inf, -np.inf, 1e-30],
                  [1.0, 2.0, 4.0, 3.5, np.nan, 5.0, -np.inf, 0.0]], np.float32)
    runner = tf.lite.Interpreter(model_content=converted)
    runner.resize_tensor_input(runner.get_input_details()[0]["index"], x.shape)
    _assert_same(_saved_model_outputs(saved, "serving_raw", x=x),
                 runner.get_signature_runner()(x=x))


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory) -> tft.TFTransformOutput:
    """A real tf.Transform graph (Beam, in memory): TFX's string fill, a vocabulary with one
    OOV bucket, and quantile buckets."""
    spec = {"company": tf.io.VarLenFeature(tf.string),
            "fare": tf.io.FixedLenFeature([], tf.float32)}

    def preprocessing_fn(inputs):
        return {"company_xf": tft.compute_and_apply_vocabulary(
                    _fill_in_missing(inputs["company"]), num_oov_buckets=1),
                "fare_xf": tft.bucketize(inputs["fare"], 3)}

    rows = [{"company": companies, "fare": fare} for companies, fare in (
        (["Flash Cab"], 1.0), ([], 2.0), (["City Service"], 3.0), (["Flash Cab"], 4.0),
        (["Flash Cab"], 5.0), (["City Service"], 6.0))]
    return transform_testing.analyze(tmp_path_factory.mktemp("transform"), spec,
                                     preprocessing_fn, rows)


def test_a_transform_graph_converts_to_builtins_exactly(tmp_path, transform_output):
    class Serving(tf.Module):
        def __init__(self):
            super().__init__()
            self.transform = transform_output.transform_features_layer()

        @tf.function(input_signature=[{
            "company": tf.TensorSpec([None, 1], tf.string, name="company"),
            "fare": tf.TensorSpec([None, 1], tf.float32, name="fare")}])
        def serve_raw(self, features):
            return self.transform({"company": _dense_to_sparse(features["company"]),
                                   "fare": tf.reshape(features["fare"], [-1])})

    saved = _save(Serving(), tmp_path / "model")
    with pytest.raises(tflite_variants.UnsupportedOpsError,
                       match="(?=.*SparseToDense)(?=.*StringToHashBucketFast)(?=.*UpperBound)"):
        tflite_variants.assess_ops(_converter_copy(saved, tmp_path / "plain"))
    rewritten = _converter_copy(saved, tmp_path / "rewritten")
    assert [line.split(" x")[0] for line in rewrite_for_builtins(rewritten)] == [
        "StringToHashBucket* (1 bucket)", "UpperBound/LowerBound", "SparseToDense (string)",
        "SelectV2 (integers)"]
    converted = tflite_variants.convert(rewritten, "float32")
    assert not [op for op in tflite_variants.model_ops(converted) if op.startswith("Flex")]
    assert tflite_variants.first_call_failure(converted) == ""
    expected = _saved_model_outputs(saved, "serving_raw", company=COMPANIES, fare=FARES)
    assert len(set(expected["company_xf"].tolist())) == 3  # known, OOV and missing ('')
    assert len(set(expected["fare_xf"].tolist())) >= 3
    _assert_same(expected, _tflite_outputs(converted, company=COMPANIES, fare=FARES))

"""String features on phones: vocabulary tables inside the TFLite file, missing values filled with
builtin ops, and the op assessment naming what would need the Flex delegate."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from components.trainer import tflite_variants
from components.trainer.preprocessing import fill_in_missing
from components.trainer.text_tables import inline_text_file_tables


def _save(module, path, signature) -> str:
    tf.saved_model.save(module, str(path), signatures={"serving_default": signature})
    return str(path)


def test_a_text_file_vocabulary_survives_conversion(tmp_path):
    """tf.Transform fills its vocabularies from asset files; TFLite drops such initializers
    unless the model is rewritten first."""
    vocabulary = tmp_path / "payment_type"
    vocabulary.write_text("Cash\nCredit Card\nNo Charge\n")

    class Lookup(tf.Module):
        def __init__(self):
            super().__init__()
            self.table = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(
                str(vocabulary), tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64,
                tf.lookup.TextFileIndex.LINE_NUMBER), default_value=3)

        @tf.function(input_signature=[{"payment_type": tf.TensorSpec([None, 1], tf.string,
                                                                     name="payment_type")}])
        def serve(self, features):
            return {"probabilities": tf.cast(self.table.lookup(features["payment_type"]),
                                             tf.float32)}

    module = Lookup()
    saved = _save(module, tmp_path / "model", module.serve)
    assert inline_text_file_tables(saved) == 1
    converted = tf.lite.TFLiteConverter.from_saved_model(
        saved, signature_keys=["serving_default"]).convert()
    assert {"HASHTABLE_IMPORT", "HASHTABLE_FIND"} <= set(tflite_variants.model_ops(converted))
    runner = tf.lite.Interpreter(model_content=converted).get_signature_runner()
    ids = runner(payment_type=np.array([[b"Credit Card"], [b"Bitcoin"], [b"Cash"]]))
    np.testing.assert_array_equal(ids["probabilities"].reshape(-1), [1, 3, 0])
    # The rewritten SavedModel still loads and answers the same in TensorFlow.
    loaded = tf.saved_model.load(saved).signatures["serving_default"]
    np.testing.assert_array_equal(
        loaded(payment_type=tf.constant([[b"No Charge"]]))["probabilities"], [[2.0]])


def _sparse(values, rows, batch, dtype):
    return tf.SparseTensor(tf.constant([[r, 0] for r in rows], tf.int64, shape=[len(rows), 2]),
                           tf.constant(values, dtype, shape=[len(values)]), [batch, 1])


def test_fill_in_missing_matches_tfx_and_converts_to_builtins(tmp_path):
    x = _sparse([3.5, 7.0], rows=[1, 3], batch=4, dtype=tf.float32)
    np.testing.assert_array_equal(fill_in_missing(x), [0.0, 3.5, 0.0, 7.0])
    np.testing.assert_array_equal(fill_in_missing(x, -2.0), [-2.0, 3.5, -2.0, 7.0])
    empty = _sparse([], rows=[], batch=2, dtype=tf.float32)
    np.testing.assert_array_equal(fill_in_missing(empty), [0.0, 0.0])

    class Fill(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.float32, name="fare")])
        def serve(self, fare):
            present = tf.where(tf.not_equal(fare, -1.0))
            sparse = tf.SparseTensor(present, tf.gather_nd(fare, present),
                                     tf.shape(fare, out_type=tf.int64))
            return {"probabilities": fill_in_missing(sparse, 9.0)}

    module = Fill()
    saved = _save(module, tmp_path / "fill", module.serve)
    assessment = tflite_variants.assess_ops(saved)
    assert assessment.select_tf_ops == ()
    converted = tflite_variants.convert(saved, "float32")
    runner = tf.lite.Interpreter(model_content=converted).get_signature_runner()
    np.testing.assert_array_equal(
        runner(fare=np.array([[1.5], [-1.0]], np.float32))["probabilities"], [1.5, 9.0])


def test_assessment_names_tfx_style_string_fill_as_a_flex_op(tmp_path):
    """TFX's own _fill_in_missing densifies strings with SparseToDense, which TFLite has only
    through the Flex delegate: the Trainer would refuse it, naming the op."""

    class TfxStyle(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.string, name="company")])
        def serve(self, company):
            present = tf.where(tf.not_equal(company, ""))
            sparse = tf.SparseTensor(present, tf.gather_nd(company, present),
                                     tf.shape(company, out_type=tf.int64))
            dense = tf.sparse.to_dense(sparse, "")
            return {"probabilities": tf.cast(tf.strings.length(dense), tf.float32)}

    module = TfxStyle()
    saved = _save(module, tmp_path / "tfx", module.serve)
    with pytest.raises(tflite_variants.UnsupportedOpsError, match="SparseToDense"):
        tflite_variants.assess_ops(saved)

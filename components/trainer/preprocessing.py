"""Helpers for a user's preprocessing_fn whose graph must also run on phones.

TFX's example modules fill a missing value with `tf.sparse.to_dense`, i.e. the SparseToDense op,
which TFLite has as a builtin for numbers but not for strings; a model using it on a string
feature needs the Flex delegate (the Trainer's op assessment names it). `fill_in_missing` uses
ScatterNd on int32 positions and Gather, builtins for numbers. TFLite has no builtin that builds
a string tensor from parts (Concat, Select, SparseToDense), so for a string feature look it up
first (tft.compute_and_apply_vocabulary takes the SparseTensor) and fill the ids.
"""

from __future__ import annotations

import tensorflow as tf


def fill_in_missing(x, default=None):
    """A dense [batch] tensor from a feature that may be missing in some examples: a SparseTensor
    of one value per example (Transform's form of an optional feature), filled with `default`
    ('' for strings, 0 for numbers unless given) where there is no value. A dense input is only
    reshaped to [batch]."""
    if not isinstance(x, tf.sparse.SparseTensor):
        return tf.reshape(x, [-1])
    if default is None:
        default = "" if x.dtype == tf.string else 0
    rows = tf.cast(x.indices[:, 0:1], tf.int32)
    # 1 + the position of each example's value in x.values; 0 (the default) where it has none.
    positions = tf.scatter_nd(rows, tf.range(1, tf.shape(x.values)[0] + 1, dtype=tf.int32),
                              tf.cast(x.dense_shape[0:1], tf.int32))
    values = tf.concat([tf.constant([default], x.dtype), x.values], axis=0)
    return tf.gather(values, positions)

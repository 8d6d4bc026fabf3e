"""A label made by the module's preprocessing_fn, as every Evaluator reads it.

TFX's taxi module trains on `tips_xf` (a big tipper, computed from `tips` and `fare` in
preprocessing_fn); the raw examples hold no such feature. Stock TFX evaluates such a model through
a `transform_features` signature the module must write, which TFLite models cannot have. Here the
Trainer keeps the label's Transform as a small SavedModel beside the model (`write`), and an
Evaluator adds the label to each raw example it evaluates (`AddLabel`): the SavedModel Evaluator,
the TFLite ones and the production baseline then all read the same label from the same examples.
"""

from __future__ import annotations

from typing import Iterable, List

import apache_beam as beam

SIGNATURE = "label"
OUTPUT = "label"


class LabelError(ValueError):
    """The configured label is not what the Transform graph makes."""


def write(transform_graph_uri: str, label_key: str, path: str) -> None:
    """Saves at `path` serialized raw tf.Examples in, {OUTPUT: the Transform output `label_key`}
    out; raises LabelError naming the Transform outputs if there is no such output."""
    import tensorflow as tf
    import tensorflow_transform as tft

    tft_output = tft.TFTransformOutput(transform_graph_uri)
    outputs = tft_output.transformed_feature_spec()
    if label_key not in outputs:
        raise LabelError(f"label_key '{label_key}' is not an output of preprocessing_fn "
                         f"(label_from is set); its outputs: {', '.join(sorted(outputs))}")
    module = tf.Module()
    module.transform = tft_output.transform_features_layer()
    raw_spec = tft_output.raw_feature_spec()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def label(serialized):
        return {OUTPUT: module.transform(tf.io.parse_example(serialized, raw_spec))[label_key]}

    tf.saved_model.save(module, path, signatures={SIGNATURE: label})


class AddLabel(beam.DoFn):
    """Batches of serialized tf.Examples, each with the label added as feature `label_key`."""

    def __init__(self, label_model_dir: str, label_key: str):
        self._dir, self._key = label_model_dir, label_key
        self._label = None

    def setup(self):
        import tensorflow as tf

        self._label = tf.saved_model.load(self._dir).signatures[SIGNATURE]

    def process(self, batch: List[bytes]) -> Iterable[bytes]:
        import tensorflow as tf

        labels = self._label(tf.constant(batch))[OUTPUT].numpy().reshape(len(batch), -1)
        for record, values in zip(batch, labels):
            example = tf.train.Example.FromString(record)
            feature = example.features.feature[self._key]
            if values.dtype.kind in "iub":
                feature.int64_list.value[:] = [int(v) for v in values]
            elif values.dtype.kind == "f":
                feature.float_list.value[:] = [float(v) for v in values]
            else:
                feature.bytes_list.value[:] = [bytes(v) for v in values]
            yield example.SerializeToString()

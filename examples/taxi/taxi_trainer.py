"""Chicago taxi trips: will the passenger tip more than 20%? A binary classifier, written the way
TFX's taxi example writes its module (tfx/examples/chicago_taxi_pipeline), on the CSV that ships
inside the tfx wheel: missing values, string columns, integer categories.

`preprocessing_fn` fills missing values (as TFX's module does, with the platform's
`fill_in_missing`, whose ops are TFLite builtins), z-scores the numbers and turns strings into
vocabulary ids (a table look-up; out-of-vocabulary strings share one id, no hashing); `run_fn` trains a small Keras model on the result and hands it to the platform's export
helper, which adds the raw-tensor signature the TFLite models and the Hub module are built from.
"""

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

from components.trainer import export
from components.trainer.preprocessing import fill_in_missing

LABEL_KEY = "big_tipper"
DENSE_FLOAT_KEYS = ["trip_miles", "fare", "trip_seconds", "pickup_latitude", "pickup_longitude",
                    "dropoff_latitude", "dropoff_longitude"]
# Integer categories and how many values each can take.
CATEGORICAL_KEYS = {"trip_start_hour": 24, "trip_start_day": 8, "trip_start_month": 13,
                    "pickup_community_area": 78, "dropoff_community_area": 78}
VOCAB_KEYS = ["payment_type", "company"]
VOCAB_SIZE = 50


def _xf(key):
    return f"{key}_xf"


def preprocessing_fn(inputs):
    outputs = {}
    for key in DENSE_FLOAT_KEYS:
        outputs[_xf(key)] = tft.scale_to_z_score(tf.cast(fill_in_missing(inputs[key]), tf.float32))
    for key, size in CATEGORICAL_KEYS.items():
        value = tf.cast(fill_in_missing(inputs[key]), tf.int64)
        outputs[_xf(key)] = tf.clip_by_value(value, 0, size - 1)
    for key in VOCAB_KEYS:
        # Looked up before filling: ids 0..VOCAB_SIZE-1 for the most frequent strings, VOCAB_SIZE
        # for any other, VOCAB_SIZE + 1 for a missing value. Filling the ids rather than the
        # strings keeps every op a TFLite builtin (TFLite has no string SparseToDense or Concat).
        ids = tft.compute_and_apply_vocabulary(inputs[key], top_k=VOCAB_SIZE,
                                               default_value=VOCAB_SIZE, vocab_filename=key)
        outputs[_xf(key)] = fill_in_missing(ids, VOCAB_SIZE + 1)
    outputs[LABEL_KEY] = tf.cast(fill_in_missing(inputs[LABEL_KEY]), tf.int64)
    return outputs


def build_model(learning_rate):
    inputs, parts = {}, []
    for key in DENSE_FLOAT_KEYS:
        inputs[_xf(key)] = tf.keras.Input(shape=(), name=_xf(key))
        parts.append(tf.keras.layers.Reshape((1,))(inputs[_xf(key)]))
    sizes = dict(CATEGORICAL_KEYS)
    sizes.update({key: VOCAB_SIZE + 2 for key in VOCAB_KEYS})
    for key, size in sizes.items():
        inputs[_xf(key)] = tf.keras.Input(shape=(), name=_xf(key), dtype=tf.int64)
        parts.append(tf.keras.layers.Embedding(size, 4)(inputs[_xf(key)]))
    hidden = tf.keras.layers.Dense(32, activation="relu")(tf.keras.layers.Concatenate()(parts))
    hidden = tf.keras.layers.Dense(16, activation="relu")(hidden)
    output = tf.keras.layers.Dense(1, activation="sigmoid")(hidden)
    model = tf.keras.Model(inputs, output)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
                  loss="binary_crossentropy", metrics=[tf.keras.metrics.BinaryAccuracy()])
    return model


def run_fn(fn_args):
    config = fn_args.custom_config
    tft_output = tft.TFTransformOutput(fn_args.transform_output)

    def dataset(files):
        return fn_args.data_accessor.tf_dataset_factory(
            files, tfxio.TensorFlowDatasetOptions(batch_size=config["batch_size"],
                                                  label_key=LABEL_KEY),
            tft_output.transformed_metadata.schema).repeat()

    model = build_model(config["learning_rate"])
    model.fit(dataset(fn_args.train_files), steps_per_epoch=fn_args.train_steps, epochs=1,
              validation_data=dataset(fn_args.eval_files), validation_steps=fn_args.eval_steps,
              verbose=2)
    export.export_models(model, tft_output, fn_args.serving_model_dir, LABEL_KEY,
                         task=config["task"],
                         on_device_training=config.get("on_device_training", False))

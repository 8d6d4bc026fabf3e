"""Disease progression from ten baseline measurements (scikit-learn's diabetes data): a regression
model in a module written for stock TFX, with no platform code at all.

Its run_fn saves the Keras model with a tf.Example `serving_default` signature answering
{'outputs': ...}, the way TFX's own examples (taxi, penguin) do; the config names that output
(`prediction_key: outputs`). The platform gates it and publishes it to TF Serving, TF Hub and the
mobile bucket: the Trainer derives the raw-tensor signature phones need from serving_default.
"""

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
LABEL_KEY = "progression"


def _xf(key):
    return f"{key}_xf"


def preprocessing_fn(inputs):
    outputs = {_xf(key): tft.scale_to_z_score(inputs[key]) for key in FEATURES}
    outputs[LABEL_KEY] = inputs[LABEL_KEY]
    return outputs


def _build_keras_model(learning_rate):
    inputs = [tf.keras.layers.Input(shape=(1,), name=_xf(key)) for key in FEATURES]
    hidden = tf.keras.layers.Dense(16, activation="relu")(tf.keras.layers.concatenate(inputs))
    output = tf.keras.layers.Dense(1)(hidden)
    model = tf.keras.Model(inputs=inputs, outputs=output)
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss="mean_absolute_error",
                  metrics=[tf.keras.metrics.MeanAbsoluteError()])
    return model


def _get_serve_tf_examples_fn(model, tf_transform_output):
    """Parses serialized tf.Examples and applies Transform, as TFX's example modules do."""
    model.tft_layer = tf_transform_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples_fn(serialized_tf_examples):
        feature_spec = tf_transform_output.raw_feature_spec()
        feature_spec.pop(LABEL_KEY)
        parsed_features = tf.io.parse_example(serialized_tf_examples, feature_spec)
        transformed_features = model.tft_layer(parsed_features)
        return {"outputs": model(transformed_features)}

    return serve_tf_examples_fn


def _input_fn(file_pattern, data_accessor, tf_transform_output, batch_size):
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=LABEL_KEY),
        tf_transform_output.transformed_metadata.schema).repeat()


def run_fn(fn_args):
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    config = fn_args.custom_config or {}
    batch_size = int(config.get("batch_size", 32))
    train_dataset = _input_fn(fn_args.train_files, fn_args.data_accessor, tf_transform_output,
                              batch_size)
    eval_dataset = _input_fn(fn_args.eval_files, fn_args.data_accessor, tf_transform_output,
                             batch_size)
    model = _build_keras_model(float(config.get("learning_rate", 0.05)))
    model.fit(train_dataset, steps_per_epoch=fn_args.train_steps, validation_data=eval_dataset,
              validation_steps=fn_args.eval_steps, verbose=2)
    signatures = {"serving_default": _get_serve_tf_examples_fn(model, tf_transform_output)}
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures)

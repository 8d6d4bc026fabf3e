"""Default user module: a small Keras classifier of scikit-learn's 8x8 handwritten digits.

It implements TFX's two module contracts, which any user module given as `module_file` must too:
`preprocessing_fn(inputs)` for Transform and `run_fn(fn_args)` for Trainer. TFX packages this
file's directory as a wheel, so the directory holds nothing but this module.
"""

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

from components.trainer import export

IMAGE_KEY = "image_floats"
LABEL_KEY = "image_class"
IMAGE_XF_KEY = "image_xf"
NUM_PIXELS = 64

if "tf_keras" not in tf.keras.__name__:
    raise ImportError(
        f"this module needs Keras 2 (tf-keras) but tf.keras is {tf.keras.__name__}: "
        "set TF_USE_LEGACY_KERAS=1 before TensorFlow is imported")


def preprocessing_fn(inputs):
    """Scales pixel intensities to [0, 1] by the range seen in the training data."""
    image = tf.cast(inputs[IMAGE_KEY], tf.float32)
    return {IMAGE_XF_KEY: tft.scale_to_0_1(image), LABEL_KEY: inputs[LABEL_KEY]}


def build_model(num_classes: int, learning_rate: float) -> tf.keras.Model:
    image = tf.keras.Input(shape=(NUM_PIXELS,), name=IMAGE_XF_KEY)
    hidden = tf.keras.layers.Dense(64, activation="relu")(image)
    probabilities = tf.keras.layers.Dense(num_classes, activation="softmax")(hidden)
    model = tf.keras.Model(inputs={IMAGE_XF_KEY: image}, outputs=probabilities)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _dataset(file_pattern, data_accessor, tft_output, label_key, batch_size):
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=label_key),
        tft_output.transformed_metadata.schema,
    ).repeat()


def run_fn(fn_args):
    """Trains on Transform's output and exports the SavedModel (the platform's Trainer converts it
    to TFLite), the Hub module and, if configured, the on-device trainable model."""
    # The platform fills custom_config from its configuration (mlops/defaults.yaml and the
    # user's overrides): the defaults live there, not here.
    config = fn_args.custom_config
    label_key = config["label_key"]
    batch_size = int(config["batch_size"])
    tft_output = tft.TFTransformOutput(fn_args.transform_output)

    train = _dataset(fn_args.train_files, fn_args.data_accessor, tft_output, label_key, batch_size)
    evaluation = _dataset(fn_args.eval_files, fn_args.data_accessor, tft_output, label_key,
                          batch_size)
    model = build_model(int(config["num_classes"]), float(config["learning_rate"]))
    epochs = min(10, fn_args.train_steps)
    model.fit(
        train,
        epochs=epochs,
        steps_per_epoch=max(1, fn_args.train_steps // epochs),
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
        callbacks=[tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)],
        verbose=2,
    )
    export.export_models(model, tft_output, fn_args.serving_model_dir, label_key,
                         on_device_training=bool(config["on_device_training"]))

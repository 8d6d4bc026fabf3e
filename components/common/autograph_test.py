"""AutoGraph leaves Keras 2, TensorFlow Transform and TFMA as they are, and still converts a
user's own code."""

from components.common import autograph


def test_graph_ready_libraries_are_called_as_they_are_and_user_code_is_converted():
    import tensorflow as tf
    import tf_keras
    from tensorflow.python.autograph.impl import conversion

    def users_step(x):
        return x

    dense_call = tf_keras.layers.Dense(1).call
    autograph.skip_graph_ready_libraries()
    autograph.skip_graph_ready_libraries()  # twice is once

    assert conversion.is_allowlisted(dense_call)
    assert not conversion.is_allowlisted(users_step)
    from tensorflow.python.autograph.core import config
    prefixes = [rule._prefix for rule in config.CONVERSION_RULES]
    assert prefixes.count("tf_keras") == 1
    # A Keras model still trains: the step is traced without AutoGraph's rewriting of Keras.
    model = tf_keras.Sequential([tf_keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(tf.ones((8, 2)), tf.ones((8, 1)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

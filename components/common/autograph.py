"""Libraries AutoGraph should call as they are instead of rewriting them.

When a `tf.function` is traced, AutoGraph rewrites every Python function it calls into graph code,
except those of libraries on its "do not convert" list. TensorFlow 2.16 lists `keras` (Keras 3)
but not `tf_keras`, the Keras 2 that TFX 1.16 trains with (TF_USE_LEGACY_KERAS=1), nor TensorFlow
Transform or TFMA. So the first `fit` of even a tiny Keras model rewrote about 500 library
functions: 15 of the Trainer's 19 s on the digits model, the same result without the rewriting
(`make bench`). These libraries are written as graph code already, which is why TensorFlow lists
Keras 3. A user's own functions are still converted.
"""

from __future__ import annotations

# Written for TF's graph mode already; AutoGraph gains nothing by rewriting them.
LIBRARIES = ("tf_keras", "tensorflow_transform", "tensorflow_model_analysis", "tfx_bsl")


def skip_graph_ready_libraries() -> None:
    """Puts LIBRARIES on AutoGraph's "do not convert" list (once per process)."""
    # TensorFlow keeps the list in an internal module; there is no public setter.
    from tensorflow.python.autograph.core import config

    present = {rule._prefix for rule in config.CONVERSION_RULES  # noqa: SLF001
               if isinstance(rule, config.DoNotConvert)}
    config.CONVERSION_RULES = tuple(config.DoNotConvert(name) for name in LIBRARIES
                                    if name not in present) + tuple(config.CONVERSION_RULES)

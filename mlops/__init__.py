"""A Kubeflow-orchestrated TFX platform: data in, a gated model out, published where it is used."""

# TensorFlow's environment (Keras 2) is set by the bottom layer, before TensorFlow is imported.
import components  # noqa: F401

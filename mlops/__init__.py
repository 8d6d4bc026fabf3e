"""A Kubeflow-orchestrated TFX platform: data in, a gated model out, published where it is used."""

import os
import warnings

# TFX 1.16 builds Keras 2 models; TensorFlow 2.16 defaults to Keras 3 unless told otherwise before it
# is first imported. Every entry point imports this package first.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Google's client libraries warn at import time about versions of Python and of each other that the
# pinned TFX 1.16 stack cannot change; they are not actionable for users of this platform.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")

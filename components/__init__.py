"""The platform's custom TFX components and what they share (`common`).

TFX 1.16 builds Keras 2 models, and TensorFlow 2.16 defaults to Keras 3 unless told otherwise
before it is first imported. Every module of the platform imports this package before TensorFlow
(Python imports a package before its modules), so the setting lives here, at the bottom layer.
"""

import os
import warnings

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Google's client libraries warn at import time about versions of Python and of each other that the
# pinned TFX 1.16 stack cannot change; they are not actionable for users of this platform.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")

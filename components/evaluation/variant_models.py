"""Evaluator UDF module (`module_path`) that points TFMA at one TFLite variant of a model.

TFX's Evaluator hands TFMA `<model uri>/Format-Serving`, and TFMA's tf_lite loader reads the file
`tflite` in that directory: the float32 model. Each variant Evaluator instead names its two
ModelSpecs after variants (the candidate, e.g. 'int8', and the baseline 'float32', both from the
same Model artifact); this function maps each name to that variant's directory. Everything else
(examples, metrics, thresholds, the blessing) is the stock Evaluator.
"""

from __future__ import annotations

import os

import tensorflow_model_analysis as tfma

from components.common import model_layout


def custom_eval_shared_model(eval_saved_model_path: str, model_name: str, eval_config,
                             **kwargs):
    model_uri = os.path.dirname(eval_saved_model_path.rstrip("/"))
    return tfma.default_eval_shared_model(
        eval_saved_model_path=model_layout.variant_dir(model_uri, model_name),
        model_name=model_name, eval_config=eval_config, **kwargs)

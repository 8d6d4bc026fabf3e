"""Node ids and metric names that tools reading ML Metadata share with the pipeline definition.

Kept apart from pipeline.py so that reading metadata does not import TFX, TFMA and TensorFlow.
"""

EXAMPLE_GENS = ("ImportExampleGen", "CsvExampleGen")
EVALUATOR_ID = "Evaluator"
TFLITE_EVALUATOR_ID = "EvaluatorTFLite"
BLESSING_GATE_ID = "BlessingGate"
PUSHER_ID = "Pusher"
ACCURACY_METRIC = "sparse_categorical_accuracy"

# TFLite variants, in the order the Trainer converts them. float32 is the reference the others are
# judged against; each other variant has its own Evaluator.
TFLITE_VARIANTS = ("float32", "dynamic", "float16", "int8")


def variant_evaluator_id(variant: str) -> str:
    return f"{TFLITE_EVALUATOR_ID}_{variant}"

"""Node ids and metric names that tools reading ML Metadata share with the pipeline definition.

Kept apart from pipeline.py so that reading metadata does not import TFX, TFMA and TensorFlow.
"""

EXAMPLE_GENS = ("ImportExampleGen", "CsvExampleGen")
EVALUATOR_ID = "Evaluator"
TFLITE_EVALUATOR_ID = "EvaluatorTFLite"
BLESSING_GATE_ID = "BlessingGate"
PUSHER_ID = "Pusher"
ACCURACY_METRIC = "sparse_categorical_accuracy"

"""Node ids and metric names that tools reading ML Metadata share with the pipeline definition.

The lowest layer: components, the pipeline definition and the readers of ML Metadata all import
it, and it imports nothing (so reading metadata does not import TFX, TFMA or TensorFlow).
"""

EXAMPLE_GENS = ("ImportExampleGen", "CsvExampleGen")
DATA_GATE_ID = "DataGate"
TRAINER_ID = "Trainer"
BASELINE_IMPORTER_ID = "ProductionBaseline"
EVALUATOR_ID = "Evaluator"
TFLITE_EVALUATOR_ID = "EvaluatorTFLite"
BLESSING_GATE_ID = "BlessingGate"
PUSHER_ID = "Pusher"
# The Evaluators that gate against the model in production: node id -> (model format people see,
# prefix of the BlessingGate's properties holding its metrics and the baseline's).
GATE_EVALUATORS = {EVALUATOR_ID: ("SavedModel", "saved_model"),
                   TFLITE_EVALUATOR_ID: ("TFLite", "tflite")}

# Why a model has no TFLite form (a module that exports no raw-tensor signature): on the Model and
# on the BlessingGate's blessing; a tf_lite Evaluator that had nothing to evaluate sets the other.
TFLITE_SKIPPED_REASON = "tflite_skipped_reason"
EVALUATION_SKIPPED_REASON = "skipped_reason"

# TFLite variants, in the order the Trainer converts them. float32 is the reference the others are
# judged against, all of them in one Evaluator (one TFMA pass, one ModelSpec per variant).
TFLITE_VARIANTS = ("float32", "dynamic", "float16", "int8")
VARIANTS_EVALUATOR_ID = "EvaluatorTFLiteVariants"
# On that Evaluator's blessing: {variant: eligible} as JSON, from TFMA's validation per model.
VARIANT_VERDICTS = "variant_verdicts"

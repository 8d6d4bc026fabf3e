"""Names that components, the pipeline definition and the readers of ML Metadata share: node ids,
the gate's mapping, and every ML Metadata property key written or read.

The lowest layer: components, the pipeline definition and the readers of ML Metadata all import
it, and it imports nothing (so reading metadata does not import TFX, TFMA or TensorFlow).
"""

# ---- Node ids -------------------------------------------------------------------------------

EXAMPLE_GENS = ("ImportExampleGen", "CsvExampleGen")
STATISTICS_GEN_ID = "StatisticsGen"
DATA_GATE_ID = "DataGate"
TRAINER_ID = "Trainer"
BASELINE_IMPORTER_ID = "ProductionBaseline"
EVALUATOR_ID = "Evaluator"
TFLITE_EVALUATOR_ID = "EvaluatorTFLite"
BLESSING_GATE_ID = "BlessingGate"
PUSHER_ID = "Pusher"
# The Evaluators that gate against the model in production: node id -> (model format people see,
# prefix of the BlessingGate's properties holding its metrics and the baseline's).
SAVED_MODEL_PREFIX = "saved_model"
TFLITE_PREFIX = "tflite"
GATE_EVALUATORS = {EVALUATOR_ID: ("SavedModel", SAVED_MODEL_PREFIX),
                   TFLITE_EVALUATOR_ID: ("TFLite", TFLITE_PREFIX)}

# TFLite variants, in the order the Trainer converts them. float32 is the reference the others are
# judged against, all of them in one Evaluator (one TFMA pass, one ModelSpec per variant).
TFLITE_VARIANTS = ("float32", "dynamic", "float16", "int8")
VARIANTS_EVALUATOR_ID = "EvaluatorTFLiteVariants"

# ---- Property keys in ML Metadata -------------------------------------------------------------
# Every custom property a component of the platform writes, by the artifact that carries it, and
# the properties of TFX's own components the readers (mlops lineage, runs, report) read. A key's
# value is what ML Metadata holds: changing one orphans what earlier runs recorded.

# -- Model, from the Trainer (components/trainer/executor.py): the TFLite op assessment.
TFLITE_BUILTIN_OPS = "tflite_builtin_ops"        # comma-separated TFLite builtin ops
TFLITE_SELECT_TF_OPS = "tflite_select_tf_ops"    # comma-separated TF ops (Select TF ops)
TFLITE_OP_DECISION = "tflite_op_decision"        # what was decided from the ops
TFLITE_VARIANT_SIZES = "tflite_variant_sizes"    # {variant: size in bytes} as JSON
TFLITE_ON_DEVICE_TRAINING = "tflite_on_device_training"  # 1 or 0
# Why a model has no TFLite form (a module that exports no raw-tensor signature): on the Model and
# on the BlessingGate's blessing; a tf_lite Evaluator that had nothing to evaluate sets the other.
TFLITE_SKIPPED_REASON = "tflite_skipped_reason"

# -- ModelBlessing, from the Evaluators (components/evaluation/executor.py), beside TFX's BLESSED,
# CURRENT_MODEL, CURRENT_MODEL_ID and BASELINE_MODEL_ID (below).
EVALUATION_SKIPPED_REASON = "skipped_reason"
# On the TFLite variants Evaluator's blessing: {variant: eligible} as JSON, from TFMA's
# validation per model.
VARIANT_VERDICTS = "variant_verdicts"
# Bounds broken on a slice where the metric means nothing, and so not counted against the model:
# 'auc on payment_type=Dispute: one class; ...' (components.common.tasks.not_computable).
NOT_COMPUTABLE = "not_computable"

# -- The Evaluators' own parameter (components/evaluation/component.py): TFLite evaluations score
# at most this many examples of each evaluated split (0: all).
MAX_EXAMPLES = "max_examples"
# -- ModelEvaluation, from an Evaluator that scored a sample: the examples there were and how many
# of them were scored, each an int.
EXAMPLES_AVAILABLE = "examples_available"
EXAMPLES_EVALUATED = "examples_evaluated"

# -- ModelBlessing, from the BlessingGate (components/blessing_gate/executor.py), beside TFX's
# BLESSED, CURRENT_MODEL, CURRENT_MODEL_ID, BASELINE_MODEL_ID and TFLITE_SKIPPED_REASON.
GATE_METRICS = "gate_metrics"            # the gate's metrics as JSON, primary first
# Each gate Evaluator's verdict (1 or 0), under the key of the gate's input it came by.
SAVED_MODEL_BLESSING = "saved_model_blessing"
TFLITE_BLESSING = "tflite_blessing"
MOBILE_VARIANT = "mobile_variant"        # the TFLite variant chosen for phones
TFLITE_VARIANT_RESULTS = "tflite_variants"  # {variant: size_bytes, metric, value, eligible}, JSON
TFLITE_ELIGIBLE_VARIANTS = "tflite_eligible_variants"  # comma-separated
TFLITE_REFUSED_VARIANTS = "tflite_refused_variants"    # comma-separated
# What the gate read from each gate Evaluator, under `<prefix>_<suffix>` with the prefix of
# GATE_EVALUATORS (saved_model_metrics, tflite_failures, ...): gate_key(prefix, suffix).
METRICS_SUFFIX = "metrics"                    # the candidate's metrics, overall (JSON)
BASELINE_METRICS_SUFFIX = "baseline_metrics"  # the model in production's, same examples (JSON)
SLICE_METRICS_SUFFIX = "slice_metrics"        # the candidate's, per slice (JSON)
FAILURES_SUFFIX = "failures"                  # the thresholds TFMA found broken, '; '-separated
GATE_SUFFIXES = (METRICS_SUFFIX, BASELINE_METRICS_SUFFIX, SLICE_METRICS_SUFFIX, FAILURES_SUFFIX)


def gate_key(prefix: str, suffix: str) -> str:
    """The BlessingGate's property holding `suffix` (one of GATE_SUFFIXES) of the gate Evaluator
    whose prefix (GATE_EVALUATORS) is `prefix`: gate_key(TFLITE_PREFIX, METRICS_SUFFIX) is
    'tflite_metrics'."""
    return f"{prefix}_{suffix}"


# -- PushedModel, from the Pusher (components/pusher/executor.py).
PUSHED = "pushed"                            # 1 or 0
PUSHED_VERSION = "pushed_version"            # the version published, as a string
PUSHED_DESTINATION = "pushed_destination"    # the first destination's URI
PUSHED_DESTINATIONS = "pushed_destinations"  # {destination: URI} as JSON
SKIPPED_DESTINATIONS = "skipped_destinations"  # {destination: why not} as JSON
# A blessed model that was not published: production moved since the gate (another run published)
NOT_PUSHED_REASON = "not_pushed_reason"

# -- The DataGate's result (components/data_gate/executor.py).
VERDICT = "verdict"  # passed / drift accepted: <features> / ... / stopped: <why>
DRIFT = "drift"      # the drift measured per feature, JSON
PROBLEMS = "problems"  # [{feature, kind, description}] as JSON
PREVIOUS_STATISTICS_URI = "previous_statistics_uri"  # the production span's statistics ('' none)
ACCEPT_DRIFT = "accept_drift"  # 1 or 0; also the DataGate's parameter of that name

# -- TFX's own keys, mirrored here so that readers need not import TFX (names_test.py checks
# each equals TFX's constant).
# Examples, from the ExampleGens (tfx.components.example_gen.utils).
SPAN = "span"                            # SPAN_PROPERTY_NAME
VERSION = "version"                      # VERSION_PROPERTY_NAME
INPUT_FINGERPRINT = "input_fingerprint"  # FINGERPRINT_PROPERTY_NAME
# ModelBlessing, from the Evaluator (tfx.components.evaluator.constants), and ExampleAnomalies'
# {split: 1 or 0}, from the ExampleValidator (its ARTIFACT_PROPERTY_BLESSED_KEY).
BLESSED = "blessed"                      # ARTIFACT_PROPERTY_BLESSED_KEY, 1 or 0
CURRENT_MODEL = "current_model"          # ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY
CURRENT_MODEL_ID = "current_model_id"    # ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY
BASELINE_MODEL_ID = "baseline_model_id"  # ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY
# Execution properties of TFX's components (tfx.types.standard_component_specs) lineage reads.
MODULE_PATH = "module_path"      # MODULE_PATH_KEY (Trainer)
TRAIN_ARGS = "train_args"        # TRAIN_ARGS_KEY (Trainer)
EVAL_ARGS = "eval_args"          # EVAL_ARGS_KEY (Trainer)
CUSTOM_CONFIG = "custom_config"  # CUSTOM_CONFIG_KEY (Trainer)
INPUT_BASE = "input_base"        # INPUT_BASE_KEY (ExampleGens)
SCHEMA_FILE = "schema_file"      # SCHEMA_FILE_KEY (ImportSchemaGen)

"""Model task types, their outputs and the gate's metrics: what every layer agrees on.

A task type fixes what the exported model answers (`prediction_key`) and which TFMA metrics gate it
by default. Metrics are TFMA metric class names with optional thresholds (`MetricGate`); the first
one is the primary metric, which the summary leads with and which chooses the TFLite variant for
phones. Pure: no TensorFlow import.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Mapping, Optional, Sequence

MULTICLASS, BINARY, REGRESSION = "multiclass", "binary", "regression"
TASKS = (MULTICLASS, BINARY, REGRESSION)

# The SavedModel output TFMA reads as the prediction, and the single output of every TFLite model.
PREDICTION_KEYS = {MULTICLASS: "probabilities", BINARY: "probabilities", REGRESSION: "predictions"}

# TFMA metric classes where a smaller value is better (errors and losses); all others: larger.
_LOWER_IS_BETTER = re.compile(r"(Error|Loss|Crossentropy|Hinge|Squared|LogCosh|Deviation)")


# The share of positive labels on a slice (TFMA's MeanLabel; binary tasks record it): 0 or 1 means
# the slice holds one class, where metrics that rank positives against negatives mean nothing.
MEAN_LABEL = "mean_label"
RANKING_METRICS = frozenset({"auc", "auc_precision_recall"})


def not_computable(key: str, metrics: Mapping[str, float]) -> str:
    """Why metric `key` has no meaning among one slice's `metrics` ('' when it has one): a ranking
    metric on a slice of one class (TFMA reports 0.0 there), or a value TFMA could not compute."""
    if key in RANKING_METRICS and metrics.get(MEAN_LABEL) in (0.0, 1.0):
        return "one class"
    value = metrics.get(key)
    if isinstance(value, float) and math.isnan(value):
        return "cannot be computed"
    return ""


def metric_text(key: str, metrics: Mapping[str, float], number: str = "{:.4f}") -> str:
    """The value of `key` as a person reads it: '0.9495', or 'n/a (one class)'."""
    reason = not_computable(key, metrics)
    return f"n/a ({reason})" if reason else number.format(metrics[key])


def prediction_key(task: str) -> str:
    return PREDICTION_KEYS[task]


def lower_is_better(metric_class: str) -> bool:
    return bool(_LOWER_IS_BETTER.search(metric_class))


def metric_key(metric_class: str) -> str:
    """The name TFMA stores a metric class under: 'SparseCategoricalAccuracy' ->
    'sparse_categorical_accuracy', 'AUC' -> 'auc', 'MeanAbsoluteError' -> 'mean_absolute_error'."""
    special = {"AUC": "auc", "AUCPrecisionRecall": "auc_precision_recall",
               "ExampleCount": "example_count", "WeightedExampleCount": "weighted_example_count"}
    if metric_class in special:
        return special[metric_class]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", metric_class).lower()


@dataclasses.dataclass(frozen=True)
class MetricGate:
    """One gate metric: a TFMA metric class and the bounds a blessed model must keep.

    `lower_bound`/`upper_bound` bound the value; `max_change` is how much worse than the model in
    production the candidate may be, in the metric's own units (None: not compared). `slices`
    maps a slice feature to bounds {'lower_bound': x, 'upper_bound': y} every value of it must keep.
    """

    name: str
    lower_bound: Optional[float] = None
    upper_bound: Optional[float] = None
    max_change: Optional[float] = None
    slices: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> str:
        return metric_key(self.name)

    @property
    def lower_is_better(self) -> bool:
        return lower_is_better(self.name)

    def as_dict(self) -> dict[str, Any]:
        values = {"name": self.name}
        for field in ("lower_bound", "upper_bound", "max_change"):
            if getattr(self, field) is not None:
                values[field] = getattr(self, field)
        if self.slices:
            values["slices"] = {k: dict(v) for k, v in self.slices.items()}
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "MetricGate":
        known = {"name", "lower_bound", "upper_bound", "max_change", "slices"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"metric {values.get('name')!r}: unknown key(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known))})")
        if not isinstance(values.get("name"), str) or not values["name"]:
            raise ValueError(f"every metric needs a TFMA metric class 'name', got {dict(values)}")
        check_metric_name(values["name"])
        bounds = {}
        for field in ("lower_bound", "upper_bound", "max_change"):
            if values.get(field) is not None:
                try:
                    bounds[field] = float(values[field])
                except (TypeError, ValueError):
                    raise ValueError(f"metric {values['name']}: {field} must be a number, got "
                                     f"{values[field]!r}") from None
        slices = {}
        for feature, slice_bounds in (values.get("slices") or {}).items():
            bad = set(slice_bounds or {}) - {"lower_bound", "upper_bound"}
            if not isinstance(slice_bounds, Mapping) or bad or not slice_bounds:
                raise ValueError(f"metric {values['name']}: slices.{feature} takes lower_bound "
                                 f"and/or upper_bound, got {slice_bounds!r}")
            slices[str(feature)] = {k: float(v) for k, v in slice_bounds.items()}
        if bounds.get("max_change") is not None and bounds["max_change"] < 0:
            raise ValueError(f"metric {values['name']}: max_change is how much worse the "
                             "candidate may be, at least 0")
        return cls(name=values["name"], slices=slices, **bounds)


# Every metric class name TFMA 0.46 resolves (its registry, then tf_keras.metrics): a name outside
# it fails in the Evaluator minutes into a run (names_test checks the list against both).
KNOWN_METRICS = frozenset("""
    AUC AUCPrecisionRecall Accuracy BalancedAccuracy BinaryAccuracy BinaryCrossEntropy
    BinaryCrossentropy BinaryIoU Bleu BooleanFlipRates COCOAveragePrecision COCOAverageRecall
    COCOMeanAveragePrecision COCOMeanAverageRecall Calibration CalibrationPlot CategoricalAccuracy
    CategoricalCrossEntropy CategoricalCrossentropy CategoricalHinge CoefficientOfDiscrimination
    ConfusionMatrixAtThresholds ConfusionMatrixPlot CosineSimilarity DiagnosticOddsRatio
    ExactMatch ExampleCount F1Score FBetaScore FN FNR FP FPR FallOut FalseDiscoveryRate
    FalseNegativeFeatureSampler FalseNegatives FalseOmissionRate FalsePositiveFeatureSampler
    FalsePositives FowlkesMallowsIndex Hinge Informedness IoU KLDivergence LogCoshError Markedness
    MatthewsCorrelationCoefficient MaxRecall Mean MeanAbsoluteAttributions MeanAbsoluteError
    MeanAbsolutePercentageError MeanAttributions MeanIoU MeanLabel MeanPrediction
    MeanRelativeError MeanSquaredError MeanSquaredLogarithmicError MinLabelPosition MissRate
    ModelCosineSimilarity MultiClassConfusionMatrixAtThresholds MultiClassConfusionMatrixPlot
    MultiLabelConfusionMatrixPlot NDCG NPV NegToNegFlipRate NegToPosFlipRate
    NegativeLikelihoodRatio NegativePredictiveValue ObjectDetectionConfusionMatrixPlot
    ObjectDetectionMaxRecall ObjectDetectionPrecision ObjectDetectionPrecisionAtRecall
    ObjectDetectionRecall ObjectDetectionThresholdAtRecall OneHotIoU OneHotMeanIoU PPV Poisson
    PosToNegFlipRate PosToPosFlipRate PositiveLikelihoodRatio Precision PrecisionAtRecall
    PredictedPositiveRate Prevalence PrevalenceThreshold QueryStatistics R2Score Recall
    RecallAtFalsePositiveRate RecallAtPrecision RelativeCoefficientOfDiscrimination
    RootMeanSquaredError Rouge ScoreDistributionPlot SemanticSegmentationConfusionMatrix
    SemanticSegmentationFalsePositive SemanticSegmentationTruePositive SensitivityAtSpecificity
    SetMatchPrecision SetMatchRecall SparseCategoricalAccuracy SparseCategoricalCrossentropy
    SparseTopKCategoricalAccuracy Specificity SpecificityAtSensitivity SquaredHinge
    SquaredPearsonCorrelation Sum SymmetricFlipRate SymmetricPredictionDifference TN TNR TP TPR
    ThreatScore ThresholdAtRecall TopKCategoricalAccuracy TotalAbsoluteAttributions
    TotalAttributions TrueNegatives TruePositives WeightedExampleCount
""".split())


def check_metric_name(name: str) -> None:
    """Refuses a metric class name TFMA does not know, with the nearest names it does."""
    if name in KNOWN_METRICS:
        return
    import difflib

    by_lower = {known.lower(): known for known in KNOWN_METRICS}
    near = [by_lower[n] for n in difflib.get_close_matches(name.lower(), by_lower, n=3, cutoff=0.6)]
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    raise ValueError(f"metric {name!r} is not a metric TFMA knows{hint}")


def default_metrics(task: str, accuracy_threshold: float, max_accuracy_drop: float
                    ) -> list[MetricGate]:
    """The gate when the configuration names no metrics. Classifiers: accuracy with the
    configured bound and drop (plus AUC for binary, recorded but not gated); regression: mean
    absolute error never worse than production, mean squared error recorded."""
    if task == MULTICLASS:
        return [MetricGate("SparseCategoricalAccuracy", lower_bound=accuracy_threshold,
                           max_change=max_accuracy_drop)]
    if task == BINARY:
        return [MetricGate("BinaryAccuracy", lower_bound=accuracy_threshold,
                           max_change=max_accuracy_drop), MetricGate("AUC")]
    return [MetricGate("MeanAbsoluteError", max_change=0.0), MetricGate("MeanSquaredError")]


def parse_metrics(values: Sequence[Any]) -> list[MetricGate]:
    gates = [MetricGate.from_dict(v if isinstance(v, Mapping) else {"name": str(v)})
             for v in values]
    names = [g.name for g in gates]
    if len(set(names)) != len(names):
        raise ValueError(f"metrics names a metric twice: {names}")
    return gates


def metrics_to_json(gates: Sequence[MetricGate]) -> list[dict]:
    return [g.as_dict() for g in gates]

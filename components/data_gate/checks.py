"""What the DataGate checks, on protos only (no artifacts, no files): schema anomalies as a person
reads them, the columns a new span lost or retyped against the previous one, missing values, and
drift between the two spans' statistics: the quantile distance (drift.py) for numeric features,
TFDV's L-infinity distance for categorical ones."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from typing import List, Mapping, Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from components.common import feature_statistics
from components.data_gate import drift

L_INFTY = "L-infinity distance"
JENSEN_SHANNON = "Jensen-Shannon divergence"
# Defaults measured on real data (benchmarks/drift_table.py; README "Data validation"): random
# splits of TFX's taxi CSV and scikit-learn's datasets stay below them (each also has a noise floor
# for small samples), and a shift by half a standard deviation, a scale by 1.5, a category whose
# share doubles and digits at half brightness are above them. The numeric one, 5 % of the
# reference's 10th-90th percentile range, is about 0.13 standard deviations of a normal feature.
DEFAULT_NUMERIC_THRESHOLD = 0.05
DEFAULT_CATEGORICAL_THRESHOLD = 0.075
# A feature's missing fraction may rise by this much (0.1: ten points) since the span of the model
# in production, plus what chance moves it by in samples this small (MISSING_NOISE_FACTOR standard
# errors of the difference of two fractions): random splits of the taxi CSV, a third of whose
# `company` cells are blank, stay below it; an export that blanks 60 % of a column is far above.
DEFAULT_MISSING_INCREASE = 0.1
MISSING_NOISE_FACTOR = 4.0
MISSING_VALUES = "MISSING_VALUES_ROSE"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One reason to stop: a feature, TFDV's anomaly kind, and a sentence."""

    feature: str
    kind: str
    description: str

    def line(self) -> str:
        return f"feature '{self.feature}': {self.kind}: {self.description}"


@dataclasses.dataclass(frozen=True)
class Drift:
    feature: str
    measure: str  # drift.QUANTILE_DISTANCE, L_INFTY or JENSEN_SHANNON
    value: float
    threshold: float
    noise_floor: float = 0.0  # what samples of these sizes measure by chance (drift.py)

    @property
    def limit(self) -> float:
        return max(self.threshold, self.noise_floor)

    @property
    def drifted(self) -> bool:
        return self.value > self.limit

    def line(self) -> str:
        limit = (f"threshold {self.threshold:g}" if self.limit == self.threshold else
                 f"noise floor {self.noise_floor:.3f} of samples this small "
                 f"(threshold {self.threshold:g})")
        return f"feature '{self.feature}': {self.measure} {self.value:.4f} against {limit}"


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Drift thresholds: defaults by kind of feature, and per feature (configuration); a
    drift_comparator the curated schema sets on a feature wins over both."""

    numeric: float = DEFAULT_NUMERIC_THRESHOLD
    categorical: float = DEFAULT_CATEGORICAL_THRESHOLD
    features: Mapping[str, float] = dataclasses.field(default_factory=dict)
    missing_increase: float = DEFAULT_MISSING_INCREASE

    def to_json(self) -> str:
        return json.dumps({"numeric": self.numeric, "categorical": self.categorical,
                           "features": dict(self.features),
                           "missing_increase": self.missing_increase}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Thresholds":
        values = json.loads(text or "{}")
        return cls(numeric=float(values.get("numeric", DEFAULT_NUMERIC_THRESHOLD)),
                   categorical=float(values.get("categorical", DEFAULT_CATEGORICAL_THRESHOLD)),
                   features={k: float(v) for k, v in (values.get("features") or {}).items()},
                   missing_increase=float(values.get("missing_increase",
                                                     DEFAULT_MISSING_INCREASE)))


def schema_problems(anomalies: anomalies_pb2.Anomalies) -> List[Problem]:
    """ExampleValidator's anomalies, one Problem per feature and reason."""
    problems = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        reasons = list(info.reason) or [None]
        for reason in reasons:
            kind = (anomalies_pb2.AnomalyInfo.Type.Name(reason.type) if reason is not None
                    else "UNKNOWN_TYPE")
            text = (reason.description if reason is not None and reason.description
                    else info.description or info.short_description)
            problems.append(Problem(feature, kind, text))
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        for reason in info.reason:
            problems.append(Problem("(dataset)", anomalies_pb2.AnomalyInfo.Type.Name(reason.type),
                                    reason.description or info.description))
    return problems


_TYPE_NAMES = {statistics_pb2.FeatureNameStatistics.INT: "INT",
               statistics_pb2.FeatureNameStatistics.FLOAT: "FLOAT",
               statistics_pb2.FeatureNameStatistics.STRING: "STRING",
               statistics_pb2.FeatureNameStatistics.BYTES: "BYTES",
               statistics_pb2.FeatureNameStatistics.STRUCT: "STRUCT"}


def _typed(feature: statistics_pb2.FeatureNameStatistics) -> bool:
    """Whether the feature's type means anything: a column blank in every row (the taxi's
    `pickup_census_tract`) has none, and CSV ExampleGen writes it without one."""
    return feature_statistics.with_values(feature) > 0


def span_problems(current: statistics_pb2.DatasetFeatureStatisticsList,
                  previous: statistics_pb2.DatasetFeatureStatisticsList) -> List[Problem]:
    """Columns the previous span had that this one lost or holds in another type: found even when
    the schema was inferred from this very span (and so agrees with it)."""
    now, before = feature_statistics.features(current), feature_statistics.features(previous)
    problems = []
    for name, feature in sorted(before.items()):
        if name not in now:
            problems.append(Problem(name, "SCHEMA_MISSING_COLUMN",
                                    "the previous span has this column and this span does not"))
        elif now[name].type != feature.type and _typed(now[name]) and _typed(feature):
            problems.append(Problem(
                name, "UNEXPECTED_DATA_TYPE",
                f"type changed from {_TYPE_NAMES.get(feature.type, feature.type)} in the previous "
                f"span to {_TYPE_NAMES.get(now[name].type, now[name].type)}"))
    return problems


def nan_problems(current: statistics_pb2.DatasetFeatureStatisticsList) -> List[Problem]:
    """Numeric features holding NaN: a model trained on them learns NaN, and the gate then only
    sees a bad model, never why."""
    problems = []
    for name, feature in sorted(feature_statistics.features(current).items()):
        if feature.HasField("num_stats") and feature.num_stats.histograms:
            nans = feature.num_stats.histograms[0].num_nan
            if nans:
                problems.append(Problem(name, "FLOAT_TYPE_HAS_NAN",
                                        f"{nans:,} values are NaN (not a number)"))
    return problems


def missing_problems(current: statistics_pb2.DatasetFeatureStatisticsList,
                     previous: statistics_pb2.DatasetFeatureStatisticsList,
                     increase: float) -> List[Problem]:
    """Features whose share of examples without a value (absent or blank) rose by more than
    `increase`, and by more than chance would move it in samples of these sizes, since the
    previous span."""
    now, before = feature_statistics.features(current), feature_statistics.features(previous)
    n, m = current.datasets[0].num_examples, previous.datasets[0].num_examples
    problems = []
    for name, feature in sorted(now.items()):
        if name not in before or not n or not m:
            continue
        fraction = feature_statistics.missing_fraction(feature, n)
        was = feature_statistics.missing_fraction(before[name], m)
        pooled = (fraction * n + was * m) / (n + m)
        noise = MISSING_NOISE_FACTOR * math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
        if fraction - was > max(increase, noise):
            problems.append(Problem(name, MISSING_VALUES, (
                f"{fraction * 100:.1f} % missing, was {was * 100:.1f} % in the span of the model "
                "in production")))
    return problems


def _is_categorical(feature: schema_pb2.Feature) -> bool:
    return (feature.type == schema_pb2.BYTES or feature.int_domain.is_categorical
            or feature.HasField("string_domain") or feature.HasField("domain"))


def with_drift_comparators(schema: schema_pb2.Schema, thresholds: Thresholds) -> schema_pb2.Schema:
    """A copy of `schema` with TFDV's L-infinity comparator on every categorical feature that has
    no comparator. Numeric features get none: the quantile distance (drift.py) measures them,
    unless the curated schema asks for TFDV's Jensen-Shannon divergence on one."""
    schema = copy.deepcopy(schema)
    for feature in schema.feature:
        comparator = feature.drift_comparator
        if comparator.HasField("infinity_norm") or comparator.HasField("jensen_shannon_divergence"):
            continue
        if _is_categorical(feature):
            threshold = thresholds.features.get(feature.name)
            comparator.infinity_norm.threshold = (
                thresholds.categorical if threshold is None else threshold)
    return schema


def validate(current: statistics_pb2.DatasetFeatureStatisticsList,
             previous: Optional[statistics_pb2.DatasetFeatureStatisticsList],
             compared: schema_pb2.Schema) -> anomalies_pb2.Anomalies:
    """TFDV's validation of `current` against the schema with drift comparators (see
    with_drift_comparators) and, when there is one, the previous span: the full anomalies proto,
    TFDV's drift measurements included."""
    import tensorflow_data_validation as tfdv

    return tfdv.validate_statistics(current, compared, previous_statistics=previous)


def _categorical_noise(current: statistics_pb2.FeatureNameStatistics,
                       previous: statistics_pb2.FeatureNameStatistics) -> float:
    n, m = feature_statistics.with_values(current), feature_statistics.with_values(previous)
    return drift.CATEGORICAL_NOISE_FACTOR * math.sqrt(1.0 / max(n, 1) + 1.0 / max(m, 1))


_TFDV_MEASURES = {L_INFTY: anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY,
                  JENSEN_SHANNON: anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE}


def _tfdv_drift(feature: schema_pb2.Feature, info: Optional[anomalies_pb2.DriftSkewInfo],
                now: statistics_pb2.FeatureNameStatistics,
                before: statistics_pb2.FeatureNameStatistics) -> Optional[Drift]:
    """TFDV's measurement for a feature with a drift comparator (None if TFDV made none)."""
    comparator = feature.drift_comparator
    if comparator.HasField("infinity_norm"):
        measure, threshold = L_INFTY, comparator.infinity_norm.threshold
    else:
        measure, threshold = JENSEN_SHANNON, comparator.jensen_shannon_divergence.threshold
    values = [m.value for m in (info.drift_measurements if info else [])
              if m.type == _TFDV_MEASURES[measure]]
    if not values:
        return None
    noise = (_categorical_noise(now, before) if measure == L_INFTY
             and now.HasField("string_stats") and before.HasField("string_stats") else 0.0)
    return Drift(feature.name, measure, float(values[0]), float(threshold), noise)


def drifts(current: statistics_pb2.DatasetFeatureStatisticsList,
           previous: statistics_pb2.DatasetFeatureStatisticsList,
           compared: schema_pb2.Schema, anomalies: anomalies_pb2.Anomalies,
           thresholds: Thresholds) -> List[Drift]:
    """Each feature's drift between the spans: TFDV's measurements in `anomalies` for the features
    with a comparator in `compared`, the quantile distance for the other numeric ones."""
    now, before = feature_statistics.features(current), feature_statistics.features(previous)
    measured = {".".join(info.path.step): info for info in anomalies.drift_skew_info}
    found = []
    for feature in compared.feature:
        name = feature.name
        if name not in now or name not in before:
            continue
        comparator = feature.drift_comparator
        if comparator.HasField("infinity_norm") or comparator.HasField("jensen_shannon_divergence"):
            found.append(_tfdv_drift(feature, measured.get(name), now[name], before[name]))
        elif now[name].HasField("num_stats") and before[name].HasField("num_stats"):
            distance = drift.quantile_distance(now[name].num_stats, before[name].num_stats)
            if distance is not None:
                found.append(Drift(name, drift.QUANTILE_DISTANCE, distance.value,
                                   float(thresholds.features.get(name, thresholds.numeric)),
                                   distance.noise_floor))
    return sorted((d for d in found if d is not None), key=lambda d: d.feature)


def drift_json(drifts: List[Drift]) -> str:
    return json.dumps({d.feature: {"measure": d.measure, "value": round(d.value, 6),
                                   "threshold": d.threshold,
                                   "noise_floor": round(d.noise_floor, 6), "drifted": d.drifted}
                       for d in drifts}, sort_keys=True)

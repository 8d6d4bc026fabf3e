"""What the DataGate checks, on protos only (no artifacts, no files): schema anomalies as a person
reads them, the columns a new span lost or retyped against the previous one, and drift between the
two spans' statistics as TFDV measures it (L-infinity distance for categorical features,
Jensen-Shannon divergence for numeric ones)."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Dict, List, Mapping, Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

L_INFTY = "L-infinity distance"
JENSEN_SHANNON = "Jensen-Shannon divergence"
# Defaults that pass an ordinary new sample and stop a real shift. Measured on the demo digits
# spans (about 480 training rows each): Jensen-Shannon 0.0001 (pixels) and 0.005 (labels) between
# spans; a feature shifted by a fifth of its range or a category whose share moves by ten points
# is far above them.
DEFAULT_NUMERIC_THRESHOLD = 0.1
DEFAULT_CATEGORICAL_THRESHOLD = 0.1


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
    measure: str  # L_INFTY or JENSEN_SHANNON
    value: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.value > self.threshold

    def line(self) -> str:
        return (f"feature '{self.feature}': {self.measure} {self.value:.4f} against threshold "
                f"{self.threshold:g}")


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Drift thresholds: defaults by kind of feature, and per feature (configuration); a
    drift_comparator the curated schema sets on a feature wins over both."""

    numeric: float = DEFAULT_NUMERIC_THRESHOLD
    categorical: float = DEFAULT_CATEGORICAL_THRESHOLD
    features: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"numeric": self.numeric, "categorical": self.categorical,
                           "features": dict(self.features)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Thresholds":
        values = json.loads(text or "{}")
        return cls(numeric=float(values.get("numeric", DEFAULT_NUMERIC_THRESHOLD)),
                   categorical=float(values.get("categorical", DEFAULT_CATEGORICAL_THRESHOLD)),
                   features={k: float(v) for k, v in (values.get("features") or {}).items()})


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


def _features(stats: statistics_pb2.DatasetFeatureStatisticsList
              ) -> Dict[str, statistics_pb2.FeatureNameStatistics]:
    dataset = stats.datasets[0]  # the whole split (TFX writes no slices)
    return {(".".join(f.path.step) if f.HasField("path") else f.name): f for f in dataset.features}


_TYPE_NAMES = {statistics_pb2.FeatureNameStatistics.INT: "INT",
               statistics_pb2.FeatureNameStatistics.FLOAT: "FLOAT",
               statistics_pb2.FeatureNameStatistics.STRING: "STRING",
               statistics_pb2.FeatureNameStatistics.BYTES: "BYTES",
               statistics_pb2.FeatureNameStatistics.STRUCT: "STRUCT"}


def span_problems(current: statistics_pb2.DatasetFeatureStatisticsList,
                  previous: statistics_pb2.DatasetFeatureStatisticsList) -> List[Problem]:
    """Columns the previous span had that this one lost or holds in another type: found even when
    the schema was inferred from this very span (and so agrees with it)."""
    now, before = _features(current), _features(previous)
    problems = []
    for name, feature in sorted(before.items()):
        if name not in now:
            problems.append(Problem(name, "SCHEMA_MISSING_COLUMN",
                                    "the previous span has this column and this span does not"))
        elif now[name].type != feature.type:
            problems.append(Problem(
                name, "UNEXPECTED_DATA_TYPE",
                f"type changed from {_TYPE_NAMES.get(feature.type, feature.type)} in the previous "
                f"span to {_TYPE_NAMES.get(now[name].type, now[name].type)}"))
    return problems


def nan_problems(current: statistics_pb2.DatasetFeatureStatisticsList) -> List[Problem]:
    """Numeric features holding NaN: a model trained on them learns NaN, and the gate then only
    sees a bad model, never why."""
    problems = []
    for name, feature in sorted(_features(current).items()):
        if feature.HasField("num_stats") and feature.num_stats.histograms:
            nans = feature.num_stats.histograms[0].num_nan
            if nans:
                problems.append(Problem(name, "FLOAT_TYPE_HAS_NAN",
                                        f"{nans:,} values are NaN (not a number)"))
    return problems


def _is_categorical(feature: schema_pb2.Feature) -> bool:
    return (feature.type == schema_pb2.BYTES or feature.int_domain.is_categorical
            or feature.HasField("string_domain") or feature.HasField("domain"))


def with_drift_comparators(schema: schema_pb2.Schema, thresholds: Thresholds) -> schema_pb2.Schema:
    """A copy of `schema` with a drift comparator on every feature that has none."""
    schema = copy.deepcopy(schema)
    for feature in schema.feature:
        comparator = feature.drift_comparator
        if comparator.HasField("infinity_norm") or comparator.HasField("jensen_shannon_divergence"):
            continue
        threshold = thresholds.features.get(feature.name)
        if _is_categorical(feature):
            comparator.infinity_norm.threshold = (
                thresholds.categorical if threshold is None else threshold)
        else:
            comparator.jensen_shannon_divergence.threshold = (
                thresholds.numeric if threshold is None else threshold)
    return schema


def validate(current: statistics_pb2.DatasetFeatureStatisticsList,
             previous: Optional[statistics_pb2.DatasetFeatureStatisticsList],
             compared: schema_pb2.Schema) -> anomalies_pb2.Anomalies:
    """TFDV's validation of `current` against the schema with drift comparators (see
    with_drift_comparators) and, when there is one, the previous span: the full anomalies proto,
    drift measurements included."""
    import tensorflow_data_validation as tfdv

    return tfdv.validate_statistics(current, compared, previous_statistics=previous)


def drifts(anomalies: anomalies_pb2.Anomalies, compared: schema_pb2.Schema) -> List[Drift]:
    """Each feature's drift measurement in `anomalies`, against its comparator's threshold."""
    limits = {}
    for feature in compared.feature:
        comparator = feature.drift_comparator
        if comparator.HasField("infinity_norm"):
            limits[feature.name] = (L_INFTY, comparator.infinity_norm.threshold)
        else:
            limits[feature.name] = (JENSEN_SHANNON,
                                    comparator.jensen_shannon_divergence.threshold)
    kinds = {L_INFTY: anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY,
             JENSEN_SHANNON: anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE}
    found = []
    for info in anomalies.drift_skew_info:
        name = ".".join(info.path.step)
        if name not in limits:
            continue
        measure, threshold = limits[name]
        values = [m.value for m in info.drift_measurements if m.type == kinds[measure]]
        if values:
            found.append(Drift(name, measure, float(values[0]), float(threshold)))
    return sorted(found, key=lambda d: d.feature)


def drift_json(drifts: List[Drift]) -> str:
    return json.dumps({d.feature: {"measure": d.measure, "value": round(d.value, 6),
                                   "threshold": d.threshold, "drifted": d.drifted}
                       for d in drifts}, sort_keys=True)

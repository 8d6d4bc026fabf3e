"""Reading TFDV's statistics the way a person counts: a value that is blank is missing.

CSV ExampleGen writes an empty cell as a feature that is present with no values, which TFDV
counts in `num_non_missing`. Every reader of statistics (the DataGate, the report, `mlops
schema`, `mlops skew`) counts missing values here, so that they agree."""

from __future__ import annotations

from typing import Dict

from tensorflow_metadata.proto.v0 import statistics_pb2


def features(stats: statistics_pb2.DatasetFeatureStatisticsList
             ) -> Dict[str, statistics_pb2.FeatureNameStatistics]:
    """The features of the whole split (TFX writes no slices), by dotted path."""
    dataset = stats.datasets[0]
    return {(".".join(f.path.step) if f.HasField("path") else f.name): f for f in dataset.features}


def common_stats(feature: statistics_pb2.FeatureNameStatistics) -> statistics_pb2.CommonStatistics:
    kind = feature.WhichOneof("stats")
    return getattr(feature, kind).common_stats if kind else statistics_pb2.CommonStatistics()


def empty_lists(feature: statistics_pb2.FeatureNameStatistics) -> int:
    """Examples where the feature is present with no values (a blank CSV cell)."""
    common = common_stats(feature)
    if common.min_num_values > 0 or not common.num_non_missing:
        return 0
    if common.max_num_values <= 1:  # one value or none per example: exact
        return int(common.num_non_missing - common.tot_num_values)
    # Lists of several values: the share of TFDV's value-count quantiles that hold no value.
    histogram = common.num_values_histogram
    total = sum(b.sample_count for b in histogram.buckets)
    empty = sum(b.sample_count for b in histogram.buckets if b.high_value == 0)
    return int(round(common.num_non_missing * empty / total)) if total else 0


def missing(feature: statistics_pb2.FeatureNameStatistics) -> int:
    """Examples without a value: the feature absent, or present and empty."""
    return int(common_stats(feature).num_missing) + empty_lists(feature)


def with_values(feature: statistics_pb2.FeatureNameStatistics) -> int:
    """Examples holding at least one value."""
    return int(common_stats(feature).num_non_missing) - empty_lists(feature)


def missing_fraction(feature: statistics_pb2.FeatureNameStatistics, examples: int) -> float:
    return missing(feature) / examples if examples else 0.0

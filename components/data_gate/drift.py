"""Drift of a numeric feature between two spans, from the quantiles TFDV's statistics carry.

TFDV's Jensen-Shannon divergence compares each span's own 10 equal-width histogram buckets, so
one outlier stretches the buckets and two samples of one distribution measure far apart
(tensorflow/data-validation#216: two random halves of TFX's taxi CSV measure 0.73 on
`trip_miles`). This measure reads the QUANTILES histogram instead (its bucket boundaries are the
deciles): the mean absolute difference between the two spans' quantile functions from the 10th to
the 90th percentile (a trimmed Wasserstein-1 distance), divided by the reference span's 10th-90th
percentile range. Outliers beyond either percentile do not move it; a shift by half a standard
deviation of a normal feature measures about 0.2, the digits at half brightness 0.13.

Two finite samples of one distribution still differ by sampling noise that shrinks as
1/sqrt(n); below a few thousand rows it can exceed any fixed threshold. A feature is therefore
flagged only above `max(threshold, NOISE_FACTOR * sqrt(1/n + 1/m))` (n and m values), the noise
floor measured on random splits of real datasets (benchmarks/drift_table.py, README "Data
validation").
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Tuple

import numpy as np
from tensorflow_metadata.proto.v0 import statistics_pb2

QUANTILE_DISTANCE = "quantile distance"
LOW, HIGH = 0.1, 0.9  # the central 80 %: tails (outliers, a few extreme trips) do not count
GRID = np.linspace(LOW, HIGH, 81)
# Sampling noise with n and m values is below NOISE_FACTOR * sqrt(1/n + 1/m) in every
# same-distribution comparison measured (benchmarks/drift_table.py: at most 3.24, on the taxi's
# discrete community areas).
NOISE_FACTOR = 3.5
# The same for TFDV's L-infinity distance between two spans' category shares (measured: at most
# 2.08, on the taxi's `company`).
CATEGORICAL_NOISE_FACTOR = 2.5


@dataclasses.dataclass(frozen=True)
class QuantileDistance:
    value: float
    noise_floor: float  # what two samples of these sizes may measure by chance


def _quantile_function(numbers: statistics_pb2.NumericStatistics
                       ) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(probability levels, values) at the boundaries of TFDV's QUANTILES histogram."""
    histogram = next((h for h in numbers.histograms
                      if h.type == statistics_pb2.Histogram.QUANTILES and h.buckets), None)
    if histogram is None:
        return None
    counts = np.array([b.sample_count for b in histogram.buckets], dtype=float)
    if counts.sum() <= 0:
        return None
    levels = np.concatenate([[0.0], np.cumsum(counts) / counts.sum()])
    values = np.array([histogram.buckets[0].low_value]
                      + [b.high_value for b in histogram.buckets], dtype=float)
    return levels, values


def _at(function: Tuple[np.ndarray, np.ndarray], levels: np.ndarray) -> np.ndarray:
    known_levels, values = function
    return np.interp(levels, known_levels, values)


def _values(numbers: statistics_pb2.NumericStatistics) -> int:
    """How many values the quantiles summarise: rows, or more for a feature of several values
    per example (the digits' 64 pixels: measured, their noise is far below a floor counted in
    values)."""
    return int(numbers.common_stats.tot_num_values)


def quantile_distance(current: statistics_pb2.NumericStatistics,
                      reference: statistics_pb2.NumericStatistics) -> Optional[QuantileDistance]:
    """The distance of `current` from `reference` (None when either has no quantiles)."""
    now, before = _quantile_function(current), _quantile_function(reference)
    if now is None or before is None:
        return None
    reference_at = _at(before, GRID)
    difference = float(np.mean(np.abs(_at(now, GRID) - reference_at)))
    # The reference's spread: its central range, else its standard deviation (a feature that is
    # mostly one value), else 1 (a constant: any change at all is drift).
    scale = float(reference_at[-1] - reference_at[0]) or float(reference.std_dev) or 1.0
    n, m = _values(current), _values(reference)
    noise = NOISE_FACTOR * math.sqrt(1.0 / max(n, 1) + 1.0 / max(m, 1))
    return QuantileDistance(difference / scale, noise)

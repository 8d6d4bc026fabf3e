"""How often the DataGate's drift check cries wolf, and how often it catches a real shift.

Real data nobody here wrote: TFX's taxi CSVs (the installed tfx wheel) and scikit-learn's iris,
wine, breast_cancer, diabetes and digits (as the platform stores them: one 64-value
`image_floats`). For each dataset and span size, random disjoint pairs of spans drawn from the
same file (false alarms: any feature flagged), and the same pairs with one planted fault in the
second span (detections: the planted feature flagged):
  - shift: one float feature moved by half its standard deviation;
  - scale: one float feature multiplied by 1.5;
  - share x2: the category nearest a 20 % share drawn twice as often;
  - half brightness: the digits' pixels halved;
  - blanks 60 %: 60 % of one float feature's cells blanked (the DataGate's missing-values check;
    TFDV counts a blank as present, so before it nothing saw this).
Each numeric feature is measured by TFDV's Jensen-Shannon divergence (the old default, threshold
0.1) and by the DataGate's quantile distance (components/data_gate/drift.py); categorical
features by TFDV's L-infinity distance with the DataGate's noise floor. Statistics are TFDV's own,
computed in memory from Arrow record batches shaped as CSV ExampleGen writes them (a blank is an
empty value list). Also prints the largest noise-normalised quantile distance seen on
same-distribution pairs, which sets drift.NOISE_FACTOR. False alarms count the missing-values
check too. Printed, never asserted.

    .venv/bin/python benchmarks/drift_table.py [--repeats 30] [--seed 0]   (make bench-drift)
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import sys
import time

import mlops  # noqa: F401  (environment for TensorFlow)

# isort: split
import numpy as np
import pandas as pd
import pyarrow as pa

from components.data_gate import checks, drift

SIZES = (100, 300, 1000, 3000, "half")


def _taxi(name: str) -> pd.DataFrame:
    import tfx

    path = os.path.join(os.path.dirname(tfx.__file__), "examples/chicago_taxi_pipeline/data",
                        name, "data.csv")
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={
        "payment_type": str, "company": str})


def _sklearn(name: str) -> pd.DataFrame:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    if name == "digits":
        return pd.DataFrame({"image_floats": list(bunch.data.astype(np.float32)),
                             "label": bunch.target.astype(np.int64)})
    frame = pd.DataFrame(bunch.data, columns=[c.replace(" ", "_") for c in bunch.feature_names])
    frame["target"] = bunch.target
    return frame


DATASETS = {
    "taxi simple": lambda: _taxi("simple"),
    "taxi big_tipper": lambda: _taxi("big_tipper_label"),
    "iris": lambda: _sklearn("iris"),
    "wine": lambda: _sklearn("wine"),
    "breast_cancer": lambda: _sklearn("breast_cancer"),
    "diabetes": lambda: _sklearn("diabetes"),
    "digits": lambda: _sklearn("digits"),
}


def _column(values: pd.Series) -> pa.Array:
    """A column as CSV ExampleGen writes it: one value per row, a blank an empty list."""
    first = values.iloc[0]
    if isinstance(first, np.ndarray):
        return pa.array([list(v) for v in values], type=pa.list_(pa.float32()))
    if values.dtype == object:
        return pa.array([[] if not isinstance(v, str) or v == "" else [v.encode()]
                         for v in values], type=pa.list_(pa.binary()))
    kind = pa.int64() if np.issubdtype(values.dtype, np.integer) else pa.float32()
    return pa.array([[] if (isinstance(v, float) and math.isnan(v)) else [v]
                     for v in values.tolist()], type=pa.list_(kind))


def statistics(frame: pd.DataFrame):
    from tensorflow_data_validation.statistics import stats_impl, stats_options

    batch = pa.RecordBatch.from_arrays([_column(frame[c]) for c in frame.columns],
                                       list(frame.columns))
    return stats_impl.generate_statistics_in_memory(batch, stats_options.StatsOptions())


def _float_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if frame[c].dtype == np.float64 and frame[c].notna().mean()
            > 0.5 and frame[c].std() > 0 and frame[c].nunique() > 10]


def _category(frame: pd.DataFrame) -> tuple[str, str] | None:
    best = None
    for column in frame.columns:
        if frame[column].dtype != object or isinstance(frame[column].iloc[0], np.ndarray):
            continue
        shares = frame[column].value_counts(normalize=True)
        for value, share in shares.items():
            if best is None or abs(share - 0.2) < abs(best[2] - 0.2):
                best = (column, value, share)
    return best[:2] if best else None


def _flagged(reference, current, schema, old: bool):
    """(feature -> flagged, the measurements): the DataGate's measures, or (old) TFDV's
    Jensen-Shannon divergence for numeric features."""
    from tensorflow_data_validation import validate_statistics

    thresholds = checks.Thresholds()
    compared = checks.with_drift_comparators(schema, thresholds)
    if old:
        for feature in compared.feature:
            if not feature.drift_comparator.HasField("infinity_norm"):
                feature.drift_comparator.jensen_shannon_divergence.threshold = 0.1
    anomalies = validate_statistics(current, compared, previous_statistics=reference)
    measured = checks.drifts(current, reference, compared, anomalies, thresholds)
    return {d.feature: (d.value > d.threshold if old else d.drifted) for d in measured}, measured


def run(repeats: int, seed: int) -> None:
    import tensorflow_data_validation as tfdv

    rng = np.random.default_rng(seed)
    rows = []
    missed = collections.Counter()
    worst_noise = collections.defaultdict(lambda: (0.0, ''))
    for name, load in DATASETS.items():
        frame = load()
        floats, category = _float_columns(frame), _category(frame)
        for size in SIZES:
            n = len(frame) // 2 if size == "half" else size
            if 2 * n > len(frame):
                continue
            counts = collections.Counter()
            started = time.time()
            for repeat in range(repeats):
                order = rng.permutation(len(frame))
                reference = frame.iloc[order[:n]].reset_index(drop=True)
                current = frame.iloc[order[n:2 * n]].reset_index(drop=True)
                reference_stats = statistics(reference)
                schema = tfdv.infer_schema(reference_stats)
                current_stats = statistics(current)
                for old in (True, False):
                    flagged, measured = _flagged(reference_stats, current_stats, schema, old)
                    missing = [] if old else checks.missing_problems(
                        current_stats, reference_stats, checks.DEFAULT_MISSING_INCREASE)
                    counts["alarm old" if old else "alarm new"] += bool(
                        any(flagged.values()) or missing)
                    if not old:
                        for d in measured:
                            factor = {drift.QUANTILE_DISTANCE: drift.NOISE_FACTOR,
                                      checks.L_INFTY: drift.CATEGORICAL_NOISE_FACTOR}[d.measure]
                            ratio = d.value / d.noise_floor * factor if d.noise_floor else 0.0
                            key = (d.measure, name)
                            if ratio > worst_noise[key][0]:
                                worst_noise[key] = (ratio, d.feature)
                planted = {}
                if floats:
                    feature = floats[repeat % len(floats)]
                    spread = frame[feature].std()
                    shifted = current.copy()
                    shifted[feature] = shifted[feature] + 0.5 * spread
                    planted["shift 0.5 sd"] = (feature, shifted)
                    scaled = current.copy()
                    scaled[feature] = scaled[feature] * 1.5
                    planted["scale 1.5"] = (feature, scaled)
                if category:
                    column, value = category
                    weights = np.where(current[column] == value, 2.0, 1.0)
                    picks = rng.choice(len(current), n, p=weights / weights.sum())
                    planted["share x2"] = (column, current.iloc[picks].reset_index(drop=True))
                if floats:
                    blank = current.copy()
                    blank.loc[rng.random(n) < 0.6, feature] = np.nan
                    planted["blanks 60 %"] = (feature, blank)
                if name == "digits":
                    dim = current.copy()
                    dim["image_floats"] = [v * 0.5 for v in dim["image_floats"]]
                    planted["half brightness"] = ("image_floats", dim)
                for fault, (feature, faulty) in planted.items():
                    faulty_stats = statistics(faulty)
                    for old in (True, False):
                        flagged, _ = _flagged(reference_stats, faulty_stats, schema, old)
                        if fault.startswith("blanks"):  # the missing-values check (none before)
                            flagged = {} if old else {p.feature: True for p in
                                                      checks.missing_problems(
                                                          faulty_stats, reference_stats,
                                                          checks.DEFAULT_MISSING_INCREASE)}
                        key = f"{fault} {'old' if old else 'new'}"
                        counts[key] += bool(flagged.get(feature))
                        if not old and not flagged.get(feature):
                            missed[(name, fault, feature)] += 1
                        counts[f"{fault} tried"] += 0 if old else 1
            rows.append((name, n, repeats, counts, time.time() - started))
            print(_row(rows[-1]), flush=True)
    print()
    print(_header())
    for row in rows:
        print(_row(row))
    print()
    print("largest distance on same-distribution pairs, in units of sqrt(1/n + 1/m) (the noise "
          f"floors' factors: quantile {drift.NOISE_FACTOR}, "
          f"L-infinity {drift.CATEGORICAL_NOISE_FACTOR}):")
    for (measure, name), (value, feature) in sorted(worst_noise.items()):
        print(f"  {measure:<20} {name:<16} {value:.2f} ({feature})")
    print()
    print("planted faults the DataGate missed (all sizes):")
    for (name, fault, feature), count in sorted(missed.items()):
        print(f"  {name:<16} {fault:<16} {feature:<28} {count}")


FAULTS = ("shift 0.5 sd", "scale 1.5", "share x2", "half brightness", "blanks 60 %")


def _header() -> str:
    cells = ["dataset", "rows per span", "pairs", "false alarms JS 0.1 -> now"]
    cells += [f"{f}: JS -> now" for f in FAULTS]
    return "| " + " | ".join(cells) + " |\n|" + "---|" * len(cells)


def _row(row) -> str:
    name, n, repeats, counts, _ = row
    cells = [name, f"{n:,}", str(repeats),
             f"{counts['alarm old']}/{repeats} -> {counts['alarm new']}/{repeats}"]
    for fault in FAULTS:
        tried = counts[f"{fault} tried"]
        cells.append(f"{counts[fault + ' old']}/{tried} -> {counts[fault + ' new']}/{tried}"
                     if tried else "-")
    return "| " + " | ".join(cells) + " |"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    run(args.repeats, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

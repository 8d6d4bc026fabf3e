"""Serving skew: a sample of the requests a served model receives, compared with the span the
model in production was trained on, by the DataGate's drift measures and the schema's SERVING
environment (where the label is absent)."""

from __future__ import annotations

import dataclasses
import glob
import os
from typing import Optional, Sequence

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from components.data_gate import checks


class SkewError(RuntimeError):
    """Nothing to compare with, or requests that cannot be read."""


@dataclasses.dataclass
class SkewReport:
    requests: int
    training_statistics: str
    schema_source: str
    problems: list[checks.Problem]
    measures: list[checks.Drift]

    @property
    def skewed(self) -> list[checks.Drift]:
        return [m for m in self.measures if m.drifted]

    def text(self) -> str:
        lines = [f"{self.requests:,} requests against the training span of the model in "
                 f"production ({self.training_statistics}); schema: {self.schema_source}"]
        lines += [f"  {m.line()}{'  <- skew' if m.drifted else ''}" for m in self.measures]
        if self.problems:
            lines.append("Schema anomalies in the SERVING environment:")
            lines += [f"  {p.line()}" for p in self.problems]
        lines.append("Skew found." if self.skewed or self.problems else "No skew found.")
        return "\n".join(lines)


def request_statistics(path: str, data_format: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of the requests: serialized tf.Examples (TFRecord) or CSV with a header."""
    import tensorflow_data_validation as tfdv

    pattern = os.path.join(path, "*") if os.path.isdir(path) else path
    if not [f for f in glob.glob(pattern) if os.path.isfile(f)]:
        raise SkewError(f"no request files at {path}")
    if data_format == "csv":
        return tfdv.generate_statistics_from_csv(data_location=pattern)
    return tfdv.generate_statistics_from_tfrecord(data_location=pattern)


def compare(requests: statistics_pb2.DatasetFeatureStatisticsList,
            training: statistics_pb2.DatasetFeatureStatisticsList,
            schema: schema_pb2.Schema, thresholds: checks.Thresholds,
            training_statistics: str = "", schema_source: str = "") -> SkewReport:
    import tensorflow_data_validation as tfdv

    serving = tfdv.validate_statistics(requests, schema, environment="SERVING")
    compared = checks.with_drift_comparators(schema, thresholds)
    measures = checks.drifts(checks.validate(requests, training, compared), compared)
    served = {f.name for f in schema.feature if "SERVING" not in f.not_in_environment}
    return SkewReport(requests.datasets[0].num_examples, training_statistics, schema_source,
                      checks.schema_problems(serving),
                      [m for m in measures if m.feature in served])


def serving_schema(curated: Optional[schema_pb2.Schema], training, label_key: str
                   ) -> schema_pb2.Schema:
    """The curated schema, or one inferred from the training span, with TFDV's environments."""
    import tensorflow_data_validation as tfdv

    from mlops.schema import with_environments

    return with_environments(curated if curated is not None else tfdv.infer_schema(training),
                             label_key)


def check(path: str, data_format: str, destinations: Sequence, schema_file: str, label_key: str,
          thresholds: checks.Thresholds) -> SkewReport:
    from components.baseline.production import production_model
    from components.data_gate.executor import read_statistics
    from mlops.schema import read

    production = production_model(destinations)
    if production is None or not production.statistics_uri:
        raise SkewError("no model in production with recorded training statistics: nothing to "
                        "compare the requests with (publish a model first)")
    training = read_statistics(production.statistics_uri)
    curated = read(schema_file) if os.path.isfile(schema_file) else None
    schema = serving_schema(curated, training, label_key)
    return compare(request_statistics(path, data_format), training, schema, thresholds,
                   production.statistics_uri,
                   schema_file if curated is not None else "inferred from the training span")

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


def request_statistics(path: str, data_format: str, schema: schema_pb2.Schema
                       ) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of the requests: serialized tf.Examples (TFRecord), or CSV with a header
    parsed as CSV ExampleGen parsed the training data (its column types, a blank an empty value
    list), so that a sample of the training data itself shows no skew."""
    from components.common import csv_examples

    pattern = os.path.join(path, "*") if os.path.isdir(path) else path
    files = sorted(f for f in glob.glob(pattern) if os.path.isfile(f))
    if not files:
        raise SkewError(f"no request files at {path}")
    if data_format == "csv":
        try:
            examples = csv_examples.examples(files, {f.name: f.type for f in schema.feature})
        except csv_examples.CsvError as err:
            raise SkewError(str(err)) from None
    else:
        examples = _tfrecord_examples(files)
    if not examples:
        raise SkewError(f"no requests in {path}: its {data_format} files hold no records")
    return csv_examples.statistics(examples)


def _tfrecord_examples(files: Sequence[str]) -> list[bytes]:
    """The serialized tf.Examples of TFRecord files; a file that is not one is named."""
    import tensorflow as tf

    records = []
    for path in files:
        try:
            found = [r.numpy() for r in tf.data.TFRecordDataset(path)]
        except tf.errors.OpError:
            raise SkewError(f"{path} is not a TFRecord file (requests are serialized tf.Examples "
                            "as TFRecord, or CSV with a header)") from None
        for index, record in enumerate(found, start=1):
            try:
                tf.train.Example.FromString(record)
            except Exception:  # protobuf's DecodeError
                raise SkewError(f"{path}: record {index} is not a serialized tf.Example") \
                    from None
        records += found
    return records


def compare(requests: statistics_pb2.DatasetFeatureStatisticsList,
            training: statistics_pb2.DatasetFeatureStatisticsList,
            schema: schema_pb2.Schema, thresholds: checks.Thresholds,
            training_statistics: str = "", schema_source: str = "") -> SkewReport:
    import tensorflow_data_validation as tfdv

    serving = tfdv.validate_statistics(requests, schema, environment="SERVING")
    compared = checks.with_drift_comparators(schema, thresholds)
    anomalies = checks.validate(requests, training, compared)
    measures = checks.drifts(requests, training, compared, anomalies, thresholds)
    served = {f.name for f in schema.feature if "SERVING" not in f.not_in_environment}
    return SkewReport(requests.datasets[0].num_examples, training_statistics, schema_source,
                      checks.schema_problems(serving),
                      [m for m in measures if m.feature in served])


def serving_schema(curated: Optional[schema_pb2.Schema], training: Sequence, label_key: str
                   ) -> schema_pb2.Schema:
    """The curated schema, or one inferred from the training span's splits (`training`: their
    statistics) as SchemaGen infers it, with TFDV's environments."""
    import tensorflow_data_validation as tfdv

    from mlops.schema import with_environments

    schema = curated
    if schema is None:
        schema = tfdv.infer_schema(training[0], infer_feature_shape=True)
        for split in training[1:]:  # SchemaGen: the first split infers, the others widen it
            schema = tfdv.update_schema(schema, split, infer_feature_shape=True)
    return with_environments(schema, label_key)


def check(path: str, data_format: str, destinations: Sequence, schema_file: str, label_key: str,
          thresholds: checks.Thresholds) -> SkewReport:
    from components.baseline.production import production_model
    from components.data_gate.executor import all_splits
    from mlops.schema import read

    production = production_model(destinations)
    if production is None or not production.statistics_uri:
        raise SkewError("no model in production with recorded training statistics: nothing to "
                        "compare the requests with (publish a model first)")
    splits = all_splits(production.statistics_uri)  # train first: what the requests meet
    curated = read(schema_file) if os.path.isfile(schema_file) else None
    schema = serving_schema(curated, splits, label_key)
    return compare(request_statistics(path, data_format, schema), splits[0], schema, thresholds,
                   production.statistics_uri,
                   schema_file if curated is not None else "inferred from the training span")

"""The curated schema: show the schema a run validated its data with, and promote it to the
project's schema file, which later runs import (ImportSchemaGen) instead of inferring one."""

from __future__ import annotations

import os
from typing import Optional, Sequence

from ml_metadata import metadata_store
from tensorflow_metadata.proto.v0 import schema_pb2

from components.common.names import STATISTICS_GEN_ID
from mlops import metadata

SCHEMA_NODES = ("SchemaGen", "ImportSchemaGen")
TRAINING, SERVING = "TRAINING", "SERVING"


class SchemaError(RuntimeError):
    """No schema to show or promote, or the schema file would be overwritten."""


def latest_schema_uri(store: metadata_store.MetadataStore, pipeline_name: str
                      ) -> tuple[Optional[str], Optional[str]]:
    """The directories of the schema the newest run that produced one used, and of that run's
    statistics (None when it has none)."""
    for run in reversed(metadata.pipeline_runs(store, pipeline_name)):
        records = metadata.run_executions(store, run, pipeline_name)
        schemas = [r.outputs["schema"][0].uri for r in records
                   if r.node_id in SCHEMA_NODES and r.outputs.get("schema")]
        if schemas:
            statistics = [r.outputs["statistics"][0].uri for r in records
                          if r.node_id == STATISTICS_GEN_ID and r.outputs.get("statistics")]
            return schemas[0], (statistics or [None])[0]
    return None, None


def read(directory_or_file: str) -> schema_pb2.Schema:
    from tfx.utils import io_utils

    path = directory_or_file
    if os.path.isdir(path):
        path = io_utils.get_only_uri_in_dir(path)
    return io_utils.SchemaReader().read(path)


def with_environments(schema: schema_pb2.Schema, label_key: str) -> schema_pb2.Schema:
    """TFDV's environments: every feature in TRAINING and SERVING except the label, which
    serving requests do not carry."""
    curated = schema_pb2.Schema()
    curated.CopyFrom(schema)
    for environment in (TRAINING, SERVING):
        if environment not in curated.default_environment:
            curated.default_environment.append(environment)
    for feature in curated.feature:
        if feature.name == label_key and SERVING not in feature.not_in_environment:
            feature.not_in_environment.append(SERVING)
    return curated


def always_valued(schema: schema_pb2.Schema, statistics: Sequence) -> schema_pb2.Schema:
    """A copy of `schema` where each feature that had a value in every example of `statistics`
    (no blank, nowhere absent) requires one: TFDV then reports a blank there as an anomaly. (A
    feature with a fixed shape requires its values already.)"""
    from components.common import feature_statistics

    curated = schema_pb2.Schema()
    curated.CopyFrom(schema)
    seen = [feature_statistics.features(stats) for stats in statistics]
    for feature in curated.feature:
        counted = [split[feature.name] for split in seen if feature.name in split]
        if (counted and len(counted) == len(seen) and not feature.HasField("shape")
                and all(feature_statistics.missing(f) == 0 for f in counted)):
            feature.presence.min_fraction = 1.0
            feature.value_count.min = max(feature.value_count.min, 1)
    return curated


def requires_a_value(feature: schema_pb2.Feature) -> bool:
    """Whether TFDV reports an example without a value of `feature` (absent or blank)."""
    present = feature.presence.min_fraction >= 1.0
    return present and (feature.HasField("shape") or feature.value_count.min >= 1)


def promote(schema: schema_pb2.Schema, path: str, label_key: str, force: bool = False,
            statistics: Sequence = ()) -> str:
    """Writes `schema` (with environments, and each feature that always had a value in
    `statistics` required) as the project's curated schema; refuses to overwrite an existing file
    unless `force`."""
    from google.protobuf import text_format

    schema = always_valued(schema, statistics)
    if os.path.exists(path) and not force:
        raise SchemaError(f"{path} exists: it is the curated schema, edit it, or pass --force to "
                          "replace it with the latest run's")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    text = text_format.MessageToString(with_environments(schema, label_key))
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)
    return path


def _domain(schema: schema_pb2.Schema, feature: schema_pb2.Feature) -> str:
    if feature.HasField("domain"):
        domains = {d.name: d for d in schema.string_domain}
        values = list(domains[feature.domain].value) if feature.domain in domains else []
        return _values(values)
    if feature.HasField("string_domain"):
        return _values(list(feature.string_domain.value))
    if feature.HasField("int_domain"):
        return _range(feature.int_domain)
    if feature.HasField("float_domain"):
        return _range(feature.float_domain)
    return "-"


def _values(values: list) -> str:
    shown = ", ".join(values[:6]) + (f", ... ({len(values)} values)" if len(values) > 6 else "")
    return "{" + shown + "}"


def _range(domain) -> str:
    low = domain.min if domain.HasField("min") else "-inf"
    high = domain.max if domain.HasField("max") else "inf"
    return f"[{low}, {high}]"


def describe(schema: schema_pb2.Schema) -> str:
    """One line per feature: type, presence, shape, domain, environments."""
    rows = [("feature", "type", "presence", "shape", "domain", "not in")]
    for feature in schema.feature:
        # CSV ExampleGen writes a blank as a present, empty feature: "present" alone is not a value
        presence = ("required" if requires_a_value(feature) else
                    "optional (blanks)" if feature.presence.min_fraction >= 1.0 else
                    f"optional (min {feature.presence.min_fraction:g})")
        if feature.HasField("shape"):
            shape = "[" + ", ".join(str(d.size) for d in feature.shape.dim) + "]"
        elif feature.HasField("value_count"):
            shape = f"{feature.value_count.min}..{feature.value_count.max} values"
        else:
            shape = "-"
        rows.append((feature.name, schema_pb2.FeatureType.Name(feature.type), presence, shape,
                     _domain(schema, feature), ",".join(feature.not_in_environment) or "-"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
                     for row in rows)

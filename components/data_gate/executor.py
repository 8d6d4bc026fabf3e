"""DataGate executor: stops the run before Transform when the data broke the schema, lost or
retyped a column the previous span had, lost values (more missing than in the span of the model in
production), or drifted from that span.

The previous span is the one the model in production was trained on: its statistics URI is in the
source record the Pusher wrote beside every published version (components/baseline), so it is
found by reading the publishing destinations, with no ML Metadata query (Kubeflow gives user
containers none).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from absl import logging
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.common.names import (
    ACCEPT_DRIFT,
    DRIFT,
    PREVIOUS_STATISTICS_URI,
    PROBLEMS,
    VERDICT,
)
from components.data_gate import checks

SPLIT = "train"  # the split the model learns from; eval is a fifth of it and noisier
STATS_FILE = "FeatureStats.pb"
ANOMALIES_FILE = "SchemaDiff.pb"
# The parameters: THRESHOLDS_KEY here, ACCEPT_DRIFT (also recorded on the result) in
# components.common.names with the result's other property keys.
THRESHOLDS_KEY = "drift_thresholds"
PASSED, DRIFT_ACCEPTED, NO_PREVIOUS_SPAN = "passed", "drift accepted", "passed (no previous span)"


class DataRejectedError(RuntimeError):
    """The span is not fit to train on; the message lists each problem."""


def read_statistics(uri: str, split: str = SPLIT) -> statistics_pb2.DatasetFeatureStatisticsList:
    """One split of an ExampleStatistics artifact at `uri` (local path or gs://)."""
    import tensorflow as tf

    stats = statistics_pb2.DatasetFeatureStatisticsList()
    with tf.io.gfile.GFile(os.path.join(uri, f"Split-{split}", STATS_FILE), "rb") as handle:
        stats.ParseFromString(handle.read())
    return stats


def all_splits(uri: str) -> List[statistics_pb2.DatasetFeatureStatisticsList]:
    """Each split's statistics, train first, as SchemaGen reads them."""
    return [read_statistics(uri, split) for split in (SPLIT, "eval")]


def read_anomalies(artifact: types.Artifact) -> Dict[str, anomalies_pb2.Anomalies]:
    """The Anomalies proto of each split of an ExampleAnomalies artifact."""
    result = {}
    for split in artifact_utils.decode_split_names(artifact.split_names):
        proto = anomalies_pb2.Anomalies()
        path = os.path.join(artifact_utils.get_split_uri([artifact], split), ANOMALIES_FILE)
        proto.ParseFromString(io_utils.read_bytes_file(path))
        result[split] = proto
    return result


def read_schema(artifact: types.Artifact) -> schema_pb2.Schema:
    return io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(artifact.uri))


def previous_statistics_uri(exec_properties: Dict[str, Any]) -> str:
    """The statistics of the span the model in production was trained on ('' if none)."""
    from components.baseline.production import production_model
    from components.pusher.destinations.registry import destinations_from

    production = production_model(destinations_from(exec_properties))
    return production.statistics_uri if production else ""


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        statistics = artifact_utils.get_single_instance(input_dict["statistics"])
        schema = read_schema(artifact_utils.get_single_instance(input_dict["schema"]))
        anomalies = artifact_utils.get_single_instance(input_dict["anomalies"])
        result = artifact_utils.get_single_instance(output_dict["result"])
        thresholds = checks.Thresholds.from_json(exec_properties.get(THRESHOLDS_KEY) or "")
        accept_drift = bool(exec_properties.get(ACCEPT_DRIFT))

        problems = [checks.Problem(p.feature, p.kind, f"{p.description} (split '{split}')")
                    for split, proto in sorted(read_anomalies(anomalies).items())
                    for p in checks.schema_problems(proto)]
        current = read_statistics(statistics.uri)
        problems += checks.nan_problems(current)
        previous_uri = previous_statistics_uri(exec_properties)
        previous = read_statistics(previous_uri) if previous_uri else None
        if previous is not None:
            problems += checks.span_problems(current, previous)
            problems += checks.missing_problems(current, previous, thresholds.missing_increase)
        compared = checks.with_drift_comparators(schema, thresholds)
        validation = checks.validate(current, previous, compared)
        drifts = (checks.drifts(current, previous, compared, validation, thresholds)
                  if previous is not None else [])
        drifted = [d for d in drifts if d.drifted]

        verdict = self._verdict(problems, drifted, accept_drift, previous_uri)
        result.split_names = artifact_utils.encode_split_names([SPLIT])
        # TFDV's full anomalies proto, drift measurements included, stays as the artifact.
        io_utils.write_bytes_file(
            os.path.join(artifact_utils.get_split_uri([result], SPLIT), ANOMALIES_FILE),
            validation.SerializeToString())
        result.set_string_custom_property(VERDICT, verdict)
        result.set_string_custom_property(DRIFT, checks.drift_json(drifts))
        result.set_string_custom_property(PROBLEMS, json.dumps(
            [{"feature": p.feature, "kind": p.kind, "description": p.description}
             for p in problems]))
        result.set_string_custom_property(PREVIOUS_STATISTICS_URI, previous_uri)
        result.set_int_custom_property(ACCEPT_DRIFT, int(accept_drift))
        for drift in drifts:
            logging.info("drift %s", drift.line())

        stops = [p.line() for p in problems]
        if drifted and not accept_drift:
            stops += [f"{d.line()} (drift since the span of the model in production; "
                      "--accept-drift accepts it)" for d in drifted]
        if stops:
            raise DataRejectedError(
                "the data of this span is not fit to train on; the run stops before Transform, "
                "and the span is kept:\n  " + "\n  ".join(stops))
        logging.info("DataGate: %s", verdict)

    @staticmethod
    def _verdict(problems, drifted, accept_drift: bool, previous_uri: str) -> str:
        if problems:
            return "stopped: " + ", ".join(sorted({p.feature for p in problems}))
        if drifted:
            features = ", ".join(d.feature for d in drifted)
            return (f"{DRIFT_ACCEPTED}: {features}" if accept_drift
                    else f"stopped: drift in {features}")
        return PASSED if previous_uri else NO_PREVIOUS_SPAN

"""Reads ExampleValidator's anomalies and raises with every problem named."""

import os
from typing import Any, Dict, List

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils


class AnomaliesFoundError(RuntimeError):
    """The input data does not match the schema; the message lists each anomaly."""


def read_anomalies(anomalies: types.Artifact) -> Dict[str, anomalies_pb2.Anomalies]:
    """The Anomalies proto of each split of an ExampleAnomalies artifact."""
    result = {}
    for split in artifact_utils.decode_split_names(anomalies.split_names):
        split_dir = artifact_utils.get_split_uri([anomalies], split)
        for name in tf.io.gfile.listdir(split_dir):
            proto = anomalies_pb2.Anomalies()
            with tf.io.gfile.GFile(os.path.join(split_dir, name), "rb") as handle:
                proto.ParseFromString(handle.read())
            result[split] = proto
    return result


def describe(anomalies_by_split: Dict[str, anomalies_pb2.Anomalies]) -> List[str]:
    problems = []
    for split, proto in sorted(anomalies_by_split.items()):
        for feature, info in sorted(proto.anomaly_info.items()):
            problems.append(f"split '{split}', feature '{feature}': {info.description or info.short_description}")
        if proto.HasField("dataset_anomaly_info"):
            info = proto.dataset_anomaly_info
            problems.append(f"split '{split}', dataset: {info.description or info.short_description}")
    return problems


class Executor(base_executor.BaseExecutor):

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        anomalies = artifact_utils.get_single_instance(input_dict["anomalies"])
        problems = describe(read_anomalies(anomalies))
        if problems:
            raise AnomaliesFoundError(
                "ExampleValidator found anomalies in the input data; the run stops before "
                "training:\n  " + "\n  ".join(problems))

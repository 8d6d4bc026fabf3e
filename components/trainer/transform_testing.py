"""For tests: a real tf.Transform graph from a few rows (Beam, in memory), as TFX's Transform
writes it (transform_fn and the raw metadata)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import apache_beam as beam
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils


def analyze(out: Path, feature_spec: dict, preprocessing_fn: Callable, rows: list[dict]
            ) -> tft.TFTransformOutput:
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(
        feature_spec))
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(out / "tmp")):
        transform_fn = (pipeline | beam.Create(rows), metadata) | tft_beam.AnalyzeDataset(
            preprocessing_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(out / "tft"))
    metadata_io.write_metadata(metadata, str(out / "tft" / "metadata"))
    return tft.TFTransformOutput(str(out / "tft"))

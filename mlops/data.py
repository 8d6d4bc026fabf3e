"""Input data: the packaged digits dataset, and the pre-flight check of any input.

The pre-flight check turns the usual ways input goes wrong (a wrong path, an empty directory, a
malformed TFRecord, a missing feature, a label out of range) into one clear `DataError` before any
component runs, so nothing is trained or pushed from bad data.
"""

from __future__ import annotations

import csv
import glob
import os
import struct

import numpy as np

DIGITS_FILE = "digits.tfrecord"


class DataError(ValueError):
    """The input data cannot be used; the message names the file and the problem."""


def write_digits(data_root: str) -> str:
    """Writes scikit-learn's digits (1,797 8x8 images) as TFRecords of tf.Example, once."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    path = os.path.join(data_root, DIGITS_FILE)
    if os.path.exists(path):
        return path
    os.makedirs(data_root, exist_ok=True)
    digits = load_digits()
    tmp = path + ".tmp"
    with tf.io.TFRecordWriter(tmp) as writer:
        for image, label in zip(digits.data.astype(np.float32), digits.target):
            example = tf.train.Example(features=tf.train.Features(feature={
                "image_floats": tf.train.Feature(float_list=tf.train.FloatList(value=image)),
                "image_class": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
            }))
            writer.write(example.SerializeToString())
    os.replace(tmp, path)  # a crash mid-write never leaves a half dataset behind
    return path


def data_files(data_root: str) -> list[str]:
    """The input files under `data_root` (a file, or a directory searched recursively)."""
    if not os.path.exists(data_root):
        raise DataError(f"data path does not exist: {data_root}")
    if os.path.isfile(data_root):
        return [data_root]
    files = sorted(
        f for f in glob.glob(os.path.join(data_root, "**", "*"), recursive=True)
        if os.path.isfile(f) and not os.path.basename(f).startswith(".")
    )
    if not files:
        raise DataError(f"data directory is empty: {data_root}")
    return files


def detect_format(files: list[str], data_format: str) -> str:
    if data_format != "auto":
        return data_format
    kinds = {"csv" if f.lower().endswith(".csv") else "tfrecord" for f in files}
    if len(kinds) > 1:
        raise DataError("data directory mixes CSV and TFRecord files; keep one format per directory")
    return kinds.pop()


def preflight(data_root: str, data_format: str, label_key: str, feature_keys: list[str],
              num_classes: int, max_records: int = 10000) -> dict:
    """Checks the input and returns a summary (format, files, records read). Raises DataError."""
    files = data_files(data_root)
    data_format = detect_format(files, data_format)
    required = [label_key, *feature_keys]
    check = _check_csv if data_format == "csv" else _check_tfrecord
    records = sum(check(f, required, label_key, num_classes, max_records) for f in files)
    if records == 0:
        raise DataError(f"no records found in {data_root}")
    return {"format": data_format, "files": files, "records_checked": records}


def _check_label(path: str, index: int, label, label_key: str, num_classes: int) -> None:
    try:
        number = float(label)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer() or not 0 <= number < num_classes:
        raise DataError(
            f"{path}: record {index}: label '{label_key}' is {label!r}, "
            f"outside the classes 0-{num_classes - 1}")


def _check_framing(path: str, max_records: int) -> None:
    """Walks the TFRecord framing (length, crc, data, crc) of an uncompressed file.

    TensorFlow's reader treats a truncated last record as the end of the file and says nothing;
    Beam's reader then fails inside ExampleGen. This finds the problem first and names it.
    """
    size = os.path.getsize(path)
    offset = records = 0
    with open(path, "rb") as handle:
        while offset < size and (not max_records or records < max_records):
            header = handle.read(12)
            if len(header) < 12:
                raise DataError(f"{path}: malformed TFRecord file (truncated record header at "
                                f"byte {offset})")
            length = struct.unpack("<Q", header[:8])[0]
            end = offset + 12 + length + 4
            if end > size:
                raise DataError(f"{path}: malformed TFRecord file (record at byte {offset} "
                                f"claims {length} bytes; the file ends first)")
            handle.seek(end)
            offset, records = end, records + 1


def _check_tfrecord(path: str, required: list[str], label_key: str, num_classes: int,
                    max_records: int) -> int:
    import tensorflow as tf

    compression = "GZIP" if path.endswith(".gz") else ""
    if not compression:
        _check_framing(path, max_records)
    count = 0
    try:
        dataset = tf.data.TFRecordDataset(path, compression_type=compression)
        for count, raw in enumerate(dataset.as_numpy_iterator(), start=1):
            try:
                example = tf.train.Example.FromString(raw)
            except Exception:  # protobuf's DecodeError has no stable import path
                raise DataError(f"{path}: record {count} is not a serialized tf.Example") from None
            features = example.features.feature
            for key in required:
                if key not in features or not features[key].WhichOneof("kind"):
                    raise DataError(f"{path}: record {count}: feature '{key}' is missing")
            values = getattr(features[label_key], features[label_key].WhichOneof("kind")).value
            _check_label(path, count, values[0] if len(values) == 1 else list(values), label_key,
                         num_classes)
            if max_records and count >= max_records:
                break
    except tf.errors.DataLossError as err:
        raise DataError(f"{path}: malformed TFRecord file ({err.message.splitlines()[0]})") from None
    except tf.errors.OpError as err:
        raise DataError(f"{path}: cannot be read as TFRecord ({err.message.splitlines()[0]})") from None
    return count


def _check_csv(path: str, required: list[str], label_key: str, num_classes: int,
               max_records: int) -> int:
    count = 0
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for key in required:
            if key not in header:
                raise DataError(f"{path}: column '{key}' is missing from the CSV header")
        for count, row in enumerate(reader, start=1):
            _check_label(path, count, row[label_key], label_key, num_classes)
            if max_records and count >= max_records:
                break
    return count

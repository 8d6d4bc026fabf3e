"""Input data: spans, the packaged digits dataset, and the pre-flight check of any input.

Data arrives in spans: `<data>/span-1/`, `<data>/span-2/`, ...; a run takes the newest span
(ExampleGen's `{SPAN}` pattern). A directory without span-N folders is one unversioned input.

The pre-flight check turns the usual ways input goes wrong (a wrong path, an empty directory, a
malformed TFRecord, a missing feature, a label out of range) into one clear `DataError` before any
component runs, so nothing is trained or pushed from bad data.
"""

from __future__ import annotations

import codecs
import csv
import glob
import os
import re
import shutil
import struct
from typing import Optional, Sequence

import numpy as np

DIGITS_FILE = "digits.tfrecord"
SPAN_PATTERN = "span-{SPAN}"
_SPAN_DIR = re.compile(r"^span-(\d+)$")
# The demo splits the digits into this many spans (a seeded shuffle, so every machine agrees).
DEMO_SPANS = 3


class DataError(ValueError):
    """The input data cannot be used; the message names the file and the problem."""


def spans(data_root: str) -> dict[int, str]:
    """The span directories under `data_root`, by span number."""
    if not os.path.isdir(data_root):
        return {}
    found = {}
    for name in os.listdir(data_root):
        match = _SPAN_DIR.match(name)
        if match and os.path.isdir(os.path.join(data_root, name)):
            found[int(match.group(1))] = os.path.join(data_root, name)
    return found


def input_location(data_root: str) -> tuple[str, str]:
    """(files a run reads, ExampleGen pattern relative to its input base): the newest span if the
    data is organised in spans, the one file if data_root is a file (the base is then its
    directory: Config.input_base), else everything under data_root."""
    if os.path.isfile(data_root):
        return data_root, os.path.basename(data_root)
    found = spans(data_root)
    if found:
        return found[max(found)], SPAN_PATTERN + "/*"
    return data_root, "*"


def write_digits(data_root: str) -> str:
    """Writes the first demo span of scikit-learn's digits, once; returns its directory."""
    found = spans(data_root)
    if found:
        return found[min(found)]
    return write_digits_span(data_root, 1)


def write_digits_span(data_root: str, span: int) -> str:
    """Writes demo span `span` (one of DEMO_SPANS seeded parts of the 1,797 8x8 digit images)."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    if not 1 <= span <= DEMO_SPANS:
        raise DataError(f"the demo digits data has {DEMO_SPANS} spans and span {span} would be "
                        "past the last; ingest your own files with --source")
    digits = load_digits()
    part = np.array_split(np.random.default_rng(0).permutation(len(digits.target)),
                          DEMO_SPANS)[span - 1]
    span_dir = os.path.join(data_root, SPAN_PATTERN.replace("{SPAN}", str(span)))
    tmp_dir = os.path.join(data_root, f".span-{span}.tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    with tf.io.TFRecordWriter(os.path.join(tmp_dir, DIGITS_FILE)) as writer:
        for image, label in zip(digits.data[part].astype(np.float32), digits.target[part]):
            example = tf.train.Example(features=tf.train.Features(feature={
                "image_floats": tf.train.Feature(float_list=tf.train.FloatList(value=image)),
                "image_class": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
            }))
            writer.write(example.SerializeToString())
    os.rename(tmp_dir, span_dir)  # a crash mid-write never leaves a half span behind
    return span_dir


def ingest(data_root: str, source: Optional[str],
           source_format: str = "tfrecord") -> tuple[int, str]:
    """Adds the next span under `data_root`: the next demo digits span, or a copy of the
    TFRecord/CSV files at `source` (already checked by the caller). Returns (span, directory)."""
    found = spans(data_root)
    if not found and os.path.isdir(data_root) and os.listdir(data_root):
        raise DataError(f"{data_root} holds data that is not organised in spans; move it into "
                        f"{os.path.join(data_root, 'span-1')} first")
    span = max(found, default=0) + 1
    if source is None:
        return span, write_digits_span(data_root, span)
    if found:
        existing = detect_format(data_files(found[max(found)]), "auto")
        if existing != source_format:
            raise DataError(f"span {max(found)} is {existing} and {source} is {source_format}: "
                            "keep one format across spans")
    span_dir = os.path.join(data_root, SPAN_PATTERN.replace("{SPAN}", str(span)))
    tmp_dir = os.path.join(data_root, f".span-{span}.tmp")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    for index, path in enumerate(data_files(source)):
        # Flat names: ExampleGen reads span-N/*; the index keeps same-named files apart.
        shutil.copy2(path, os.path.join(tmp_dir, f"{index:05d}-{os.path.basename(path)}"))
    os.rename(tmp_dir, span_dir)
    return span, span_dir


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
    csv_files = [f for f in files if f.lower().endswith(".csv")]
    others = [f for f in files if not f.lower().endswith(".csv")]
    if csv_files and others:
        # ExampleGen reads every file of the directory: anything not CSV would be read as data.
        raise DataError(f"data directory mixes CSV files ({_names(csv_files)}) with files that "
                        f"are not CSV ({_names(others)}); keep only the data files of one format "
                        "in it")
    return "csv" if csv_files else "tfrecord"


def _names(files: list[str], shown: int = 3) -> str:
    names = [os.path.basename(f) for f in files[:shown]]
    return ", ".join(names) + (f" and {len(files) - shown} more" if len(files) > shown else "")


def preflight(data_root: str, data_format: str, label_key: str, feature_keys: list[str],
              num_classes: int, max_records: int = 10000, task: str = "multiclass",
              label_from: Sequence[str] = ()) -> dict:
    """Checks the input and returns a summary (format, files, records read). Raises DataError.

    `num_classes` bounds classifier labels (2 for binary); a regression label must be a number.
    A label made by the module's preprocessing_fn (`label_from`: the raw columns it is made of)
    is not in the data: those columns are checked as features are. Features may be missing from
    some records (optional features) if they hold one value; a feature holding numbers in one
    record and text in another is refused."""
    files = data_files(data_root)
    data_format = detect_format(files, data_format)
    required = list(dict.fromkeys([*label_from, *feature_keys] if label_from
                                  else [label_key, *feature_keys]))
    check = _check_csv if data_format == "csv" else _check_tfrecord
    label = _LabelCheck("" if label_from else label_key, task, num_classes)
    columns: set[str] = set()
    records = sum(check(f, required, label, max_records, columns) for f in files)
    if records == 0:
        raise DataError(f"no records found in {data_root}")
    return {"format": data_format, "files": files, "records_checked": records,
            "columns": sorted(columns)}


class _LabelCheck:
    def __init__(self, label_key: str, task: str, num_classes: int):
        self.key, self.task, self.num_classes = label_key, task, num_classes

    def __call__(self, path: str, where: str, label) -> None:
        try:
            number = float(label)
        except (TypeError, ValueError):
            number = float("nan")
        if self.task == "regression":
            if not np.isfinite(number):
                raise DataError(f"{path}: {where}: label '{self.key}' is {label!r}, not a "
                                "number (task: regression)")
            return
        if not number.is_integer() or not 0 <= number < self.num_classes:
            raise DataError(
                f"{path}: {where}: label '{self.key}' is {label!r}, outside the classes "
                f"0-{self.num_classes - 1}" + (" (task: binary)" if self.task == "binary" else ""))


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


def _check_tfrecord(path: str, required: list[str], label: _LabelCheck, max_records: int,
                    columns: set[str]) -> int:
    import tensorflow as tf

    compression = "GZIP" if path.endswith(".gz") else ""
    if not compression:
        _check_framing(path, max_records)
    count = 0
    kinds: dict[str, tuple[str, int]] = {}  # feature -> (kind, first record holding it)
    absent: dict[str, int] = {}  # feature -> first record without it
    vectors: dict[str, int] = {}  # feature -> a record where it holds several values
    try:
        dataset = tf.data.TFRecordDataset(path, compression_type=compression)
        for count, raw in enumerate(dataset.as_numpy_iterator(), start=1):
            try:
                example = tf.train.Example.FromString(raw)
            except Exception:  # protobuf's DecodeError has no stable import path
                raise DataError(f"{path}: record {count} is not a serialized tf.Example") from None
            features = example.features.feature
            columns.update(features.keys())
            for key in required:
                kind = features[key].WhichOneof("kind") if key in features else None
                if kind is None:
                    if key == label.key:
                        raise DataError(f"{path}: record {count}: label '{key}' is missing")
                    absent.setdefault(key, count)
                    continue
                seen = kinds.setdefault(key, (kind, count))
                if seen[0] != kind:
                    raise DataError(
                        f"{path}: record {count}: feature '{key}' holds {_KINDS[kind]}, but "
                        f"{_KINDS[seen[0]]} in record {seen[1]}")
                if len(getattr(features[key], kind).value) > 1:
                    vectors.setdefault(key, count)
            if label.key:
                values = getattr(features[label.key],
                                 features[label.key].WhichOneof("kind")).value
                label(path, f"record {count}", values[0] if len(values) == 1 else list(values))
            if max_records and count >= max_records:
                break
    except tf.errors.DataLossError as err:
        raise DataError(
            f"{path}: malformed TFRecord file ({err.message.splitlines()[0]})") from None
    except tf.errors.OpError as err:
        raise DataError(
            f"{path}: cannot be read as TFRecord ({err.message.splitlines()[0]})") from None
    for key, record in absent.items():
        if key in vectors or key not in kinds:
            held = (f"; it holds several values in record {vectors[key]}, and only single-valued "
                    "features may be missing" if key in vectors else "")
            raise DataError(f"{path}: record {record}: feature '{key}' is missing{held}")
    return count


_KINDS = {"float_list": "numbers (float)", "int64_list": "integers", "bytes_list": "text (bytes)"}


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _check_csv(path: str, required: list[str], label: _LabelCheck, max_records: int,
               columns: set[str]) -> int:
    _check_csv_bytes(path)
    try:
        return _check_csv_rows(path, required, label, max_records, columns)
    except UnicodeDecodeError:
        line, text = _first_non_utf8_line(path)
        raise DataError(f"{path}: line {line} is not UTF-8 text ({text!r}); save the file as "
                        "UTF-8") from None


def _check_csv_bytes(path: str) -> None:
    """What the csv module would misread as a header: nothing, or a byte-order mark."""
    with open(path, "rb") as handle:
        start = handle.read(64)
    if not start.strip():
        raise DataError(f"{path}: the file is empty (a CSV file starts with a header line)")
    if start.startswith(codecs.BOM_UTF8):
        raise DataError(f"{path}: starts with a UTF-8 byte-order mark, which ExampleGen would read "
                        "as part of the first column's name; save the file as UTF-8 without BOM")


def _first_non_utf8_line(path: str) -> tuple[int, bytes]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                return number, line[max(0, err.start - 20):err.end + 20]
    return 0, b""


def _check_header(path: str, header: list[str], required: list[str]) -> None:
    from components.common import csv_examples

    try:
        csv_examples.check_header(path, header)
    except csv_examples.CsvError as err:
        raise DataError(str(err)) from None
    missing = [key for key in required if key not in header]
    if not missing:
        return
    if len(header) == 1:
        for separator, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if separator in header[0]:
                raise DataError(f"{path}: the header is one column {header[0]!r}: the file looks "
                                f"{name}-separated, and CSV input must be comma-separated")
    raise DataError(f"{path}: column '{missing[0]}' is missing from the CSV header "
                    f"(columns: {_names(header, shown=20)})")


def _check_csv_rows(path: str, required: list[str], label: _LabelCheck, max_records: int,
                    columns: set[str]) -> int:
    count = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        _check_header(path, reader.fieldnames or [], required)
        columns.update(reader.fieldnames or [])
        numeric: dict[str, tuple[bool, int]] = {}  # column -> (holds numbers, first data row)
        fields = len(reader.fieldnames or [])
        for count, row in enumerate(reader, start=1):
            line = count + 1  # the header is line 1
            found = sum(v is not None for k, v in row.items() if k is not None) + len(
                row.get(None) or [])  # DictReader: extra fields under None, absent ones None
            if found != fields:
                from components.common.csv_examples import field_count_error

                raise DataError(field_count_error(path, line, found, fields))
            if label.key:
                if not (row.get(label.key) or "").strip():
                    raise DataError(f"{path}: line {line}: label '{label.key}' is empty")
                label(path, f"line {line}", row[label.key])
            for key in required:
                value = (row.get(key) or "").strip()
                if key == label.key or not value:
                    continue  # an optional feature: missing here
                seen = numeric.setdefault(key, (_is_number(value), line))
                if seen[0] and not _is_number(value):
                    raise DataError(f"{path}: line {line}: column '{key}' holds text {value!r}, "
                                    f"but numbers from line {seen[1]} on")
            if max_records and count >= max_records:
                break
    return count

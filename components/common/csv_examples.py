"""CSV rows as CSV ExampleGen turns them into tf.Examples, without a Beam pipeline: the same
column-type inference (tfx_bsl's ColumnTypeInferrer), the same per-type cell handlers (TFX's
own), a blank cell as a present feature with no values. Used where data outside a run must be
read exactly as the run read its training data (serving requests for `mlops skew`)."""

from __future__ import annotations

import csv
from typing import Mapping, Optional, Sequence

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2


class CsvError(ValueError):
    """A row or a cell that CSV ExampleGen could not have read; the message names the line."""


def _rows(path: str):
    """(1, the header's names), then (line number, cells as bytes) of each non-blank row."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise CsvError(f"{path}: no CSV header")
        check_header(path, header)
        yield 1, header
        for row in reader:
            if row:  # CSV ExampleGen skips blank lines
                if len(row) != len(header):
                    raise CsvError(field_count_error(path, reader.line_num, len(row), len(header)))
                yield reader.line_num, [cell.encode() for cell in row]


def check_header(path: str, header: Sequence[str]) -> None:
    """A column named twice: CSV ExampleGen would keep the last and silently drop the other."""
    first = {}
    for position, name in enumerate(header, start=1):
        if name in first:
            raise CsvError(f"{path}: the header names column '{name}' twice (columns "
                           f"{first[name]} and {position}); CSV ExampleGen would keep only the "
                           "last, so rename one")
        first[name] = position


def field_count_error(path: str, line: int, found: int, expected: int) -> str:
    """The message for a row CSV ExampleGen would refuse without naming its line."""
    return (f"{path}: line {line} has {found} field{'s' * (found != 1)} where the header has "
            f"{expected}")


def infer_types(files: Sequence[str]) -> dict[str, int]:
    """Column -> schema_pb2 type, inferred from every row as CSV ExampleGen infers it."""
    from tfx_bsl.coders import csv_decoder

    inferred = {}
    for path in files:
        rows = _rows(path)
        _, header = next(rows)
        inferrer = csv_decoder.ColumnTypeInferrer(header, skip_blank_lines=True)
        accumulator = inferrer.create_accumulator()
        for _, cells in rows:
            accumulator = inferrer.add_input(accumulator, cells)
        for info in inferrer.extract_output(accumulator):
            kind = {csv_decoder.ColumnType.INT: schema_pb2.INT,
                    csv_decoder.ColumnType.FLOAT: schema_pb2.FLOAT,
                    csv_decoder.ColumnType.STRING: schema_pb2.BYTES}.get(info.type)
            if kind is not None:
                inferred[info.name] = max(kind, inferred.get(info.name, kind),
                                          key=[schema_pb2.INT, schema_pb2.FLOAT,
                                               schema_pb2.BYTES].index)
    return inferred


def examples(files: Sequence[str], types: Optional[Mapping[str, int]] = None) -> list[bytes]:
    """Serialized tf.Examples of the rows of `files`, each cell through TFX's handler for its
    column's type (`types`: column -> schema_pb2 type, e.g. the training data's; inferred from
    the files when None). A cell the type cannot hold is a CsvError naming file, line and column."""
    import tensorflow as tf
    from tfx.components.example_gen.csv_example_gen import executor as csv_example_gen

    types = infer_types(files) if types is None else types
    handlers = {schema_pb2.INT: (csv_example_gen._int_handler, int),
                schema_pb2.FLOAT: (csv_example_gen._float_handler, float),
                schema_pb2.BYTES: (csv_example_gen._bytes_handler, bytes)}
    found = []
    for path in files:
        rows = _rows(path)
        _, header = next(rows)
        columns = [(name, *handlers[types.get(name, schema_pb2.BYTES)]) for name in header]
        for line, cells in rows:
            feature = {}
            for (name, handler, parse), cell in zip(columns, cells):
                try:
                    if cell:
                        parse(cell)
                except ValueError:
                    raise CsvError(f"{path}: line {line}: column '{name}' holds {cell.decode()!r}, "
                                   f"which the training data holds as "
                                   f"{schema_pb2.FeatureType.Name(types[name])}") from None
                feature[name] = handler(cell)
            found.append(tf.train.Example(features=tf.train.Features(feature=feature))
                         .SerializeToString())
    return found


def statistics(serialized: Sequence[bytes]) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV's statistics of serialized tf.Examples, computed in memory with the options
    StatisticsGen uses."""
    from tensorflow_data_validation.statistics import stats_impl, stats_options
    from tfx_bsl.coders import example_coder

    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(list(serialized))
    return stats_impl.generate_statistics_in_memory(batch, stats_options.StatsOptions())

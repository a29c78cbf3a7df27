"""Reading a Parquet export into text columns.

Parquet columns are typed; records are text. Dates become ISO text, whole numbers become
digits without ``.0`` (pandas stores an integer column with gaps as float), NaN becomes NULL.
Row numbers are 1-based row positions (Parquet has no header row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import ChildlinkError
from .columns import shown_name
from .raw import FIRST_PARQUET_ROW, RawRows, no_broken_rows

_EXACT_FLOAT_INTEGERS = 2.0 ** 53     # beyond this a float no longer holds every whole number exactly
_NULL_TEXT = pa.scalar(None, pa.string())
# Types whose Arrow cast to text is already what a record needs (dates cast to ISO text).
_CAST_AS_TEXT = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view, pa.types.is_integer,
                 pa.types.is_date, pa.types.is_boolean, pa.types.is_decimal)
_BINARY = (pa.types.is_binary, pa.types.is_large_binary, pa.types.is_binary_view)   # text if valid UTF-8


class ParquetFile:
    """A Parquet source: schema read on opening, columns on ``read``."""

    def __init__(self, path: Path, label: str):
        self.path, self.label = path, label
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError):
            raise ChildlinkError(f"{label}: is not a readable Parquet file", file=str(path)) from None
        self.header = list(self._file.schema_arrow.names)

    def read(self, columns: Sequence[str], record_id_column: str | None = None) -> RawRows:
        """Text of ``columns``; Parquet rows are always well-formed, so nothing is broken."""
        try:
            table = self._file.read(columns=list(columns), use_threads=False)
        except (pa.ArrowException, OSError):
            raise ChildlinkError(f"{self.label}: is not a readable Parquet file", file=str(self.path)) from None
        texts = {name: as_text(table.column(i), name, self) for i, name in enumerate(columns)}
        rows = np.arange(FIRST_PARQUET_ROW, FIRST_PARQUET_ROW + table.num_rows, dtype=np.int64)
        return RawRows(texts, rows, no_broken_rows())


def as_text(column: pa.ChunkedArray, name: str, source: ParquetFile) -> pa.ChunkedArray:
    """One typed Parquet column as text (vectorised)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return as_text(column.cast(kind.value_type), name, source)
    if pa.types.is_null(kind):
        return pa.chunked_array([pa.nulls(len(column), pa.string())])
    if pa.types.is_floating(kind):
        return _float_text(column)
    if pa.types.is_timestamp(kind):
        return _timestamp_text(column)
    if any(is_kind(kind) for is_kind in _CAST_AS_TEXT):
        return column.cast(pa.string())
    if any(is_kind(kind) for is_kind in _BINARY):
        try:
            return column.cast(pa.string())
        except pa.ArrowInvalid:
            pass
    raise ChildlinkError(f"{source.label}: column holds {kind} values, which cannot be read as text",
                         file=str(source.path), column=shown_name(name))


def _float_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Whole numbers without '.0' (9434765919.0 -> '9434765919'); NaN -> NULL; others as written."""
    finite = pc.is_finite(column)
    whole = pc.and_(finite, pc.and_(pc.equal(pc.floor(column), column),
                                    pc.less(pc.abs(column), _EXACT_FLOAT_INTEGERS)))
    as_integer = pc.if_else(whole, column, 0.0).cast(pa.int64()).cast(pa.string())
    text = pc.if_else(whole, as_integer, column.cast(pa.string()))
    return pc.if_else(pc.is_nan(column), _NULL_TEXT, text)


def _timestamp_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Midnight timestamps are dates written by pandas: 'YYYY-MM-DD'; others 'YYYY-MM-DDTHH:MM:SS'."""
    midnight = pc.and_(pc.and_(pc.equal(pc.hour(column), 0), pc.equal(pc.minute(column), 0)),
                       pc.and_(pc.equal(pc.second(column), 0), pc.equal(pc.subsecond(column), 0)))
    # Whole seconds: the strftime of finer units would print fractions ('07.000000000').
    seconds = column.cast(pa.timestamp("s", tz=column.type.tz), safe=False)
    return pc.if_else(midnight, pc.strftime(seconds, format="%Y-%m-%d"),
                      pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S"))

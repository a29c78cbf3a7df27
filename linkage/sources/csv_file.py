"""Reading a CSV export into text columns with exact spreadsheet row numbers.

pyarrow's CSV reader does the parsing (vectorised, quoted fields may contain newlines and
doubled quotes). Every column is read as text: an identifier like ``0123`` must never become
a number. Rows with the wrong number of fields are skipped by the parser and reported back to
us; knowing their row numbers lets us number every other row exactly as a spreadsheet would
(header = row 1, a quoted multi-line field is still one row, a blank line is a row).
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import ChildlinkError
from . import rejects
from .encoding import WINDOWS_1252, detect_encoding
from .raw import FIRST_CSV_DATA_ROW, RawRows, no_broken_rows
from .values import clean_text

_HEADER_BYTES = 1 << 20          # the header row must fit in the first MiB
_BLOCK_BYTES = 1 << 26           # one parsed row (e.g. a runaway quoted field) may be up to 64 MiB


class CsvFile:
    """A CSV source: header read on opening, rows on ``read``."""

    def __init__(self, path: Path, label: str):
        self.path, self.label = path, label
        self.encoding = detect_encoding(path, label)
        self.header, self._has_rows = _read_header(path, self.encoding, label)

    def read(self, columns: Sequence[str], record_id_column: str | None = None) -> RawRows:
        """Text of ``columns`` (header names) for every row that splits into the right fields."""
        positions = [self.header.index(name) for name in columns]
        if not self._has_rows:
            empty = pa.chunked_array([pa.array([], pa.string())])
            return RawRows({name: empty for name in columns}, np.array([], dtype=np.int64), no_broken_rows())
        id_is_first = record_id_column is not None and self.header.index(record_id_column) == 0
        table, malformed = self._parse(keep_first_field=id_is_first)
        row_numbers = _row_numbers(table.num_rows, malformed, self.path, self.label)
        blank = _blank_rows(table)
        broken = pd.concat([_malformed_frame(malformed), _blank_frame(row_numbers[blank])], ignore_index=True)
        keep = pa.array(~blank)
        texts = {name: table.column(pos).filter(keep) for name, pos in zip(columns, positions)}
        return RawRows(texts, row_numbers[~blank], broken.sort_values("row_number", ignore_index=True))

    def _parse(self, *, keep_first_field: bool) -> tuple[pa.Table, list[tuple]]:
        """Parse every row; malformed rows come back as (row number, expected, found, first field)."""
        names = [f"c{i}" for i in range(len(self.header))]   # our own names: headers may repeat or be odd
        malformed: list[tuple] = []

        def on_wrong_field_count(row) -> str:
            # Called by pyarrow once per malformed row (few), never per good row. Only the first
            # field is kept (it is the record_id when that is the first column): a stray comma
            # shifts the fields after it, so no other field of such a row can be trusted.
            first = _first_field(row.text) if keep_first_field else None
            malformed.append((row.number, row.expected_columns, row.actual_columns, first))
            return "skip"

        read_options = pacsv.ReadOptions(
            # One thread: pyarrow only reports the row number of a malformed row when reading serially.
            use_threads=False, block_size=_BLOCK_BYTES, column_names=names, skip_rows_after_names=1,
            encoding=WINDOWS_1252 if self.encoding == WINDOWS_1252 else "utf8")
        parse_options = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                           invalid_row_handler=on_wrong_field_count)
        convert_options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                               strings_can_be_null=False, quoted_strings_can_be_null=False)
        try:
            table = pacsv.read_csv(self.path, read_options=read_options, parse_options=parse_options,
                                   convert_options=convert_options)
        except (pa.ArrowException, UnicodeDecodeError, OSError):
            # pyarrow's own message can quote row text (personal data), so it is not passed on.
            raise ChildlinkError(f"{self.label}: cannot be parsed as CSV (a quoted field may be missing "
                                 "its closing quote)", file=str(self.path)) from None
        return table, malformed

def _first_field(row_text: str) -> str | None:
    try:
        fields = next(csv.reader(io.StringIO(row_text, newline="")), [])
    except csv.Error:          # e.g. a runaway quoted field longer than the csv module allows
        return None
    return fields[0] if fields else None


def _malformed_frame(malformed: list[tuple]) -> pd.DataFrame:
    if not malformed:
        return no_broken_rows()
    first_fields = pa.array([m[3] for m in malformed], pa.string())
    return pd.DataFrame({
        "row_number": np.array([m[0] for m in malformed], dtype=np.int64),
        "record_id": clean_text(first_fields).to_pandas().astype("string").to_numpy(),
        "reason": pd.Series([rejects.wrong_field_count(m[1], m[2]) for m in malformed], dtype="string"),
    })


def _read_header(path: Path, encoding: str, label: str) -> tuple[list[str], bool]:
    """The header row's names, and whether anything follows the header."""
    with path.open("rb") as handle:
        head = handle.read(_HEADER_BYTES + 1)
    text = codecs.getincrementaldecoder(encoding)().decode(head[:_HEADER_BYTES])   # not final: may cut a character
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if not header or all(not name.strip() for name in header):
        raise ChildlinkError(f"{label}: has no header row (the first line must name the columns)", file=str(path))
    if any("\x00" in name for name in header):
        raise ChildlinkError(f"{label}: the header row holds NUL bytes (is the file UTF-16, or damaged?); "
                             "save it as CSV UTF-8", file=str(path), row=1)
    try:
        has_rows = len(head) > _HEADER_BYTES or next(reader, None) is not None
    except csv.Error:          # something follows the header, even if the csv module cannot split it
        has_rows = True
    return header, has_rows


def _row_numbers(parsed_rows: int, malformed: list[tuple], path: Path, label: str) -> np.ndarray:
    """Spreadsheet row of each parsed row: every data row's number minus the malformed ones."""
    if any(m[0] is None for m in malformed):
        raise ChildlinkError(f"{label}: rows could not be numbered", file=str(path))
    total = parsed_rows + len(malformed)
    every_row = np.arange(FIRST_CSV_DATA_ROW, FIRST_CSV_DATA_ROW + total, dtype=np.int64)
    numbers = np.setdiff1d(every_row, np.array([m[0] for m in malformed], dtype=np.int64), assume_unique=True)
    if len(numbers) != parsed_rows:
        raise ChildlinkError(f"{label}: rows could not be numbered", file=str(path))
    return numbers


def _blank_rows(table: pa.Table) -> np.ndarray:
    """True for rows whose every field is empty or whitespace (blank lines, ',,,')."""
    blank = np.ones(table.num_rows, dtype=bool)
    for column in table.columns:
        blank &= pc.equal(pc.utf8_trim_whitespace(column), "").to_numpy(zero_copy_only=False)
    return blank


def _blank_frame(row_numbers: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"row_number": row_numbers.astype(np.int64),
                         "record_id": pd.Series([None] * len(row_numbers), dtype="string"),
                         "reason": pd.Series([rejects.EMPTY_ROW] * len(row_numbers), dtype="string")})

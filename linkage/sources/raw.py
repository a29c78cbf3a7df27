"""The shared shape of a file as read, before column mapping and cleaning.

Both readers (CSV and Parquet) turn a file into ``RawRows``: the text of each wanted column,
the spreadsheet row number of every row, and the rows that could not be split into fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

FIRST_CSV_DATA_ROW = 2        # the header is spreadsheet row 1
FIRST_PARQUET_ROW = 1         # Parquet has no header row: rows count from 1

BROKEN_COLUMNS = ("row_number", "record_id", "reason")


@dataclass
class RawRows:
    """Text of a file's rows as read (no trimming or placeholder handling yet)."""
    columns: dict[str, pa.ChunkedArray]   # file column name -> pa.string() values
    row_numbers: np.ndarray               # int64, the spreadsheet row of each value row
    broken: pd.DataFrame                  # rows with no usable fields: row_number, record_id, reason

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)


class TableFile(Protocol):
    """A source file opened for reading: its header is known, its rows are read on demand."""
    path: object
    header: list[str]

    def read(self, columns: Sequence[str], record_id_column: str | None = None) -> RawRows: ...


def no_broken_rows() -> pd.DataFrame:
    return pd.DataFrame({"row_number": pd.Series([], dtype="int64"),
                         "record_id": pd.Series([], dtype="string"),
                         "reason": pd.Series([], dtype="string")})

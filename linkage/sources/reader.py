"""The shared reader: any input file (CSV or Parquet) -> cleaned text of canonical fields.

Sources, CME cases and the postcode lookup all come through here, so every input gets the
same file checks, encodings, column matching and missing-value rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ChildlinkError
from .columns import ColumnPlan, plan_columns
from .csv_file import CsvFile
from .files import check_readable_file, file_format
from .parquet_file import ParquetFile
from .raw import RawRows, TableFile
from .rejects import EMPTY_ROW, NUL_BYTE
from .values import clean_text


@dataclass
class FieldRows:
    """Cleaned text per canonical field (NULL = missing) of the rows that split into fields."""
    values: dict[str, pa.ChunkedArray]
    row_numbers: np.ndarray        # int64 spreadsheet row of each row
    broken: pd.DataFrame           # rows that could not be read: row_number, record_id, reason
    plan: ColumnPlan

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)


def open_table_file(path: Path, label: str) -> TableFile:
    """Check ``path`` and open it as CSV or Parquet by its extension."""
    check_readable_file(path, label)
    if file_format(path, label) == "csv":
        return CsvFile(path, label)
    return ParquetFile(path, label)


def read_fields(path: Path, *, label: str, fields: Sequence[str], required: Sequence[str],
                explicit: Mapping[str, str] | None = None, table_file: TableFile | None = None) -> FieldRows:
    """Read ``fields`` (canonical names) from the file at ``path``; ``required`` ones must exist."""
    table_file = table_file or open_table_file(path, label)
    plan = plan_columns(table_file.header, fields=fields, explicit=explicit or {}, required=required,
                        label=label, path=path)
    wanted = list(dict.fromkeys(plan.mapping.values()))    # a column mapped to two fields is read once
    raw = _reject_nul_rows(table_file.read(wanted, record_id_column=plan.mapping.get("record_id")),
                           plan.mapping.get("record_id"))
    values = {field: clean_text(raw.columns[column]) for field, column in plan.mapping.items()}
    return FieldRows(values=values, row_numbers=raw.row_numbers, broken=raw.broken, plan=plan)


def _reject_nul_rows(raw: RawRows, record_id_column: str | None) -> RawRows:
    """Rows where a field read holds a NUL byte become broken rows (vectorised).

    NUL is never text: it comes from a damaged or half-written file, so the row is not trusted.
    Its record_id is kept for the reject when that field itself is clean.
    """
    nul = np.zeros(raw.num_rows, dtype=bool)
    for column in raw.columns.values():
        nul |= pc.fill_null(pc.match_substring(column, "\x00"), False).to_numpy(zero_copy_only=False)
    if not nul.any():
        return raw
    ids = pa.nulls(int(nul.sum()), pa.string())
    if record_id_column is not None:
        id_text = clean_text(raw.columns[record_id_column].filter(pa.array(nul)))
        ids = pc.if_else(pc.match_substring(id_text, "\x00"), pa.scalar(None, pa.string()), id_text)
    nul_rows = pd.DataFrame({"row_number": raw.row_numbers[nul],
                             "record_id": ids.to_pandas().astype("string").to_numpy(),
                             "reason": pd.Series([NUL_BYTE] * int(nul.sum()), dtype="string")})
    broken = pd.concat([raw.broken, nul_rows], ignore_index=True).sort_values("row_number", ignore_index=True)
    keep = pa.array(~nul)
    return RawRows({name: column.filter(keep) for name, column in raw.columns.items()},
                   raw.row_numbers[~nul], broken)


def fail_on_rows(bad: np.ndarray, row_numbers: np.ndarray, message: str, *, label: str, path: Path,
                 column: str | None = None) -> None:
    """Raise one ChildlinkError naming the first row where ``bad`` holds (and how many more)."""
    if not bad.any():
        return
    rows = row_numbers[bad]
    more = f" (and {len(rows) - 1} more row{'s' if len(rows) > 2 else ''})" if len(rows) > 1 else ""
    raise ChildlinkError(f"{label}: {message}{more}", file=str(path), row=int(rows.min()), column=column)


def fail_on_unreadable_rows(rows: FieldRows, *, label: str, path: Path) -> None:
    """For inputs that must be complete (CME cases, lookup): any malformed row is an error.
    Blank rows carry nothing and are passed over."""
    unreadable = rows.broken[rows.broken["reason"] != EMPTY_ROW]
    if len(unreadable):
        first = unreadable.iloc[0]
        raise ChildlinkError(f"{label}: {first['reason']}", file=str(path), row=int(first["row_number"]))


def missing_mask(values: pa.ChunkedArray) -> np.ndarray:
    return values.is_null().to_numpy(zero_copy_only=False)

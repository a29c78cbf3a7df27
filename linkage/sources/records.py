"""One source file -> canonical records (text) plus the rows rejected on the way.

A row is rejected only when it cannot be a record at all: it cannot be split into fields, it is
empty, it has no record_id, or it repeats a record_id (the first occurrence is kept). Everything
else is a record, however poor its values; standardisation flags those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import ChildlinkError
from ..job import SourceSpec
from ..schema import CANONICAL_FIELDS, EVENT_FIELDS, REQUIRED_FIELDS
from . import rejects as reject_reasons
from .columns import ColumnPlan
from .reader import read_fields
from .source_types import SourceType, source_type
from .values import canonical_choice

RECORD_SCHEMA = pa.schema(
    [("source", pa.string()), ("source_type", pa.string()), ("record_id", pa.string()),
     ("row_number", pa.int64())] + [(name, pa.string()) for name in CANONICAL_FIELDS])


@dataclass
class SourceRead:
    """Everything reading one source produced."""
    table: pa.Table              # RECORD_SCHEMA, in row order
    rejects: pd.DataFrame        # source, record_id, row_number, reason; in row order
    columns: ColumnPlan          # which file column became which field, and the unused ones

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.rejects)


def source_label(spec: SourceSpec) -> str:
    return f"source '{spec.name}'"


def read_source_file(spec: SourceSpec) -> SourceRead:
    """Read the file of ``spec`` into canonical records and rejects."""
    kind = source_type(spec.type)
    _check_mapped_fields(spec, kind)
    rows = read_fields(spec.path, label=source_label(spec), fields=kind.readable_fields,
                       required=REQUIRED_FIELDS, explicit=spec.columns)
    values = dict(rows.values)
    for field, allowed in kind.allowed_values.items():
        if field in values:
            values[field] = canonical_choice(values[field], allowed)
    keep, id_rejects = _apply_record_id_rules(values["record_id"], rows.row_numbers, spec.name)
    table = _record_table(spec, values, rows.row_numbers, keep)
    broken = reject_reasons.reject_frame(spec.name, rows.broken["record_id"], rows.broken["row_number"],
                                         rows.broken["reason"])
    all_rejects = pd.concat([broken, id_rejects], ignore_index=True)
    all_rejects = all_rejects.sort_values("row_number", kind="stable", ignore_index=True)
    return SourceRead(table=table, rejects=all_rejects, columns=rows.plan)


def _check_mapped_fields(spec: SourceSpec, kind: SourceType) -> None:
    for field in spec.columns:
        if field not in kind.readable_fields:
            owner = next((t for t, fields in EVENT_FIELDS.items() if field in fields), "another")
            raise ChildlinkError(f"source '{spec.name}': the job maps {field}, which is a {owner} field; "
                                 f"a {spec.type} source does not carry it", file=str(spec.path), column=field)


def _apply_record_id_rules(record_ids: pa.ChunkedArray, row_numbers: np.ndarray,
                           source: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Which rows to keep, and rejects for missing and repeated record_ids (vectorised)."""
    ids = record_ids.to_pandas().astype("string").reset_index(drop=True)
    rows = pd.Series(row_numbers, dtype="int64")
    missing = ids.isna().to_numpy()
    first_seen = rows.groupby(ids, sort=False, dropna=True).transform("min")
    repeated = ~missing & (rows != first_seen).to_numpy()
    missing_rejects = reject_reasons.reject_frame(
        source, [None] * int(missing.sum()), row_numbers[missing],
        [reject_reasons.MISSING_RECORD_ID] * int(missing.sum()))
    repeat_rejects = reject_reasons.reject_frame(
        source, ids[repeated], row_numbers[repeated], reject_reasons.duplicate_of(first_seen[repeated]))
    return ~(missing | repeated), pd.concat([missing_rejects, repeat_rejects], ignore_index=True)


def _record_table(spec: SourceSpec, values: dict[str, pa.ChunkedArray], row_numbers: np.ndarray,
                  keep: np.ndarray) -> pa.Table:
    mask = pa.array(keep)
    n = int(keep.sum())
    columns = {
        "source": pa.repeat(pa.scalar(spec.name, pa.string()), n),
        "source_type": pa.repeat(pa.scalar(spec.type, pa.string()), n),
        "record_id": values["record_id"].filter(mask),
        "row_number": pa.array(row_numbers[keep], pa.int64()),
    }
    for field in CANONICAL_FIELDS:
        columns[field] = values[field].filter(mask) if field in values else pa.nulls(n, pa.string())
    return pa.table(columns, schema=RECORD_SCHEMA)

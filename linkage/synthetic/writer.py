"""Writing the world: record ids, bad rows, the source files, job.yaml and the truth files.

Source CSVs are written byte for byte as a council export would be (no spreadsheet-safety
prefixes: a ``=`` value is one of the bad rows we want the reader to meet), in the source's
own encoding, atomically. Truth and lookup files go through ``linkage.outputs``.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ..outputs import atomic_path, write_csv
from . import calendar, names, parameters as P

FORMULA_VALUE = "=1+2"
RAGGED_EXTRA = "EXTRA FIELD"


@dataclass
class SourceTable:
    """One source's rows, with record ids and the bad rows it will be written with."""
    name: str
    frame: pd.DataFrame                                  # file columns + person_id
    ragged: set[int] = field(default_factory=set)        # positions written with an extra field
    bad_rows: dict[str, int] = field(default_factory=dict)


def assign_record_ids(rng: np.random.Generator, frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Opaque record ids in a random order (ids say nothing about whose record it is), sorted by id."""
    n = len(frame)
    width = max(7, len(str(n)))
    numbers = rng.permutation(n) + 1
    frame = frame.copy()
    frame.insert(0, "record_id", prefix + pd.Series(numbers).astype(str).str.zfill(width).to_numpy())
    frame["_row"] = np.arange(n)                         # the generator's row, to find records later
    return frame.sort_values("record_id", ignore_index=True)


def inject_bad_rows(rng: np.random.Generator, table: SourceTable, protected: set[str], formula_column: str,
                    id_column: str = "record_id") -> None:
    """Blank some ids, duplicate others, make a ragged row and a formula value (BAD_ROWS), in place."""
    frame = table.frame.reset_index(drop=True)
    free = np.flatnonzero(~frame[id_column].isin(protected).to_numpy())
    counts = P.BAD_ROWS
    need = sum(counts.values()) + counts["duplicate_record_id"]
    if free.size < need:
        return
    picks = rng.choice(free, size=need, replace=False)
    missing, rest = picks[: counts["missing_record_id"]], picks[counts["missing_record_id"]:]
    dup_targets, rest = rest[: counts["duplicate_record_id"]], rest[counts["duplicate_record_id"]:]
    dup_sources, rest = rest[: counts["duplicate_record_id"]], rest[counts["duplicate_record_id"]:]
    ragged, formula = rest[: counts["ragged_row"]], rest[counts["ragged_row"]:]
    persons = frame["person_id"].to_numpy(dtype=object)
    for i in np.flatnonzero(persons[dup_sources] == persons[dup_targets]):   # at most a couple of pairs
        others = free[persons[free] != persons[dup_targets[i]]]
        dup_sources[i] = others[rng.integers(0, others.size)]
    frame["_order"] = np.arange(len(frame)) * 2
    # A second row under an existing id, copied from another person's record: the truth must
    # credit the id to its first row's person.
    copies = frame.iloc[dup_sources].copy()
    copies[id_column] = frame[id_column].to_numpy()[dup_targets]
    copies["_order"] = frame["_order"].to_numpy()[dup_targets] + 1
    frame.loc[missing, id_column] = ""
    frame.loc[formula, formula_column] = FORMULA_VALUE
    frame["_ragged"] = False
    frame.loc[ragged, "_ragged"] = True
    frame = pd.concat([frame, copies.assign(_ragged=False)], ignore_index=True).sort_values("_order", ignore_index=True)
    table.ragged = set(np.flatnonzero(frame["_ragged"].to_numpy()).tolist())
    table.frame = frame.drop(columns=["_order", "_ragged"])
    table.bad_rows = dict(counts)


def truth_rows(table: SourceTable, id_column: str = "record_id") -> pd.DataFrame:
    """``source, record_id, person_id`` for rows with an id; a duplicated id belongs to its first row."""
    rows = table.frame[[id_column, "person_id"]].rename(columns={id_column: "record_id"})
    rows = rows[rows["record_id"].astype(str) != ""].drop_duplicates("record_id", keep="first")
    return rows.assign(source=table.name)[["source", "record_id", "person_id"]]


def write_source_csv(path: Path, table: SourceTable, columns: list[str], encoding: str) -> None:
    """The source as CSV in ``encoding`` (``utf-8``, ``utf-8-sig`` or ``cp1252``), ragged rows included."""
    frame = table.frame[columns]
    if encoding == "cp1252":
        # The billing system cannot store letters outside Windows-1252: they are transliterated.
        frame = frame.apply(lambda col: names.map_distinct(col.astype(object), names.cp1252_safe))
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    lines = buffer.getvalue().split("\n")
    for position in sorted(table.ragged):                   # one or two rows: by design
        lines[position + 1] += "," + RAGGED_EXTRA
    with atomic_path(path) as tmp:
        tmp.write_bytes("\n".join(lines).encode(encoding))


def write_gp_parquet(path: Path, frame: pd.DataFrame) -> None:
    """gp.parquet with typed DATE columns (dob, registration and deregistration dates)."""
    date_columns = ("dob", "registration_date", "deregistration_date")
    arrays, fields = [], []
    for column in frame.columns:
        values = frame[column].to_numpy()
        if column in date_columns:
            days = values.astype(np.int64)
            arrays.append(pa.array(days.astype("int32"), type=pa.int32(), mask=days >= calendar.OPEN).cast(pa.date32()))
        else:
            arrays.append(pa.array(pd.Series(values, dtype=object), type=pa.string(), from_pandas=True))
        fields.append(column)
    table = pa.Table.from_arrays(arrays, names=fields)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def write_job(path: Path, home_la: str, reference_date: dt.date, sources: list[dict]) -> None:
    """job.yaml per the contract (§3)."""
    job = {"home_la": home_la, "postcode_lookup": "la_postcodes.csv", "reference_date": reference_date,
           "sources": sources, "cme_cases": "cme_cases.csv"}
    text = yaml.safe_dump(job, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """A truth or lookup CSV (UTF-8, spreadsheet-safe, atomic)."""
    write_csv(path, frame)

"""Reading a job's sources into the canonical ``records`` table, with rejects (contract §1-§2).

    result = load_sources(con, job)      # table "records" + rejects + rows read per source

Each source file (CSV or Parquet) goes through one shared reader: file checks, encoding, column
mapping, missing-value rules; its source type (source_types.py) says which event fields it has.
Every data row ends up in exactly one of ``records`` and ``result.rejects``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pyarrow as pa

from ..errors import ChildlinkError
from ..job import Job, SourceSpec
from .cme_cases import CME_CASES_TABLE, read_cme_cases
from .columns import ColumnPlan
from .postcode_lookup import POSTCODE_LOOKUP_TABLE, read_postcode_lookup
from .records import RECORD_SCHEMA, read_source_file
from .rejects import REJECT_COLUMNS, empty_rejects

__all__ = ["LoadResult", "load_sources", "read_source", "read_cme_cases", "read_postcode_lookup",
           "CME_CASES_TABLE", "POSTCODE_LOOKUP_TABLE", "SOURCE_COLUMNS_TABLE", "REJECT_COLUMNS"]

# Which file column fed which field, per source: read by the quality summary (extra columns,
# fields a source carries). One row per file column; ``field`` is NULL for an ignored column.
SOURCE_COLUMNS_TABLE = "source_columns"

_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT"}


@dataclass
class LoadResult:
    records: str                      # name of the DuckDB table of canonical records
    rejects: pd.DataFrame             # source, record_id, row_number, reason (contract §2)
    row_counts: dict[str, int]        # source name -> data rows read from its file (records + rejects)
    columns: dict[str, ColumnPlan] = field(default_factory=dict)   # source name -> column plan


def read_source(spec: SourceSpec) -> tuple[pa.Table, pd.DataFrame]:
    """One source file as canonical text records (RECORD_SCHEMA) and its rejects."""
    read = read_source_file(spec)
    return read.table, read.rejects


def load_sources(con: duckdb.DuckDBPyConnection, job: Job, *, table: str = "records") -> LoadResult:
    """Read every source of ``job`` into one DuckDB table ``table``, in job order then row order."""
    if not table.isidentifier():
        raise ChildlinkError(f"'{table}' is not a usable table name")
    columns_sql = ", ".join(f'"{f.name}" {_DUCKDB_TYPES[f.type]}' for f in RECORD_SCHEMA)
    con.execute(f'CREATE OR REPLACE TABLE "{table}" ({columns_sql})')
    rejects, counts, plans = [empty_rejects()], {}, {}
    for spec in job.sources:
        read = read_source_file(spec)
        _append(con, table, read.table)
        rejects.append(read.rejects)
        counts[spec.name] = read.rows_read
        plans[spec.name] = read.columns
    _write_source_columns(con, plans)
    all_rejects = pd.concat(rejects, ignore_index=True)[list(REJECT_COLUMNS)]
    return LoadResult(records=table, rejects=all_rejects, row_counts=counts, columns=plans)


def _append(con: duckdb.DuckDBPyConnection, table: str, records: pa.Table) -> None:
    con.register("_childlink_source_rows", records)
    try:
        con.execute(f'INSERT INTO "{table}" SELECT * FROM _childlink_source_rows')
    finally:
        con.unregister("_childlink_source_rows")


def _write_source_columns(con: duckdb.DuckDBPyConnection, plans: dict[str, ColumnPlan]) -> None:
    rows = []
    for source, plan in plans.items():
        fields_by_column: dict[str, list[str]] = {}
        for canonical, column in plan.mapping.items():
            fields_by_column.setdefault(column, []).append(canonical)
        rows += [(source, column, canonical) for column, fs in fields_by_column.items() for canonical in fs]
        rows += [(source, column, None) for column in plan.extra]
    frame = pd.DataFrame(rows, columns=["source", "file_column", "field"]).astype("string")
    con.register("_childlink_source_columns", frame)
    try:
        con.execute(f"""CREATE OR REPLACE TABLE {SOURCE_COLUMNS_TABLE} AS
                        SELECT CAST(source AS VARCHAR) AS source, CAST(file_column AS VARCHAR) AS file_column,
                               CAST(field AS VARCHAR) AS field FROM _childlink_source_columns""")
    finally:
        con.unregister("_childlink_source_columns")

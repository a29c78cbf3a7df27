"""Plumbing shared by the trace rules: checking input tables and settings, date literals, results.

The rules take table *names* in a DuckDB connection, so the same code runs on a linkage
run's workspace (identities = child_id) and on the synthetic world (identities = person_id).
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd

from ..errors import ChildlinkError
from ..standardise.sqltext import table_columns

# Temporary tables the trace modules create; all share this prefix and are dropped after use.
TEMP_PREFIX = "_trace_"


def require_columns(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> set[str]:
    """Check that ``table`` exists and has ``columns``; return all its column names (lower case)."""
    present = {name.lower() for name in table_columns(con, table)}
    if not present:
        raise ChildlinkError("table not found in the workspace", file=table)
    missing = [c for c in columns if c.lower() not in present]
    if missing:
        raise ChildlinkError(f"table lacks required column(s): {', '.join(missing)}", file=table,
                             column=missing[0])
    return present


def check_home_la(home_la: str) -> str:
    """The home LA as a 3-digit DfE code (safe to put in SQL as a literal)."""
    code = str(home_la).strip()
    if not re.fullmatch(r"\d{3}", code):
        raise ChildlinkError("home_la must be a 3-digit DfE LA code such as \"330\"", column="home_la")
    return code


def check_reference_date(reference_date: dt.date) -> dt.date:
    """The reference date R as a ``date`` (a ``datetime`` is cut to its date)."""
    if isinstance(reference_date, dt.datetime):
        return reference_date.date()
    if isinstance(reference_date, dt.date):
        return reference_date
    raise ChildlinkError("reference_date must be a date", column="reference_date")


def sql_date(value: dt.date) -> str:
    """A DATE literal (the value is a real ``date``, so the text is always YYYY-MM-DD)."""
    return f"DATE '{value.isoformat()}'"


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, list_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Run ``sql`` and return a DataFrame with dates as ``datetime.date`` and lists as Python lists."""
    table = con.sql(sql).to_arrow_table()
    frame = table.to_pandas(date_as_object=True)
    for column in list_columns:
        # Arrow converts whole columns at once (no per-row Python); keeps lists as plain lists.
        frame[column] = pd.Series(table.column(column).to_pylist(), index=frame.index, dtype=object)
    return frame


def drop_temp_tables(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Drop the trace module's temporary tables (names without the prefix)."""
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {TEMP_PREFIX}{name}")

"""The DuckDB workspace a run works in.

One connection holds every table of a run (records, std_records, pairs, identities ...).
By default it lives in memory; a path makes it a file so that later stages (review,
incremental linking) can reopen it.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def open_workspace(path: str | Path | None = None, *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection configured for linkage work on a laptop-class machine."""
    con = duckdb.connect(str(path) if path else ":memory:")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 2)}")
    # Insertion order keeps outputs deterministic for identical input.
    con.execute("SET preserve_insertion_order = true")
    return con

"""The audit log: one row per run in the workspace's ``runs`` table.

Who ran what, when, on which inputs (file hashes and row counts), with which model, and what
it did to the IDs. Counts, hashes and file names only: no personal data.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd

from .job import Job


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def user_name() -> str:
    """The operating-system user running childlink ('unknown' where the system cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):   # no login name (some containers)
        return "unknown"


def inputs_summary(job: Job, row_counts: dict[str, int]) -> list[dict]:
    """Per source: its name, file name, SHA-256 and the data rows read."""
    return [{"source": s.name, "file": s.path.name, "sha256": file_sha256(s.path),
             "rows": int(row_counts.get(s.name, 0))} for s in job.sources]


def audit_row(job: Job, *, run_id: int, started_at: dt.datetime, command: str, mode: str, note: str,
              row_counts: dict[str, int], model_path: Path, signature: str, counts: dict) -> dict:
    """The ``runs`` row of one run; ``counts`` holds the record, pair and ID counts by column name."""
    finished_at = dt.datetime.now()
    return {"run_id": run_id, "started_at": started_at, "finished_at": finished_at,
            "seconds": round((finished_at - started_at).total_seconds(), 3),
            "user_name": user_name(), "command": command, "mode": mode, "note": note,
            "job_file_sha256": file_sha256(job.path),
            "inputs": json.dumps(inputs_summary(job, row_counts), sort_keys=True),
            "model_file": model_path.name, "model_sha256": file_sha256(model_path), "signature": signature,
            **counts}


def append_audit_row(con: duckdb.DuckDBPyConnection, ws: str, row: dict) -> None:
    """Insert ``row`` into the workspace's audit log (columns by name; absent ones stay NULL)."""
    names = list(row)
    con.execute(f"INSERT INTO {ws}.runs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                [row[n] for n in names])


def audit_log(con: duckdb.DuckDBPyConnection, ws: str) -> pd.DataFrame:
    """The audit log, oldest run first."""
    return con.execute(f"SELECT * FROM {ws}.runs ORDER BY run_id").fetchdf()

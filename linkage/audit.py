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
from .workspace import attached, open_workspace, workspace_file


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


_LOG_COLUMNS = ("run_id", "finished_at", "user_name", "mode", "records", "records_new", "records_changed",
                "records_deleted", "pairs_scored", "identities", "ids_created", "ids_kept", "ids_merged",
                "ids_split", "ids_retired", "seconds")


def format_audit_log(job: Job) -> str:
    """``childlink ids log``: the workspace's runs as a table, then each run's inputs and model."""
    con = open_workspace()
    with attached(con, workspace_file(job), read_only=True) as ws:
        log = audit_log(con, ws)
    con.close()
    if log.empty:
        return "no runs yet"
    table = log[list(_LOG_COLUMNS)].assign(finished_at=log.finished_at.dt.strftime("%Y-%m-%d %H:%M"))
    lines = [table.to_string(index=False), ""]
    for run in log.itertuples(index=False):      # one paragraph per run
        inputs = ", ".join(f"{i['source']} {i['file']} ({i['rows']} rows, sha256 {i['sha256'][:12]})"
                           for i in json.loads(run.inputs))
        lines.append(f"run {run.run_id}: {run.command} by {run.user_name}; model {run.model_file} "
                     f"(sha256 {run.model_sha256[:12]}); inputs: {inputs}" + (f"; {run.note}" if run.note else ""))
    return "\n".join(lines)

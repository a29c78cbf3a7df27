"""Keeping a link run in the job's workspace: persistent IDs, then the run's state in one transaction.

``save_run`` attaches the workspace file (waiting while another run holds it), maps the run's
identities onto the registry's IDs (``linkage.ids``), and writes records, pairs, identities,
registry, lineage, the model in use and the audit row inside one transaction: a run killed at
any point leaves the previous state whole.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .audit import append_audit_row, audit_row
from .errors import ChildlinkError
from .ids import IdChanges, assign_child_ids, load_registry, read_id_key, store_id_key
from .incremental import Delta, changes_to_save, record_hashes, save_records_and_pairs
from .job import Job
from .workspace import attached, has_table, last_run_id, transaction, workspace_file


@dataclass(frozen=True)
class SavedRun:
    run_id: int
    id_changes: IdChanges


def _counts(con: duckdb.DuckDBPyConnection, delta: Delta | None, changed: Delta | None, n_pairs: int,
            n_rejects: int, changes: IdChanges) -> dict:
    """The audit log's count columns. ``delta``: what an incremental run reused; ``changed``: what
    changed since the last run (known for full runs too when the workspace's state was comparable)."""
    n_records = con.execute("SELECT count(*) FROM std_records").fetchall()[0][0]
    identities = con.execute("SELECT count(DISTINCT child_id) FROM identities").fetchall()[0][0]
    kept = delta.pairs_kept if delta is not None and delta.usable else 0
    return {"records": n_records, "rejects": n_rejects, "pairs_scored": n_pairs - kept, "pairs_kept": kept,
            "records_new": changed.new if changed else None, "records_changed": changed.changed if changed else None,
            "records_unchanged": changed.unchanged if changed else None,
            "records_deleted": changed.deleted if changed else None,
            "identities": identities, "ids_created": changes.created, "ids_kept": changes.kept,
            "ids_merged": changes.merged, "ids_split": changes.split, "ids_retired": changes.retired}


IDENTITY_COLUMNS = "source, record_id, child_id, confidence, cluster_size, needs_review, review_reason"


def _stage_changes(con: duckdb.DuckDBPyConnection, ws: str) -> None:
    """The rows of ``identities`` and ``id_registry`` that differ from the stored ones: ``_<table>_stale``
    (keys of stored rows to delete) and ``_<table>_fresh`` (rows to insert). Writing only these keeps
    a run that changes little quick to save (temporary tables cannot be made inside the save's transaction)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _identities_now AS SELECT {IDENTITY_COLUMNS} FROM identities")
    for table, now, keys in (("identities", "_identities_now", "source, record_id"),
                             ("id_registry", "_registry", "child_id")):
        stored = f"SELECT * FROM {ws}.{table}" if has_table(con, ws, table) else f"SELECT * FROM {now} LIMIT 0"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _{table}_stale AS
                        SELECT {keys} FROM (({stored}) EXCEPT SELECT * FROM {now})""")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _{table}_fresh AS SELECT * FROM {now} EXCEPT ({stored})")


def _write_state(con: duckdb.DuckDBPyConnection, ws: str, *, delta: Delta | None, run_id: int,
                 signature: str, model: dict) -> None:
    """Everything the next run and the lookups need; call inside a transaction."""
    save_records_and_pairs(con, ws, delta)
    if not has_table(con, ws, "identities"):
        con.execute(f"CREATE TABLE {ws}.identities AS SELECT * FROM _identities_now LIMIT 0")
    con.execute(f"""DELETE FROM {ws}.identities t USING _identities_stale s
                    WHERE t.source = s.source AND t.record_id = s.record_id""")
    con.execute(f"INSERT INTO {ws}.identities SELECT * FROM _identities_fresh")
    con.execute(f"DELETE FROM {ws}.id_registry t USING _id_registry_stale s WHERE t.child_id = s.child_id")
    con.execute(f"INSERT INTO {ws}.id_registry SELECT * FROM _id_registry_fresh ORDER BY serial")
    con.execute(f"INSERT INTO {ws}.id_lineage SELECT * FROM _lineage_new")
    con.execute(f"DELETE FROM {ws}.model")
    con.execute(f"INSERT INTO {ws}.model VALUES (?, ?, ?)", [run_id, signature, json.dumps(model, sort_keys=True)])


def save_run(con: duckdb.DuckDBPyConnection, job: Job, *, started_at: dt.datetime, model: dict,
             model_path: Path, signature: str, delta: Delta | None, n_pairs: int, n_rejects: int,
             row_counts: dict[str, int]) -> SavedRun:
    """Give the run's identities (table ``clusters``) persistent IDs in table ``identities``, and
    save the run into the job's workspace."""
    path = workspace_file(job)
    if delta is None:        # a full run has not fingerprinted its records yet
        record_hashes(con)
    with attached(con, path) as ws:
        latest = last_run_id(con, ws)
        if delta is not None and delta.usable and latest != delta.base_run:
            raise ChildlinkError("another run updated the workspace while this one was working; run again",
                                 file=str(path))
        run_id = latest + 1
        # What to write: only what changed, whenever the stored records and pairs are still valid.
        to_save = delta if delta is not None and delta.usable else changes_to_save(con, ws, signature)
        key, key_is_new = read_id_key(con, ws, job.home_la, job.linkage.seed)
        load_registry(con, ws)
        changes = assign_child_ids(con, key, run_id)
        incremental = delta is not None
        row = audit_row(job, run_id=run_id, started_at=started_at,
                        command="childlink link" + (" --incremental" if incremental else ""),
                        mode="incremental" if incremental and delta.usable else "full",
                        note=delta.summary() if incremental else "", row_counts=row_counts,
                        model_path=model_path, signature=signature,
                        counts=_counts(con, delta, to_save, n_pairs, n_rejects, changes))
        _stage_changes(con, ws)
        with transaction(con):
            if key_is_new:
                store_id_key(con, ws, key)
            _write_state(con, ws, delta=to_save, run_id=run_id, signature=signature, model=model)
            append_audit_row(con, ws, row)
    return SavedRun(run_id=run_id, id_changes=changes)

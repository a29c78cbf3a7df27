"""The DuckDB workspace: the connection a run works in, and the job's workspace file.

A run works in an in-memory DuckDB connection (``open_workspace``): every table of the run
(records, std_records, pairs, identities ...) lives there, for speed. What must last between
runs lives in the job's workspace file, ``<job.workspace_dir>/workspace.duckdb``:

``meta``         key/value: schema_version, the key that mints child IDs (``linkage.ids``)
``runs``         the audit log: one row per run (who, when, inputs, model, counts; ``linkage.audit``)
``model``        the model in use (JSON, prior included) and the signature of what produced the data
``records``      the standardised records of the last run, each with its content hash
``pairs``        the scored pairs of the last run, keyed by (source, record_id) on each side
``identities``   source, record_id -> child_id of the last run
``id_registry``  every child_id ever issued: active, merged (an alias of ``current_id``) or retired
``id_lineage``   what happened to each child_id in each run (created, gained, merged, split ...)

A run attaches the file (``attached``) only while it reads the previous state and while it
writes the new one, inside one transaction (``transaction``): a killed run leaves the previous
state intact. DuckDB lets one process write a file at a time, so a second run waits for the
first. The file carries a schema version: an older file is migrated on attach, a newer one is
refused, and so is a damaged file or a DuckDB file that is not a workspace (never overwritten).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from .errors import ChildlinkError
from .faults import checkpoint

WORKSPACE_FILE = "workspace.duckdb"
ALIAS = "ws"
# How long a run waits for another childlink process to release the workspace file.
LOCK_WAIT_SECONDS = 300.0
_LOCK_POLL_SECONDS = 0.2


# DuckDB may hold this share of the machine's memory before it spills to disk (its own default is
# 80%, which left no room for Python, pyarrow and the page cache: a million children peaked at 13 GB).
MEMORY_SHARE = 0.35
MEMORY_LIMIT_ENV = "CHILDLINK_MEMORY_LIMIT"     # e.g. "6GB": overrides the share
_spill_dir: str | None = None


def memory_limit() -> str:
    """DuckDB's memory limit for a run: ``CHILDLINK_MEMORY_LIMIT``, else MEMORY_SHARE of physical memory."""
    if os.environ.get(MEMORY_LIMIT_ENV):
        return os.environ[MEMORY_LIMIT_ENV]
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "80%"                           # DuckDB's own default where the size is unknown
    return f"{max(int(physical * MEMORY_SHARE) // 2**20, 1024)}MB"


def spill_dir() -> str:
    """A private folder (mode 0700, removed at exit) for DuckDB's spill files: they hold records,
    so never DuckDB's default ``.tmp`` in whatever folder the command was started from."""
    global _spill_dir
    if _spill_dir is None:
        _spill_dir = tempfile.mkdtemp(prefix="childlink-spill-")
        atexit.register(shutil.rmtree, _spill_dir, ignore_errors=True)
    return _spill_dir


def open_workspace(path: str | Path | None = None, *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection configured for linkage work on a laptop-class machine."""
    con = duckdb.connect(str(path) if path else ":memory:")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 2)}")
    # Insertion order keeps outputs deterministic for identical input.
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute("SET memory_limit = ?", [memory_limit()])
    except duckdb.Error:
        raise ChildlinkError(f"{MEMORY_LIMIT_ENV} must be a size such as 6GB or 500MB") from None
    con.execute("SET temp_directory = ?", [spill_dir()])
    return con


def workspace_file(job) -> Path:
    """The job's workspace database file."""
    return Path(job.workspace_dir) / WORKSPACE_FILE


# ------------------------------------------------------------------ schema and migrations
def _create_version_1(con: duckdb.DuckDBPyConnection, ws: str) -> None:
    """The first schema. ``records``, ``pairs`` and ``identities`` are written by the first link
    run (their columns follow the standardised record), so they are not created here."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {ws}.meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(f"""
        CREATE TABLE {ws}.runs (
            run_id INTEGER PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP, user_name VARCHAR,
            command VARCHAR, mode VARCHAR, note VARCHAR, job_file_sha256 VARCHAR, inputs VARCHAR,
            model_file VARCHAR, model_sha256 VARCHAR, signature VARCHAR,
            records INTEGER, records_new INTEGER, records_changed INTEGER, records_unchanged INTEGER,
            records_deleted INTEGER, rejects INTEGER, pairs_scored BIGINT, pairs_kept BIGINT,
            identities INTEGER, ids_created INTEGER, ids_kept INTEGER, ids_merged INTEGER,
            ids_split INTEGER, ids_retired INTEGER, seconds DOUBLE)""")
    con.execute(f"CREATE TABLE {ws}.model (run_id INTEGER, signature VARCHAR, model_json VARCHAR)")
    con.execute(f"""
        CREATE TABLE {ws}.id_registry (
            child_id VARCHAR PRIMARY KEY, serial BIGINT NOT NULL UNIQUE, status VARCHAR NOT NULL,
            current_id VARCHAR, created_run INTEGER, ended_run INTEGER, records INTEGER)""")
    con.execute(f"""
        CREATE TABLE {ws}.id_lineage (
            run_id INTEGER, child_id VARCHAR, event VARCHAR, other_id VARCHAR, records INTEGER)""")


# MIGRATIONS[v] brings a workspace from schema version v to v + 1 (0 = a new, empty file).
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection, str], None]] = {0: _create_version_1}
SCHEMA_VERSION = max(MIGRATIONS) + 1


def schema_version(con: duckdb.DuckDBPyConnection, ws: str = ALIAS) -> int:
    """The schema version of the attached workspace ``ws`` (0 for a new, empty file)."""
    has_meta = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'meta'",
                           [ws]).fetchall()[0][0]
    if not has_meta:
        return 0
    row = con.execute(f"SELECT value FROM {ws}.meta WHERE key = 'schema_version'").fetchall()
    return int(row[0][0]) if row else 0


def _migrate(con: duckdb.DuckDBPyConnection, ws: str, path: Path) -> None:
    """Bring the attached workspace up to SCHEMA_VERSION, in one transaction."""
    version = schema_version(con, ws)
    if version == 0 and _has_any_table(con, ws):
        raise ChildlinkError("is a DuckDB database but not a childlink workspace; it was left as it is",
                             file=str(path))
    if version > SCHEMA_VERSION:
        raise ChildlinkError(f"the workspace has schema version {version}, newer than this childlink "
                             f"understands (up to {SCHEMA_VERSION}); use a newer childlink", file=str(path))
    if version == SCHEMA_VERSION:
        return
    with transaction(con):
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](con, ws)
        con.execute(f"INSERT OR REPLACE INTO {ws}.meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


# ------------------------------------------------------------------ attaching the file
def _attach(con: duckdb.DuckDBPyConnection, path: Path, ws: str, read_only: bool, wait: float) -> None:
    """ATTACH, waiting while another process holds the file."""
    mode = " (READ_ONLY)" if read_only else ""
    deadline = time.monotonic() + wait
    while True:
        try:
            con.execute(f"ATTACH '{_sql_path(path)}' AS {ws}{mode}")
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise ChildlinkError("cannot open the workspace (not a childlink workspace, or damaged)",
                                     file=str(path)) from None
            if time.monotonic() >= deadline:
                raise ChildlinkError("the workspace is in use by another childlink run; try again when it "
                                     "has finished", file=str(path)) from None
            time.sleep(_LOCK_POLL_SECONDS)
        except duckdb.Error:
            raise ChildlinkError("cannot open the workspace (not a childlink workspace, or damaged)",
                                 file=str(path)) from None


def _has_any_table(con: duckdb.DuckDBPyConnection, ws: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ?", [ws]).fetchall()[0][0])


def _damage(exc: duckdb.Error) -> str | None:
    """What went wrong with the workspace file itself (a failing disk, a damaged block), if that is
    what ``exc`` says; None for any other error (a bug, which must stay visible as one)."""
    text = str(exc)
    if "Corrupt database" in text or "checksum" in text:
        return "is damaged (a block fails its checksum); restore it from a backup"
    if "Could not read enough bytes" in text:
        return "is damaged (shorter than it should be: truncated?); restore it from a backup"
    from .outputs import IO_ERRORS

    # DuckDB reports a failing write as an IOException, or as a failed commit naming the OS error.
    for code in IO_ERRORS:
        if os.strerror(code) in text:
            return f"cannot be read or written ({os.strerror(code)}); nothing of this run was saved in it"
    if isinstance(exc, duckdb.IOException):
        return "cannot be read (input/output error); it may be damaged: restore it from a backup"
    return None


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


@contextlib.contextmanager
def attached(con: duckdb.DuckDBPyConnection, path: str | Path, *, read_only: bool = False,
             wait: float = LOCK_WAIT_SECONDS) -> Iterator[str]:
    """Attach the workspace file at ``path`` to ``con`` for the block; yields its alias (``ws``).

    Read-write attaches create the file (and folder) when missing; both kinds migrate an older
    schema first and refuse a newer one. Read-only attach of a missing file is an error.
    """
    path = Path(path)
    if read_only and not path.is_file():
        raise ChildlinkError("no workspace yet: run 'childlink link' on the job first", file=str(path))
    if not read_only:
        try:    # the workspace holds children's records: owner only, like the outputs
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ChildlinkError(f"cannot create the workspace folder ({exc.strerror})",
                                 file=str(path.parent)) from None
    _attach(con, path, ALIAS, read_only, wait)
    if not read_only:
        with contextlib.suppress(OSError):      # a file someone else owns keeps its mode
            os.chmod(path, 0o600)
    try:
        version = schema_version(con, ALIAS)
        if version != SCHEMA_VERSION:
            if read_only and version < SCHEMA_VERSION:
                # Migrating needs write access: reattach briefly to migrate, then read.
                con.execute(f"DETACH {ALIAS}")
                _attach(con, path, ALIAS, False, wait)
                _migrate(con, ALIAS, path)
                con.execute(f"DETACH {ALIAS}")
                _attach(con, path, ALIAS, True, wait)
            else:
                _migrate(con, ALIAS, path)
        yield ALIAS
    except duckdb.Error as exc:
        damage = _damage(exc)
        if damage is None:
            raise
        raise ChildlinkError(f"the workspace {damage}", file=str(path)) from None
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute(f"DETACH {ALIAS}")


def check_job_state(job) -> None:
    """Fail now, with one clear line, if the job's workspace or review decisions file exists but
    cannot be used (damaged, foreign, from a newer childlink): before a long run does its work,
    not at its end. A quick look (the schema, not every block); a later read still checks the rest."""
    path = workspace_file(job)
    if path.is_file():
        con = duckdb.connect()
        try:
            with attached(con, path, read_only=True) as ws:
                last_run_id(con, ws)
        finally:
            con.close()
    from .review.store import STORE_NAME, DecisionStore   # the store's own checks

    if (Path(job.workspace_dir) / STORE_NAME).is_file():
        DecisionStore.for_job(job, create=False)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN ... COMMIT, rolled back if the block fails: all of the block's writes or none."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    checkpoint("workspace-save")   # tests: killed with every write done but not committed
    con.execute("COMMIT")


def has_table(con: duckdb.DuckDBPyConnection, ws: str, table: str) -> bool:
    """Whether the attached workspace ``ws`` holds ``table``."""
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
                            [ws, table]).fetchall()[0][0])


def meta_value(con: duckdb.DuckDBPyConnection, ws: str, key: str) -> str | None:
    row = con.execute(f"SELECT value FROM {ws}.meta WHERE key = ?", [key]).fetchall()
    return row[0][0] if row else None


def last_run_id(con: duckdb.DuckDBPyConnection, ws: str) -> int:
    """The id of the workspace's latest run (0 when no run has been saved)."""
    return con.execute(f"SELECT coalesce(max(run_id), 0) FROM {ws}.runs").fetchall()[0][0]

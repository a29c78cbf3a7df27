"""The decision store: every clerical decision as an event in SQLite (``review.sqlite``).

Why SQLite: the review server writes while ``childlink link`` reads, in another process;
SQLite in WAL mode lets readers and one writer work at once, and each decision is one
transaction with ``synchronous=FULL``, so a crash or a closed tab loses nothing committed.

Decisions are keyed by the two records (source, record_id) in a canonical order, never by
run, so they survive relinking. Nothing is deleted: an undo is an event of its own that
reverts the pair's latest live decision, and the history stays.

Optimistic concurrency: each pair has a version (its number of events). A client sends the
version it saw; if another reviewer has written since, the write is refused with
``StaleDecision`` (HTTP 409 in the app) instead of silently overwriting.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from ..errors import ChildlinkError
from ..faults import checkpoint

SCHEMA_VERSION = 1
STORE_NAME = "review.sqlite"

# What a reviewer can say about a pair, and how the app words it.
DECISIONS = {"same": "same child", "different": "different children", "not_sure": "not sure"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    event_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_a          TEXT NOT NULL,
    record_id_a       TEXT NOT NULL,
    source_b          TEXT NOT NULL,
    record_id_b       TEXT NOT NULL,
    version           INTEGER NOT NULL,        -- the pair's version after this event (1, 2, ...)
    action            TEXT NOT NULL CHECK (action IN ('same', 'different', 'not_sure', 'undo')),
    decision          TEXT CHECK (decision IN ('same', 'different', 'not_sure')),  -- the pair's state after it
    reverts           INTEGER REFERENCES events(event_id),   -- for an undo: the event it reverted
    reviewer          TEXT NOT NULL,
    decided_at        TEXT NOT NULL,           -- ISO 8601, UTC
    match_probability REAL,                    -- the pair's scores when it was decided
    match_weight      REAL,
    note              TEXT,
    blind             INTEGER NOT NULL DEFAULT 0,   -- decided without seeing the model's score
    UNIQUE (source_a, record_id_a, source_b, record_id_b, version)
);
CREATE INDEX IF NOT EXISTS events_by_pair ON events (source_a, record_id_a, source_b, record_id_b);
"""


@dataclass(frozen=True, order=True)
class PairKey:
    """Two records in canonical order: (source_a, record_id_a) <= (source_b, record_id_b)."""

    source_a: str
    record_id_a: str
    source_b: str
    record_id_b: str

    @classmethod
    def of(cls, source_1: str, record_id_1: str, source_2: str, record_id_2: str) -> "PairKey":
        one, two = (str(source_1), str(record_id_1)), (str(source_2), str(record_id_2))
        if one == two:
            raise ValueError("a pair needs two different records")
        (sa, ra), (sb, rb) = sorted((one, two))
        return cls(sa, ra, sb, rb)

    def params(self) -> tuple[str, str, str, str]:
        return (self.source_a, self.record_id_a, self.source_b, self.record_id_b)


@dataclass(frozen=True)
class PairState:
    """A pair's current decision (None when undecided or undone) and its version."""

    decision: str | None
    version: int
    reviewer: str | None = None
    decided_at: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Event:
    event_id: int
    version: int
    action: str
    decision: str | None
    reviewer: str
    decided_at: str
    match_probability: float | None
    note: str | None
    blind: bool


class StaleDecision(Exception):
    """Another reviewer changed the pair since this client saw it."""

    def __init__(self, seen: int, current: PairState):
        self.seen, self.current = seen, current
        who = f" by {current.reviewer}" if current.reviewer else ""
        now = DECISIONS.get(current.decision or "", "undecided")
        super().__init__(f"this pair was changed{who} after you opened it (it is now: {now}); "
                         "your decision was not saved. Look at it again and decide.")


_PAIR = "source_a = ? AND record_id_a = ? AND source_b = ? AND record_id_b = ?"
# SQLite's words for a damaged file or a failing disk, and what to tell the user.
_SQLITE_PROBLEMS = {
    "not a database": "is not a review decisions database (damaged, or another kind of file)",
    "malformed": "is damaged (SQLite: malformed database); restore it from a backup",
    "disk I/O error": "cannot be read or written (disk I/O error)",
    "database or disk is full": "cannot be written: the disk is full",
    "readonly database": "cannot be written: the file or its folder is read-only",
}


def _create_owner_only(path: Path) -> None:
    """Create the store file readable by its owner only, like every output: reviewers' notes may name
    the child. SQLite gives its -wal and -shm files the database file's mode. (An empty file is an
    empty database.)"""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        pass   # it exists already; or SQLite's own attempt next reports the problem in plain words


class DecisionStore:
    """The review decisions of one job, in ``<workspace>/review.sqlite``."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not self.path.is_file() and not create:
            raise ChildlinkError("no review decisions yet (run 'childlink review serve' first)", file=str(self.path))
        if create:
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise ChildlinkError(f"cannot create the workspace folder ({exc.strerror})",
                                     file=str(self.path.parent)) from None
            _create_owner_only(self.path)
        with self._connect() as con:
            self._check_version(con)   # before writing anything: a newer or foreign file stays as it is
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            self._stamp_version(con)

    @classmethod
    def for_job(cls, job, *, create: bool = True) -> "DecisionStore":
        """The store in ``job.workspace_dir``."""
        return cls(Path(job.workspace_dir) / STORE_NAME, create=create)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: the web server calls from several threads.
        try:
            con = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        except sqlite3.Error:
            raise ChildlinkError("cannot open the review decisions database", file=str(self.path)) from None
        try:
            con.execute("PRAGMA synchronous=FULL")
            yield con
        except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:   # pandas wraps SQLite's errors
            for phrase, problem in _SQLITE_PROBLEMS.items():
                if phrase in str(exc):
                    raise ChildlinkError(problem, file=str(self.path)) from None
            raise
        finally:
            con.close()

    def _check_version(self, con: sqlite3.Connection) -> None:
        """Refuse a store from another childlink version, or an SQLite file that is no store at all."""
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return   # a new, empty file
        if "schema_version" not in tables:
            raise ChildlinkError("is an SQLite database but not a review decisions database; it was left as it is",
                                 file=str(self.path))
        rows = con.execute("SELECT version FROM schema_version").fetchall()
        if rows and rows[0][0] > SCHEMA_VERSION:
            raise ChildlinkError(f"has schema version {rows[0][0]}, newer than this childlink reads (up to "
                                 f"{SCHEMA_VERSION}); use a newer childlink", file=str(self.path))
        if rows and rows[0][0] != SCHEMA_VERSION:
            raise ChildlinkError(f"has schema version {rows[0][0]}; this childlink reads version {SCHEMA_VERSION}",
                                 file=str(self.path))

    @staticmethod
    def _stamp_version(con: sqlite3.Connection) -> None:
        con.execute("BEGIN IMMEDIATE")   # two processes may create the store at once
        if not con.execute("SELECT version FROM schema_version").fetchall():
            con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        con.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def _state(con: sqlite3.Connection, key: PairKey) -> PairState:
        row = con.execute(f"""SELECT decision, version, reviewer, decided_at, note FROM events WHERE {_PAIR}
                              ORDER BY version DESC LIMIT 1""", key.params()).fetchone()
        return PairState(*row) if row else PairState(None, 0)

    def state(self, key: PairKey) -> PairState:
        with self._connect() as con:
            return self._state(con, key)

    def history(self, key: PairKey) -> list[Event]:
        """Every event of the pair, oldest first."""
        with self._connect() as con:
            rows = con.execute(f"""SELECT event_id, version, action, decision, reviewer, decided_at,
                                          match_probability, note, blind
                                   FROM events WHERE {_PAIR} ORDER BY version""", key.params()).fetchall()
        return [Event(*r[:-1], blind=bool(r[-1])) for r in rows]

    def current(self) -> pd.DataFrame:
        """One row per pair ever decided: its current decision (None if undone), version, and the
        latest live decision's reviewer, time, scores, note and blind flag."""
        with self._connect() as con:
            frame = pd.read_sql_query("""
                WITH latest AS (
                    SELECT *, row_number() OVER (PARTITION BY source_a, record_id_a, source_b, record_id_b
                                                 ORDER BY version DESC) AS rn
                    FROM events)
                SELECT source_a, record_id_a, source_b, record_id_b, decision, version, reviewer, decided_at,
                       match_probability, match_weight, note, blind
                FROM latest WHERE rn = 1
                ORDER BY source_a, record_id_a, source_b, record_id_b""", con)
        frame["blind"] = frame["blind"].astype(bool)
        return frame

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _write(self, key: PairKey, seen_version: int) -> Iterator[tuple[sqlite3.Connection, PairState]]:
        """A write transaction on one pair, refused if the pair moved past ``seen_version``."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")   # take the write lock before reading the version
            try:
                state = self._state(con, key)
                if state.version != seen_version:
                    raise StaleDecision(seen_version, state)
                yield con, state
                checkpoint("review-decision")   # tests: killed before the decision is committed
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def decide(self, key: PairKey, decision: str, *, seen_version: int, reviewer: str,
               match_probability: float | None = None, match_weight: float | None = None,
               note: str | None = None, blind: bool = False) -> PairState:
        """Record ``decision`` on the pair; returns its new state. Raises StaleDecision."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        reviewer = _reviewer(reviewer)
        with self._write(key, seen_version) as (con, state):
            con.execute("""INSERT INTO events (source_a, record_id_a, source_b, record_id_b, version, action,
                                               decision, reviewer, decided_at, match_probability, match_weight,
                                               note, blind)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (*key.params(), state.version + 1, decision, decision, reviewer, _now(),
                         _float(match_probability), _float(match_weight), (note or "").strip() or None, int(blind)))
        return self.state(key)

    def undo(self, key: PairKey, *, seen_version: int, reviewer: str) -> PairState:
        """Revert the pair's latest live decision (an event; the history stays). Raises StaleDecision,
        or ValueError when there is nothing to undo."""
        reviewer = _reviewer(reviewer)
        with self._write(key, seen_version) as (con, state):
            live = con.execute(f"""
                SELECT event_id FROM events e WHERE {_PAIR} AND action <> 'undo'
                  AND NOT EXISTS (SELECT 1 FROM events u WHERE u.reverts = e.event_id)
                ORDER BY version DESC LIMIT 2""", key.params()).fetchall()
            if not live:
                raise ValueError("nothing to undo")
            before = None
            if len(live) > 1:   # the decision that stands once the latest is reverted
                before = con.execute("SELECT decision FROM events WHERE event_id = ?", (live[1][0],)).fetchone()[0]
            con.execute("""INSERT INTO events (source_a, record_id_a, source_b, record_id_b, version, action,
                                               decision, reverts, reviewer, decided_at)
                           VALUES (?, ?, ?, ?, ?, 'undo', ?, ?, ?, ?)""",
                        (*key.params(), state.version + 1, before, live[0][0], reviewer, _now()))
        return self.state(key)


def _reviewer(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValueError("a decision needs the reviewer's name")
    return name[:100]


def _float(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

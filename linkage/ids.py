"""Persistent child IDs: the registry, minting, mapping new identities onto old IDs, lineage.

A ``child_id`` is what an officer writes in a case file, so it must outlive any one run.

**Format.** ``C`` + 10 characters of Crockford's base32 (digits and capitals without I, L, O,
U), e.g. ``C7K2M9QX4TB``. IDs are minted from a serial number kept in the workspace's registry
through a keyed hash, ``sha256(key || ':' || serial)``, read as 50 bits. So an ID

- carries no personal data (it is computed from a counter, never from a record);
- is opaque (neither the order of minting nor the number of children can be read from it);
- is deterministic: the key is derived once, when the workspace is created, from the job's home
  LA and seed (``linkage.seed``), and stored in the workspace; a fresh workspace with the same
  job and data mints the same IDs (a cryptographically random key would not);
- is never reused: serials only grow, and a digest that repeats any ID ever issued is skipped.

**Following the data.** Each run's identities are mapped onto the previous run's IDs by the
overlap of their records, keyed by (source, record_id), in SQL:

- each previous ID *claims* the new identity holding most of its previous records (a split
  keeps the ID on the part with most previous records);
- each new identity goes to the strongest claimant: most of its records, then the larger
  previous identity, then the older ID (a merge keeps the larger, or older, identity's ID);
  the other claimants become *aliases* (status ``merged``, ``current_id`` = the winner);
- identities nobody claims get new IDs (new children, and the parts split off);
- previous IDs none of whose records remain are ``retired``.

Every change is written to ``id_lineage`` for ``childlink ids history``; ``resolve`` turns a
retired or merged ID into the current one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import pandas as pd

from .errors import ChildlinkError
from .job import Job
from .workspace import attached, has_table, meta_value, open_workspace, workspace_file

ID_PREFIX = "C"
ID_CHARACTERS = 10
# Crockford's base32: no I, L, O or U, so an ID read over the phone is not misheard.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_KEY_NAME = "id_key"


@dataclass(frozen=True)
class IdChanges:
    """How the run's identities relate to the previous run's IDs (counts of IDs)."""

    created: int = 0     # new children: identities with no previous record
    kept: int = 0        # previous IDs carried by an identity of this run
    merged: int = 0      # previous IDs that became aliases of another ID
    split: int = 0       # new IDs for parts split off a previous identity
    retired: int = 0     # previous IDs none of whose records remain

    def summary(self) -> str:
        return (f"IDs: {self.kept} kept, {self.created} new, {self.split} split off, "
                f"{self.merged} merged, {self.retired} retired")


def id_key(home_la: str, seed: int) -> str:
    """The minting key of a new workspace: derived from the job, so runs are reproducible."""
    return hashlib.sha256(f"childlink child_id key|{home_la}|{seed}".encode()).hexdigest()


def read_id_key(con: duckdb.DuckDBPyConnection, ws: str, home_la: str, seed: int) -> tuple[str, bool]:
    """The workspace's minting key, and whether it is new (to be stored with the run's state).

    Once stored it never changes, whatever later job files say: IDs already issued stay valid.
    """
    key = meta_value(con, ws, _KEY_NAME)
    return (key, False) if key is not None else (id_key(home_la, seed), True)


def store_id_key(con: duckdb.DuckDBPyConnection, ws: str, key: str) -> None:
    con.execute(f"INSERT INTO {ws}.meta VALUES (?, ?)", [_KEY_NAME, key])


def mint_sql(key: str, serial: str) -> str:
    """SQL for the child_id of the BIGINT expression ``serial`` under ``key`` (a hex string)."""
    if not all(c in "0123456789abcdef" for c in key):
        raise ValueError("the ID key must be a hex string")
    digest_bits = f"(('0x' || substr(sha256('{key}:' || CAST({serial} AS VARCHAR)), 1, 13))::BIGINT)"
    chars = (f"list_transform(range({ID_CHARACTERS}), lambda i: substr('{ALPHABET}', "
             f"(({digest_bits} >> (5 * ({ID_CHARACTERS - 1} - i))) & 31)::INTEGER + 1, 1))")
    return f"'{ID_PREFIX}' || array_to_string({chars}, '')"


def mint_one(key: str, serial: int) -> str:
    """The child_id of one serial (the Python twin of ``mint_sql``, for tests and tools)."""
    bits = int(hashlib.sha256(f"{key}:{serial}".encode()).hexdigest()[:13], 16)
    return ID_PREFIX + "".join(ALPHABET[(bits >> (5 * (ID_CHARACTERS - 1 - i))) & 31]
                               for i in range(ID_CHARACTERS))


# ------------------------------------------------------------------ the registry in memory
def load_registry(con: duckdb.DuckDBPyConnection, ws: str) -> None:
    """Copy the workspace's registry and last identities into memory (``_registry``, ``_prev``)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _registry AS SELECT * FROM {ws}.id_registry")
    if has_table(con, ws, "identities"):
        con.execute(f"CREATE OR REPLACE TEMP TABLE _prev AS SELECT source, record_id, child_id FROM {ws}.identities")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _prev (source VARCHAR, record_id VARCHAR, child_id VARCHAR)")


def _mint(con: duckdb.DuckDBPyConnection, key: str, wanted: str, out: str) -> None:
    """Table ``out`` (ordinal, serial, child_id): a fresh ID for each ordinal 1..n of table
    ``wanted``, serials continuing the registry's, skipping any digest already issued."""
    n = con.execute(f"SELECT count(*) FROM {wanted}").fetchall()[0][0]
    start = con.execute("SELECT coalesce(max(serial), 0) + 1 FROM _registry").fetchall()[0][0]
    margin = 16 + n // 1000     # 50-bit digests: a repeat is rare, a few spare serials suffice
    while True:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {out} AS
            WITH candidates AS (
                SELECT serial, {mint_sql(key, 'serial')} AS child_id FROM range({start}, {start + n + margin}) t(serial)
            ), fresh AS (
                SELECT * FROM candidates c
                WHERE NOT EXISTS (SELECT 1 FROM _registry r WHERE r.child_id = c.child_id)
                QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY serial) = 1
            )
            SELECT row_number() OVER (ORDER BY serial) AS ordinal, serial, child_id FROM fresh
            QUALIFY ordinal <= {n}
        """)
        if con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0] == n:
            return
        margin *= 4


# ------------------------------------------------------------------ mapping
def _overlaps(con: duckdb.DuckDBPyConnection, clusters: str, records: str) -> None:
    """``_cur`` (source, record_id, identity), ``_overlap`` (identity, child_id, n) and each previous
    ID's claim and each identity's winner."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _cur AS
                    SELECT r.source, r.record_id, c.identity FROM {clusters} c JOIN {records} r USING (rec_key)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _overlap AS
                   SELECT c.identity, p.child_id, count(*) AS n
                   FROM _cur c JOIN _prev p USING (source, record_id) GROUP BY ALL""")
    # Each previous ID claims the identity holding most of its previous records.
    con.execute("""CREATE OR REPLACE TEMP TABLE _claims AS
                   SELECT o.identity, o.child_id, o.n, s.n_prev, g.serial FROM _overlap o
                   JOIN (SELECT child_id, count(*) AS n_prev FROM _prev GROUP BY ALL) s USING (child_id)
                   JOIN _registry g USING (child_id)
                   QUALIFY row_number() OVER (PARTITION BY o.child_id ORDER BY o.n DESC, o.identity) = 1""")
    # The strongest claimant wins: most records carried over, then the larger, then the older ID.
    con.execute("""CREATE OR REPLACE TEMP TABLE _claims AS
                   SELECT *, row_number() OVER (PARTITION BY identity ORDER BY n DESC, n_prev DESC, serial) = 1
                             AS wins
                   FROM _claims""")


def _assign(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """``_assigned`` (identity, child_id, minted): the winner's ID, or a new one in identity order."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _unclaimed AS
                   SELECT identity, row_number() OVER (ORDER BY identity) AS ordinal
                   FROM (SELECT DISTINCT identity FROM _cur) i
                   WHERE identity NOT IN (SELECT identity FROM _claims WHERE wins)""")
    _mint(con, key, "_unclaimed", "_minted")
    con.execute("""CREATE OR REPLACE TEMP TABLE _assigned AS
                   SELECT identity, child_id, NULL::BIGINT AS serial FROM _claims WHERE wins
                   UNION ALL
                   SELECT u.identity, m.child_id, m.serial FROM _unclaimed u JOIN _minted m USING (ordinal)""")


def _lineage(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """``_lineage_new``: this run's events, one row per (child_id, event, other_id)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _lineage_new AS
        WITH sizes AS (SELECT identity, count(*) AS n FROM _cur GROUP BY ALL),
        parent AS (     -- for a new ID, the previous ID most of its records came from
            SELECT o.identity, o.child_id, o.n FROM _overlap o
            QUALIFY row_number() OVER (PARTITION BY o.identity ORDER BY o.n DESC, o.child_id) = 1
        ), moved AS (   -- per kept ID: records new to it, and previous records it no longer holds
            SELECT w.child_id, s.n - w.n AS gained, w.n_prev - w.n AS lost
            FROM _claims w JOIN sizes s USING (identity) WHERE w.wins
        )
        SELECT {run_id} AS run_id, a.child_id, 'created' AS event, NULL AS other_id, s.n AS records
        FROM _assigned a JOIN sizes s USING (identity) LEFT JOIN parent p USING (identity)
        WHERE a.serial IS NOT NULL AND p.child_id IS NULL
        UNION ALL
        SELECT {run_id}, a.child_id, 'split_from', p.child_id, p.n
        FROM _assigned a JOIN parent p USING (identity) WHERE a.serial IS NOT NULL
        UNION ALL
        SELECT {run_id}, p.child_id, 'split_off', a.child_id, p.n
        FROM _assigned a JOIN parent p USING (identity) WHERE a.serial IS NOT NULL
        UNION ALL
        SELECT {run_id}, w.child_id, 'absorbed', l.child_id, l.n
        FROM _claims l JOIN _claims w ON w.identity = l.identity AND w.wins WHERE NOT l.wins
        UNION ALL
        SELECT {run_id}, l.child_id, 'merged_into', w.child_id, l.n
        FROM _claims l JOIN _claims w ON w.identity = l.identity AND w.wins WHERE NOT l.wins
        UNION ALL
        SELECT {run_id}, child_id, 'gained', NULL, gained FROM moved WHERE gained > 0
        UNION ALL
        SELECT {run_id}, child_id, 'lost', NULL, lost FROM moved WHERE lost > 0
        UNION ALL
        SELECT {run_id}, p.child_id, 'retired', NULL, count(*) FROM _prev p
        WHERE p.child_id NOT IN (SELECT child_id FROM _overlap) GROUP BY ALL
        ORDER BY 2, 3, 4
    """)


def _update_registry(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """Apply this run's outcome to ``_registry`` (set-based)."""
    con.execute(f"""
        INSERT INTO _registry (child_id, serial, status, current_id, created_run, ended_run, records)
        SELECT child_id, serial, 'active', child_id, {run_id}, NULL, 0 FROM _assigned WHERE serial IS NOT NULL""")
    # Merged IDs, and the aliases that pointed at them, now point at the winner.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _merges AS
        SELECT l.child_id AS loser, w.child_id AS winner FROM _claims l JOIN _claims w
          ON w.identity = l.identity AND w.wins WHERE NOT l.wins""")
    con.execute(f"""UPDATE _registry SET status = 'merged', current_id = m.winner, ended_run = {run_id}, records = 0
                    FROM _merges m WHERE _registry.child_id = m.loser""")
    con.execute("""UPDATE _registry SET current_id = m.winner FROM _merges m
                   WHERE _registry.status = 'merged' AND _registry.current_id = m.loser""")
    con.execute(f"""UPDATE _registry SET status = 'retired', current_id = NULL, ended_run = {run_id}, records = 0
                    WHERE status = 'active' AND child_id NOT IN (SELECT child_id FROM _assigned)""")
    con.execute("""UPDATE _registry SET records = s.n
                   FROM (SELECT a.child_id, count(*) AS n FROM _assigned a JOIN _cur c USING (identity) GROUP BY ALL) s
                   WHERE _registry.child_id = s.child_id""")


def assign_child_ids(con: duckdb.DuckDBPyConnection, key: str, run_id: int, *, clusters: str = "clusters",
                     records: str = "link_input", out: str = "identities") -> IdChanges:
    """Give each identity of ``clusters`` its persistent child_id, in table ``out``.

    Needs ``_registry`` and ``_prev`` in ``con`` (``load_registry``); updates ``_registry`` and
    writes this run's events to ``_lineage_new``. ``out`` has the columns the contract's
    identities output is exported from, plus rec_key.
    """
    _overlaps(con, clusters, records)
    _assign(con, key)
    _lineage(con, run_id)
    _update_registry(con, run_id)
    con.execute(f"""
        CREATE OR REPLACE TABLE {out} AS
        SELECT r.source, r.record_id, a.child_id, round(c.confidence, 6) AS confidence, c.cluster_size,
               c.needs_review, c.review_reason, r.rec_key
        FROM {clusters} c JOIN {records} r USING (rec_key) JOIN _assigned a USING (identity)
        ORDER BY r.rec_key
    """)
    counts = dict(con.execute("SELECT event, count(DISTINCT child_id) FROM _lineage_new GROUP BY ALL").fetchall())
    kept = con.execute("SELECT count(*) FROM _assigned WHERE serial IS NULL").fetchall()[0][0]
    return IdChanges(created=counts.get("created", 0), kept=kept, merged=counts.get("merged_into", 0),
                     split=counts.get("split_from", 0), retired=counts.get("retired", 0))


# ------------------------------------------------------------------ lookups
@dataclass(frozen=True)
class Resolution:
    child_id: str              # the ID asked about
    status: str                # active, merged or retired
    current_id: str | None     # the ID to use now (None when the child's records are all gone)
    records: int               # records the current ID holds

    def describe(self) -> str:
        if self.status == "active":
            return f"{self.child_id} is current ({self.records} records)"
        if self.current_id is None:
            return f"{self.child_id} is retired: none of its records remain"
        return f"{self.child_id} was merged; use {self.current_id} ({self.records} records)"


def resolve(con: duckdb.DuckDBPyConnection, ws: str, child_id: str) -> Resolution:
    """The current ID for ``child_id`` (itself, the ID it was merged into, or none if retired)."""
    row = con.execute(f"""
        SELECT r.status, CASE WHEN t.status = 'active' THEN t.child_id END, coalesce(t.records, 0)
        FROM {ws}.id_registry r LEFT JOIN {ws}.id_registry t ON t.child_id = r.current_id
        WHERE r.child_id = ?""", [child_id.strip().upper()]).fetchall()
    if not row:
        raise ChildlinkError("no such child_id in this workspace", column="child_id")
    status, current, records = row[0]
    return Resolution(child_id=child_id.strip().upper(), status=status, current_id=current, records=records)


def history(con: duckdb.DuckDBPyConnection, ws: str, child_id: str) -> tuple[Resolution, pd.DataFrame]:
    """Every lineage event of ``child_id`` and of the IDs merged into it, oldest first, with run times."""
    resolution = resolve(con, ws, child_id)
    ids = {resolution.child_id} | ({resolution.current_id} if resolution.current_id else set())
    placeholders = ", ".join("?" for _ in ids)
    events = con.execute(f"""
        SELECT l.run_id, r.finished_at, l.child_id, l.event, l.other_id, l.records
        FROM {ws}.id_lineage l LEFT JOIN {ws}.runs r USING (run_id)
        WHERE l.child_id IN ({placeholders})
        ORDER BY l.run_id, l.child_id, l.event, l.other_id""", sorted(ids)).fetchdf()
    return resolution, events


_EVENT_TEXT = {
    "created": "created with {records} record(s)",
    "split_from": "created from {records} record(s) split off {other}",
    "split_off": "{records} record(s) split off into {other}",
    "absorbed": "absorbed {other} ({records} record(s))",
    "merged_into": "merged into {other} ({records} record(s)); {other} is used instead",
    "gained": "gained {records} record(s)",
    "lost": "lost {records} record(s)",
    "retired": "retired: its {records} record(s) are gone",
}


def child_id_history(job: Job, child_id: str) -> str:
    """``childlink ids history``: the resolution of ``child_id`` and its lineage, as text."""
    con = open_workspace()
    with attached(con, workspace_file(job), read_only=True) as ws:
        resolution, events = history(con, ws, child_id)
    con.close()
    lines = [resolution.describe()]
    for e in events.itertuples(index=False):     # one line per event of one or two IDs
        when = f" ({e.finished_at:%Y-%m-%d %H:%M})" if e.finished_at is not None else ""
        text = _EVENT_TEXT.get(e.event, e.event).format(records=e.records, other=e.other_id)
        lines.append(f"  run {e.run_id}{when}: {e.child_id} {text}")
    return "\n".join(lines)

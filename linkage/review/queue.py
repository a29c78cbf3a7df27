"""The review queue of a link run: which pairs an officer should look at, most consequential first.

A pair is queued when
- its match probability is inside the job's review band, or
- its identity is flagged ``needs_review``: the identity's weakest link (the pair at or above the
  threshold most likely to be wrong), and any pair above the band that clustering kept apart
  (a conflict split it), or
- an officer already decided it (so it can be seen and undone).
Order: pairs touching a CME case record, then pairs touching the identity of a CME case (their
records decide where the trace sends the case), then the rest; within each, the most uncertain
first (match weight nearest 0, i.e. probability nearest 50%). Items are numbered in that order;
the number is what URLs and the server log use, never a record ID.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from ..errors import ChildlinkError
from ..score import COMPARISON_NAMES

QUEUE = "review_queue"
RUN_PAIRS = "review_run_pairs"
RUN_IDENTITIES = "review_run_identities"

PRIORITY_LABELS = {0: "CME case record", 1: "identity of a CME case", 2: ""}
PAIR_COLUMNS = ("source_l", "record_id_l", "source_r", "record_id_r", "match_weight", "match_probability")
IDENTITY_COLUMNS = ("source", "record_id", "child_id", "needs_review", "review_reason")


def _parquet(con, path: Path, columns: tuple[str, ...]) -> str:
    if not path.is_file():
        raise ChildlinkError("not found: is this the output folder of `childlink link`?", file=str(path))
    source = "read_parquet('" + str(path).replace("'", "''") + "')"
    try:
        present = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
    except duckdb.Error:
        raise ChildlinkError("is not a readable Parquet file", file=str(path)) from None
    missing = [c for c in columns if c not in present]
    if missing:
        raise ChildlinkError("lacks a required column", file=str(path), column=missing[0])
    return source


def load_run(con: duckdb.DuckDBPyConnection, run_dir: str | Path) -> None:
    """Tables of the run's pairs and identities; refuses a run made from other data than ``std_records``."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ChildlinkError("run folder not found", file=str(run_dir))
    pairs = _parquet(con, run_dir / "pairs.parquet",
                     PAIR_COLUMNS + tuple(f"{p}_{n}" for n in COMPARISON_NAMES for p in ("gamma", "mw")))
    ids = _parquet(con, run_dir / "identities.parquet", IDENTITY_COLUMNS)
    con.execute(f"create or replace table {RUN_PAIRS} as select * from {pairs}")
    con.execute(f"create or replace table {RUN_IDENTITIES} as select {', '.join(IDENTITY_COLUMNS)} from {ids}")
    unknown, unlinked = con.execute(f"""
        select (select count(*) from {RUN_IDENTITIES} i anti join std_records s using (source, record_id)),
               (select count(*) from std_records s anti join {RUN_IDENTITIES} i using (source, record_id))
    """).fetchall()[0]
    if unknown or unlinked:
        raise ChildlinkError(f"the run does not match the job's sources ({unlinked} record(s) of the job are not in "
                             f"its identities, {unknown} of its identities are not records of the job); "
                             "link the job again or pass the run made from this job",
                             file=str(run_dir / "identities.parquet"))


def _canonical(column: str, first: str, second: str) -> str:
    """SQL for ``column`` of the record that comes first (``first`` side) in (source, record_id) order."""
    return (f"case when (p.source_l, p.record_id_l) <= (p.source_r, p.record_id_r) "
            f"then p.{column}_{first} else p.{column}_{second} end")


def build_queue(con: duckdb.DuckDBPyConnection, *, review_band: tuple[float, float], match_threshold: float,
                decided: pd.DataFrame, has_cme_cases: bool) -> int:
    """Create table ``review_queue`` (one row per queued pair, numbered ``item`` from 1); returns its size.

    ``decided``: the store's current decisions (source_a, record_id_a, source_b, record_id_b, ...).
    """
    low, high = review_band
    cases = ("select distinct source, record_id from cme_cases" if has_cme_cases
             else "select null::varchar as source, null::varchar as record_id where false")
    con.register("_decided_keys", decided[["source_a", "record_id_a", "source_b", "record_id_b"]])
    try:
        con.execute(f"""
            create or replace table {QUEUE} as
            with p as (
                select p.*, il.child_id as child_l, ir.child_id as child_r,
                       il.needs_review or ir.needs_review as flagged,
                       coalesce(il.review_reason, ir.review_reason) as reason,
                       -- the pair's key as the decision store orders it (store.PairKey)
                       {_canonical('source', 'l', 'r')} as pair_sa, {_canonical('record_id', 'l', 'r')} as pair_ra,
                       {_canonical('source', 'r', 'l')} as pair_sb, {_canonical('record_id', 'r', 'l')} as pair_rb
                from {RUN_PAIRS} p
                join {RUN_IDENTITIES} il on il.source = p.source_l and il.record_id = p.record_id_l
                join {RUN_IDENTITIES} ir on ir.source = p.source_r and ir.record_id = p.record_id_r
            ), candidates as (
                select *, 'score in the review band' as why from p
                where match_probability between {low} and {high}
                union all
                select * exclude (rn), 'weakest link of an identity flagged for review' from (
                    select p.*, row_number() over (partition by child_l
                                                   order by match_probability, source_l, record_id_l,
                                                            source_r, record_id_r) as rn
                    from p where child_l = child_r and flagged and match_probability >= {match_threshold})
                where rn = 1
                union all
                select *, 'scored above the band but kept apart by a conflict' from p
                where child_l <> child_r and flagged and match_probability > {high}
                union all
                select p.*, 'decided earlier' from p
                semi join _decided_keys d
                  on d.source_a = p.pair_sa and d.record_id_a = p.pair_ra
                 and d.source_b = p.pair_sb and d.record_id_b = p.pair_rb
            ), queued as (   -- one row per pair, every reason it is here
                select * exclude (why, reason), string_agg(distinct why, '; ' order by why) as why,
                       any_value(reason) as identity_reason
                from candidates group by all
            ), case_records as ({cases}),
            case_children as (
                select distinct i.child_id from {RUN_IDENTITIES} i semi join case_records c using (source, record_id)
            )
            select row_number() over (order by priority, abs(match_weight), source_l, record_id_l,
                                               source_r, record_id_r) as item, *
            from (
                select q.*,
                       case when exists (select 1 from case_records c
                                         where (c.source = q.source_l and c.record_id = q.record_id_l)
                                            or (c.source = q.source_r and c.record_id = q.record_id_r)) then 0
                            when q.child_l in (select child_id from case_children)
                              or q.child_r in (select child_id from case_children) then 1
                            else 2 end as priority,
                       least(q.source_l, q.source_r) || ' / ' || greatest(q.source_l, q.source_r) as source_pair
                from queued q)
            order by item
        """)
    finally:
        con.unregister("_decided_keys")
    return con.execute(f"select count(*) from {QUEUE}").fetchall()[0][0]

"""The linked identities the trace reads, from a fresh link or from a run folder.

Either way the workspace ends up with two tables of one shape:

``trace_identities``  source, record_id, identity_id (the child_id), confidence
``trace_pairs``       source_l, record_id_l, source_r, record_id_r, match_probability; only the
                      scored pairs that touch a CME case record (the direct evidence a linked
                      record is the referred child), so a run's millions of pairs are never loaded
``trace_possible_matches``  the same columns: the scored pairs at or above the review band's low
                      end whose two records are in different identities (possible matches the
                      clustering did not take); the not-in-education list checks them for a
                      child who may be a pupil on roll under another child_id (check_first.py)
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..errors import ChildlinkError
from ..job import LinkageSettings
from ..standardise.sqltext import quote_table

IDENTITIES = "trace_identities"
PAIRS = "trace_pairs"
POSSIBLE_MATCHES = "trace_possible_matches"
DEFAULT_REVIEW_LOW = LinkageSettings().review_band[0]
CASES = "cme_cases"

RUN_IDENTITY_COLUMNS = ("source", "record_id", "child_id", "confidence")
RUN_PAIR_COLUMNS = ("source_l", "record_id_l", "source_r", "record_id_r", "match_probability")


def ensure_cases_table(con: duckdb.DuckDBPyConnection) -> None:
    """A job without a CME cases file still gets the proactive lists: give it an empty cases table."""
    con.execute(f"""CREATE TABLE IF NOT EXISTS {CASES}
                    (case_id VARCHAR, source VARCHAR, record_id VARCHAR, referral_date DATE)""")


def identities_from_link(con: duckdb.DuckDBPyConnection, *, review_low: float = DEFAULT_REVIEW_LOW) -> None:
    """Build the trace tables from a link run still open in ``con`` (identities, pairs, link_input);
    ``review_low`` is the job's review band low end (the least probability of a possible match)."""
    ensure_cases_table(con)
    con.execute(f"""
        CREATE OR REPLACE TABLE {IDENTITIES} AS
        SELECT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id,
               CAST(child_id AS VARCHAR) AS identity_id, CAST(confidence AS DOUBLE) AS confidence
        FROM identities
    """)
    pairs = """SELECT l.source AS source_l, l.record_id AS record_id_l, r.source AS source_r,
                      r.record_id AS record_id_r, CAST(p.match_probability AS DOUBLE) AS match_probability
               FROM pairs p JOIN link_input l ON l.rec_key = p.rec_key_l JOIN link_input r ON r.rec_key = p.rec_key_r"""
    _keep_case_pairs(con, pairs)
    _keep_possible_matches(con, pairs, review_low)


def identities_from_run(con: duckdb.DuckDBPyConnection, run_dir: Path, *,
                        review_low: float = DEFAULT_REVIEW_LOW) -> None:
    """Build the trace tables from a run folder's identities.parquet and pairs.parquet.

    ``std_records`` must already hold the job's records (``linkage.prepare.prepare``); a run made
    from other data is refused, since its identities would not describe these records.
    """
    ensure_cases_table(con)
    identities = _run_file(con, run_dir / "identities.parquet", RUN_IDENTITY_COLUMNS)
    pairs_file = _run_file(con, run_dir / "pairs.parquet", RUN_PAIR_COLUMNS)
    con.execute(f"""
        CREATE OR REPLACE TABLE {IDENTITIES} AS
        SELECT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id,
               CAST(child_id AS VARCHAR) AS identity_id, CAST(confidence AS DOUBLE) AS confidence
        FROM {identities}
    """)
    _check_run_matches_records(con, run_dir)
    pairs = f"""SELECT CAST(source_l AS VARCHAR) AS source_l, CAST(record_id_l AS VARCHAR) AS record_id_l,
                       CAST(source_r AS VARCHAR) AS source_r, CAST(record_id_r AS VARCHAR) AS record_id_r,
                       CAST(match_probability AS DOUBLE) AS match_probability
                FROM {pairs_file}"""
    _keep_case_pairs(con, pairs)
    _keep_possible_matches(con, pairs, review_low)


def _run_file(con, path: Path, columns: tuple[str, ...]) -> str:
    """SQL reading a run's Parquet file, after checking it exists and has ``columns``."""
    if not path.is_file():
        raise ChildlinkError("not found: is this the output folder of `childlink link`?", file=str(path))
    source = "read_parquet('" + str(path).replace("'", "''") + "')"
    try:
        present = {row[0].lower() for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    except duckdb.Error:
        raise ChildlinkError("is not a readable Parquet file", file=str(path)) from None
    missing = [c for c in columns if c not in present]
    if missing:
        raise ChildlinkError(f"lacks required column(s): {', '.join(missing)}", file=str(path), column=missing[0])
    return source


def _check_run_matches_records(con, run_dir: Path) -> None:
    """Every record of the job in the run's identities and nothing else: else the run is stale."""
    unlinked, unknown = con.execute(f"""
        SELECT (SELECT count(*) FROM std_records s ANTI JOIN {IDENTITIES} i
                  ON i.source = CAST(s.source AS VARCHAR) AND i.record_id = CAST(s.record_id AS VARCHAR)),
               (SELECT count(*) FROM {IDENTITIES} i ANTI JOIN std_records s
                  ON i.source = CAST(s.source AS VARCHAR) AND i.record_id = CAST(s.record_id AS VARCHAR))
    """).fetchone()
    if unlinked or unknown:
        raise ChildlinkError(f"the run does not match the job's sources: {unlinked} record(s) of the job are not in "
                             f"its identities and {unknown} of its identities are not records of the job; "
                             "link the job again or pass the run made from this job",
                             file=str(run_dir / "identities.parquet"))


def _keep_case_pairs(con, pairs_sql: str) -> None:
    """``trace_pairs``: the scored pairs with a CME case record on either side."""
    cases = quote_table(CASES)
    con.execute(f"""
        CREATE OR REPLACE TABLE {PAIRS} AS
        WITH p AS ({pairs_sql}),
        case_keys AS (SELECT DISTINCT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id
                      FROM {cases})
        SELECT p.* FROM p SEMI JOIN case_keys c ON c.source = p.source_l AND c.record_id = p.record_id_l
        UNION
        SELECT p.* FROM p SEMI JOIN case_keys c ON c.source = p.source_r AND c.record_id = p.record_id_r
    """)


def _keep_possible_matches(con, pairs_sql: str, review_low: float) -> None:
    """``trace_possible_matches``: pairs at or above ``review_low`` across two identities.

    Few pairs qualify (a clustered pair is within one identity), so the table stays small
    however many pairs the run scored; the probability filter reaches the Parquet scan.
    """
    low = float(review_low)
    con.execute(f"""
        CREATE OR REPLACE TABLE {POSSIBLE_MATCHES} AS
        WITH p AS ({pairs_sql})
        SELECT p.* FROM p
        JOIN {IDENTITIES} il ON il.source = p.source_l AND il.record_id = p.record_id_l
        JOIN {IDENTITIES} ir ON ir.source = p.source_r AND ir.record_id = p.record_id_r
        WHERE p.match_probability >= {low!r} AND il.identity_id <> ir.identity_id
    """)

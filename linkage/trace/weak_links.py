"""Weak links: linked records the trace must not let decide a destination on their own.

A record of a case's identity is *firm* when its link is at or above the auto-link threshold:
its identity confidence is, or a scored pair ties it directly to a case record of that identity
at or above the threshold. Otherwise it is *weak*: the linker kept it with the child, but a
person should confirm it before it sends a case to ``left_england`` or anywhere else.

``separate_weak_links`` builds, for the identities that hold a case record:

``_cme_case_records``  case_id, source, record_id, identity_id, confidence of each case record
``_cme_case_ids``      every record of those identities (source, record_id, identity_id, confidence)
``_cme_record_ties``   per record of those identities: best_case_pair (the strongest pair to a case
                       record of the identity) and is_weak
``_cme_firm_ids``      the same records with each weak record moved into an identity of its own,
                       so the rules decide on firm links only (set-based: one relabelling)
``_cme_case_rivals``   per case record, its strongest scored pair to a record of *another* identity
                       (rival_record, rival_child, rival_probability), when that pair is strong
                       enough (above 1 - threshold) to keep the case record's confidence below the
                       threshold: the child's records may be split, and the officer should know
                       where to look

The case records themselves are never moved: they anchor the case. A case record linked below
the threshold lowers the case's confidence and flags it for review instead (confidence.py).
"""

from __future__ import annotations

import duckdb

from ..standardise.sqltext import quote_table

CASE_RECORDS = "_cme_case_records"
CASE_IDS = "_cme_case_ids"
RECORD_TIES = "_cme_record_ties"
FIRM_IDS = "_cme_firm_ids"
CASE_RIVALS = "_cme_case_rivals"
TABLES = (CASE_RECORDS, CASE_IDS, RECORD_TIES, FIRM_IDS, CASE_RIVALS)

# A weak record's identity in the firm view: its own, named after the identity it was cut from.
WEAK_IDENTITY_SQL = "ci.identity_id || ' (weak link ' || ci.source || ':' || ci.record_id || ')'"


def separate_weak_links(con: duckdb.DuckDBPyConnection, *, identities: str, pairs: str, cases: str,
                        threshold: float) -> None:
    """Create the tables above; ``threshold`` is the job's auto-link match probability."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CASE_RECORDS} AS
        SELECT CAST(c.case_id AS VARCHAR) AS case_id, i.source, i.record_id, i.identity_id, i.confidence
        FROM {quote_table(cases)} c
        JOIN {quote_table(identities)} i
          ON i.source = CAST(c.source AS VARCHAR) AND i.record_id = CAST(c.record_id AS VARCHAR)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CASE_IDS} AS
        SELECT i.source, i.record_id, i.identity_id, i.confidence
        FROM {quote_table(identities)} i SEMI JOIN {CASE_RECORDS} c USING (identity_id)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {RECORD_TIES} AS
        WITH case_pairs AS (   -- pairs from a case record to another record, either way round
            SELECT c.identity_id, p.source_r AS source, p.record_id_r AS record_id, p.match_probability AS p
            FROM {quote_table(pairs)} p JOIN {CASE_RECORDS} c ON c.source = p.source_l AND c.record_id = p.record_id_l
            UNION ALL
            SELECT c.identity_id, p.source_l, p.record_id_l, p.match_probability
            FROM {quote_table(pairs)} p JOIN {CASE_RECORDS} c ON c.source = p.source_r AND c.record_id = p.record_id_r
        ),
        best AS (SELECT identity_id, source, record_id, max(p) AS best_case_pair FROM case_pairs GROUP BY ALL),
        anchors AS (SELECT DISTINCT source, record_id FROM {CASE_RECORDS})
        SELECT ci.source, ci.record_id, ci.identity_id, ci.confidence, b.best_case_pair,
               a.record_id IS NOT NULL AS is_case_record,
               a.record_id IS NULL AND coalesce(ci.confidence, 1) < {float(threshold)}
                 AND coalesce(b.best_case_pair, 0) < {float(threshold)} AS is_weak
        FROM {CASE_IDS} ci
        LEFT JOIN best b USING (identity_id, source, record_id)
        LEFT JOIN anchors a USING (source, record_id)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {FIRM_IDS} AS
        SELECT ci.source, ci.record_id,
               CASE WHEN ci.is_weak THEN {WEAK_IDENTITY_SQL} ELSE ci.identity_id END AS identity_id
        FROM {RECORD_TIES} ci
    """)
    _find_rivals(con, identities, pairs, threshold)


def _find_rivals(con, identities: str, pairs: str, threshold: float) -> None:
    # A record's identity confidence is at most 1 - its strongest pair outside the identity.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CASE_RIVALS} AS
        WITH ends AS (
            SELECT c.case_id, c.identity_id, p.source_r AS source, p.record_id_r AS record_id, p.match_probability AS p
            FROM {quote_table(pairs)} p JOIN {CASE_RECORDS} c ON c.source = p.source_l AND c.record_id = p.record_id_l
            UNION ALL
            SELECT c.case_id, c.identity_id, p.source_l, p.record_id_l, p.match_probability
            FROM {quote_table(pairs)} p JOIN {CASE_RECORDS} c ON c.source = p.source_r AND c.record_id = p.record_id_r
        )
        SELECT e.case_id, e.source || ':' || e.record_id AS rival_record, o.identity_id AS rival_child,
               e.p AS rival_probability
        FROM ends e JOIN {quote_table(identities)} o ON o.source = e.source AND o.record_id = e.record_id
        WHERE o.identity_id <> e.identity_id AND e.p > 1 - {float(threshold)}
        QUALIFY row_number() OVER (PARTITION BY e.case_id ORDER BY e.p DESC, e.source, e.record_id) = 1
    """)


def drop_weak_link_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")

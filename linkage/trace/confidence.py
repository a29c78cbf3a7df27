"""How sure the trace is of each case's destination: link confidence times evidence strength.

confidence = link_confidence x evidence_strength (x the contested multiplier)

* **link_confidence** is how surely the records behind the call belong to the referred child.
  Each evidence record's tie to the case is the stronger of: a scored pair between it and a
  case record of the identity (direct evidence), and the weaker of the two records' identity
  confidences (a chain is as strong as its weakest record). The call rests on its strongest
  evidence record, since any one of them satisfies the rule. A ``no_trace`` call rests on the
  case record alone: its confidence says how clearly no other record is the same child.
  An unlinked case record gives 0: nothing was searched on its behalf.
* **evidence_strength** comes from ``data/evidence_strength.csv`` by destination and kind of
  evidence (an OUT crossing corroborated by an embarkation deregistration beats a lone crossing;
  two services placing a child at a home address beat one). For ``no_trace`` it is scaled by the
  share of the five source types the job has: "no trace" in two sources says less than in five.
* **contested**: a possible match below the threshold would change the call (decide.py).

Everything is SQL over all cases at once; result: table ``_cme_confidence``.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ..errors import ChildlinkError
from ..schema import SOURCE_TYPES
from ..standardise.sqltext import quote_table
from .decide import DECISIONS
from .evidence import record_fields_sql
from .reference import DATA_DIR, evidence_strengths, strength_of
from .tables import sql_date
from .weak_links import RECORD_TIES

CONFIDENCE = "_cme_confidence"
STRENGTHS = "_cme_evidence_strength"


def case_confidence(con: duckdb.DuckDBPyConnection, *, records: str, reference_date: dt.date) -> str:
    """Create ``_cme_confidence`` (case_id, link_confidence, evidence_kind, evidence_strength,
    confidence) from ``_cme_decisions`` and the weak-link tables; return its name."""
    con.register(STRENGTHS, evidence_strengths())
    try:
        con.execute(_confidence_sql(records, reference_date))
    finally:
        con.unregister(STRENGTHS)
    _check_every_case_scored(con)
    return CONFIDENCE


def _check_every_case_scored(con) -> None:
    """A destination and evidence kind missing from the CSV would silently drop the case."""
    unscored = con.execute(f"SELECT count(*) FROM {DECISIONS} ANTI JOIN {CONFIDENCE} USING (case_id)").fetchone()[0]
    if unscored:
        raise ChildlinkError(f"{unscored} case(s) have a destination and kind of evidence with no strength listed",
                             file=str(DATA_DIR / "evidence_strength.csv"))


def _evidence_kind_sql() -> str:
    return """CASE d.rule
        WHEN 1 THEN 'enrolment'
        WHEN 2 THEN CASE WHEN e.has_out AND e.has_embarkation THEN 'out_crossing_and_embarkation'
                         WHEN e.has_out THEN 'out_crossing' ELSE 'embarkation' END
        WHEN 3 THEN CASE WHEN e.open_on_r THEN 'address_current' ELSE 'address_ended' END
        WHEN 4 THEN CASE WHEN e.residence_types >= 2 THEN 'residence_corroborated'
                         WHEN e.residence_types = 1 THEN 'residence' ELSE 'arrival_only' END
        ELSE 'sources_searched' END"""


def _confidence_sql(records: str, reference_date: dt.date) -> str:
    r = sql_date(reference_date)
    contested = strength_of("any", "contested_by_weak_link")
    return f"""
        CREATE OR REPLACE TEMP TABLE {CONFIDENCE} AS
        WITH evidence AS (
            SELECT case_id, child_id, case_record_confidence, unnest(evidence_records) AS record_key
            FROM {DECISIONS}
        ),
        facts AS (       -- each evidence record: what it is and how firmly it is tied to the case
            SELECT e.case_id, f.source_type, f.direction = 'OUT' AS is_out,
                   f.deregistration_reason = 'embarkation' AS is_embarkation, f.end_date,
                   CASE WHEN t.is_case_record THEN t.confidence
                        ELSE greatest(coalesce(t.best_case_pair, 0),
                                      least(coalesce(e.case_record_confidence, 1), coalesce(t.confidence, 1)))
                   END AS tie
            FROM evidence e
            JOIN {RECORD_TIES} t ON t.identity_id = e.child_id AND t.source || ':' || t.record_id = e.record_key
            JOIN ({record_fields_sql(records)}) f ON f.source = t.source AND f.record_id = t.record_id
        ),
        per_case AS (
            SELECT case_id, max(tie) AS tie, bool_or(is_out) AS has_out, bool_or(is_embarkation) AS has_embarkation,
                   bool_or(end_date IS NULL OR end_date > {r}) AS open_on_r,
                   count(DISTINCT source_type) FILTER (WHERE source_type <> 'border') AS residence_types
            FROM facts GROUP BY case_id
        ),
        coverage AS (
            SELECT count(DISTINCT source_type) / {len(SOURCE_TYPES)} AS share FROM {quote_table(records)}
        ),
        kinds AS (
            SELECT d.case_id, d.destination, d.contested,
                   CASE WHEN d.rule = 5 THEN coalesce(d.case_record_confidence, 0) ELSE coalesce(e.tie, 0) END
                     AS link_confidence,
                   {_evidence_kind_sql()} AS evidence_kind
            FROM {DECISIONS} d LEFT JOIN per_case e USING (case_id)
        )
        SELECT k.case_id, round(k.link_confidence, 3) AS link_confidence, k.evidence_kind,
               round(st.strength * CASE WHEN k.destination = 'no_trace' THEN cv.share ELSE 1 END, 3)
                 AS evidence_strength,
               round(k.link_confidence * st.strength
                     * CASE WHEN k.destination = 'no_trace' THEN cv.share ELSE 1 END
                     * CASE WHEN k.contested THEN {contested} ELSE 1 END, 3) AS confidence
        FROM kinds k
        JOIN {STRENGTHS} st ON st.destination = k.destination AND st.evidence = k.evidence_kind
        CROSS JOIN coverage cv
        ORDER BY k.case_id
    """

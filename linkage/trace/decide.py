"""Each case's destination, decided on firm links only, with what its weak links would change.

The contract's rules (rules.py) run twice over the identities that hold a case record: once
with every linked record, once with weak records moved out (weak_links.py). The call is the
second one, so a link below the auto-link threshold never decides a destination: neither by
supplying its evidence (a lone weak OUT crossing) nor by vetoing it (a weak registration after
a departure). Where the weak records would change the call, or are part of the evidence, the
evidence string names them for review ("possible border match ..., needs review").

Result: table ``_cme_decisions``, one row per case (see ``decide_cases``).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from ..standardise.sqltext import quote_table
from .lookup import PostcodeAreas
from .rules import apply_case_rules
from .weak_links import CASE_IDS, CASE_RECORDS, CASE_RIVALS, FIRM_IDS, RECORD_TIES, separate_weak_links

DECISIONS = "_cme_decisions"
FIRM_CALLS = "_cme_firm_calls"
ALL_LINK_CALLS = "_cme_all_link_calls"

# The shape of the rules' result (rules.apply_case_rules), so that even an empty result keeps its column types.
CALL_SCHEMA = pa.schema([
    ("case_id", pa.string()), ("identity_id", pa.string()), ("destination", pa.string()), ("rule", pa.int32()),
    ("known_to_social_care", pa.bool_()), ("missing_since", pa.date32()), ("decisive_date", pa.date32()),
    ("departure_date", pa.date32()), ("evidence", pa.string()), ("evidence_records", pa.list_(pa.string())),
    ("social_care_records", pa.list_(pa.string())),
])


def decide_cases(con: duckdb.DuckDBPyConnection, *, records: str, identities: str, pairs: str, cases: str,
                 areas: PostcodeAreas, reference_date: dt.date, threshold: float) -> str:
    """Create ``_cme_decisions`` and return its name.

    Columns: ``case_id, child_id`` (NULL when the case record is not linked), ``destination, rule,
    known_to_social_care, missing_since, decisive_date, departure_date, evidence_records,
    social_care_records`` (all from firm links), ``case_record`` ('source:record_id'),
    ``case_record_confidence``, ``weak_link_records`` (the identity's weak records),
    ``destination_with_weak_links`` (the call counting weak records, when it differs),
    ``contested`` (weak records would change the destination or the social care flag),
    ``case_link_uncertain`` (the case record's own confidence is below the threshold),
    ``rival_record, rival_child, rival_probability`` (the case record's strongest pair to a record
    of another identity) and ``evidence`` (the rules' evidence plus the weak-link and case-link notes).
    """
    separate_weak_links(con, identities=identities, pairs=pairs, cases=cases, threshold=threshold)
    rules = dict(records=records, cases=cases, areas=areas, reference_date=reference_date)
    _register(con, ALL_LINK_CALLS, apply_case_rules(con, identities=CASE_IDS, **rules))
    _register(con, FIRM_CALLS, apply_case_rules(con, identities=FIRM_IDS, **rules))
    con.execute(_merge_sql(records, cases, threshold))
    for name in (ALL_LINK_CALLS, FIRM_CALLS):
        con.unregister(name)
    return DECISIONS


def _register(con, name: str, frame: pd.DataFrame) -> None:
    con.register(name, pa.Table.from_pandas(frame[CALL_SCHEMA.names], schema=CALL_SCHEMA, preserve_index=False))


def _weak_note_sql() -> str:
    """The sentence naming weak records that mattered, and what counting them would change."""
    return """
        CASE WHEN weak_text IS NOT NULL
                  AND (with_weak_destination <> destination OR with_weak_known <> known_to_social_care
                       OR len(list_intersect(with_weak_records, weak_link_records)) > 0)
             THEN ' Not used for the call, linked below the auto-link threshold, needs review: ' || weak_text
                  || CASE WHEN with_weak_destination <> destination
                          THEN '; counting the possible match(es), the rules would say ' || with_weak_destination
                          ELSE '' END
                  || CASE WHEN with_weak_known AND NOT known_to_social_care
                          THEN '; counting the possible match(es), the child would be known to social care'
                          ELSE '' END
                  || '.'
             ELSE '' END"""


def _case_link_note_sql(threshold: float) -> str:
    """The sentence for a case record linked below the threshold, naming its strongest rival."""
    return f"""
        CASE WHEN case_record_confidence < {threshold}
             THEN ' The case record''s link confidence is ' || printf('%.2f', case_record_confidence)
                  || coalesce(': ' || rival_record || ' of child ' || rival_child || ' may be the same child '
                              || '(match probability ' || printf('%.2f', rival_probability)
                              || '), so the child''s records may be split; check before acting',
                              ', below the auto-link threshold; check the identity')
                  || '.'
             ELSE '' END"""


def _merge_sql(records: str, cases: str, threshold: float) -> str:
    t = float(threshold)
    return f"""
        CREATE OR REPLACE TEMP TABLE {DECISIONS} AS
        WITH weak AS (
            SELECT w.identity_id,
                   list(w.source || ':' || w.record_id ORDER BY w.source, w.record_id) AS weak_records,
                   string_agg('possible ' || replace(s.source_type, '_', ' ') || ' match ' || w.source || ':'
                              || w.record_id || ' (link confidence '
                              || coalesce(printf('%.2f', w.confidence), 'unknown') || ')',
                              '; ' ORDER BY w.source, w.record_id) AS weak_text
            FROM {RECORD_TIES} w
            JOIN {quote_table(records)} s
              ON CAST(s.source AS VARCHAR) = w.source AND CAST(s.record_id AS VARCHAR) = w.record_id
            WHERE w.is_weak
            GROUP BY w.identity_id
        ),
        merged AS (
            SELECT f.*, CAST(c.source AS VARCHAR) || ':' || CAST(c.record_id AS VARCHAR) AS case_record,
                   cr.confidence AS case_record_confidence, rv.rival_record, rv.rival_child, rv.rival_probability,
                   coalesce(w.weak_records, []) AS weak_link_records, w.weak_text,
                   a.destination AS with_weak_destination, a.known_to_social_care AS with_weak_known,
                   a.evidence_records AS with_weak_records
            FROM {FIRM_CALLS} f
            JOIN {ALL_LINK_CALLS} a USING (case_id)
            JOIN {quote_table(cases)} c ON CAST(c.case_id AS VARCHAR) = f.case_id
            LEFT JOIN {CASE_RECORDS} cr ON cr.case_id = f.case_id
            LEFT JOIN weak w ON w.identity_id = f.identity_id
            LEFT JOIN {CASE_RIVALS} rv ON rv.case_id = f.case_id
        )
        SELECT case_id, identity_id AS child_id, destination, rule, known_to_social_care, missing_since,
               decisive_date, departure_date, evidence_records, social_care_records, case_record,
               case_record_confidence, weak_link_records,
               CASE WHEN with_weak_destination <> destination THEN with_weak_destination END
                 AS destination_with_weak_links,
               with_weak_destination <> destination OR (with_weak_known AND NOT known_to_social_care) AS contested,
               case_record_confidence < {t} AS case_link_uncertain, rival_record, rival_child, rival_probability,
               evidence || {_weak_note_sql()} || {_case_link_note_sql(t)} AS evidence
        FROM merged
        ORDER BY case_id
    """

"""Each case's evidence timeline: every dated event of the child's linked records, in order.

One row per event (a record gives one row per event date it holds: a GP registration and its
deregistration are two events), across all the identity's records, weak links included and
marked, so the officer sees what the call rested on and what it did not. Events name the source,
record_id, what happened and where (home LA, another LA's code, or unknown), never a name,
date of birth, identifier or postcode. Result: table ``_cme_timeline``; SQL over all cases.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ..standardise.sqltext import quote_table
from .decide import DECISIONS
from .evidence import span_sql
from .lookup import PostcodeAreas
from .tables import sql_date
from .weak_links import RECORD_TIES

TIMELINE = "_cme_timeline"

# (source type, date column, what happened) for every event a record can hold; start_date and
# end_date are the type's span (evidence.SPAN_COLUMNS).
EVENTS = (
    ("education", "start_date", "'school entry' || coalesce(' (school URN ' || school_urn || ')', '')"),
    ("education", "end_date", "'left school' || coalesce(' (school URN ' || school_urn || ')', '')"),
    ("gp", "start_date", "'GP registration' || coalesce(' (practice ' || practice_code || ')', '')"),
    ("gp", "end_date", "'GP deregistration' || coalesce(' (' || deregistration_reason || ')', '')"),
    ("council_tax", "start_date", "'council tax occupancy starts' || coalesce(' (' || role || ')', '')"),
    ("council_tax", "end_date", "'council tax occupancy ends'"),
    ("social_care", "start_date", "coalesce(episode_type || ' ', '') || 'social care episode starts'"),
    ("social_care", "end_date", "coalesce(episode_type || ' ', '') || 'social care episode ends'"),
    ("border", "travel_date", "coalesce(direction, 'undirected') || ' border crossing'"
                              " || coalesce(' (port ' || port || ')', '')"),
)


def case_timelines(con: duckdb.DuckDBPyConnection, *, records: str, cases: str, areas: PostcodeAreas,
                   reference_date: dt.date) -> str:
    """Create ``_cme_timeline`` (case_id, event_date, source, record_id, event, area, period, link,
    _order) from ``_cme_decisions``; return its name. ``period`` places the event against L and R."""
    con.execute(_timeline_sql(records, cases, areas, reference_date))
    return TIMELINE


def _events_sql() -> str:
    arms = [f"""SELECT *, CAST({column} AS DATE) AS event_date, {what} AS event FROM case_records
                WHERE source_type = '{stype}' AND {column} IS NOT NULL""" for stype, column, what in EVENTS]
    dated = " OR ".join(f"(source_type = '{stype}' AND {column} IS NOT NULL)" for stype, column, _ in EVENTS)
    arms.append(f"""SELECT *, CAST(NULL AS DATE), 'record with no event date' FROM case_records
                    WHERE NOT coalesce({dated}, FALSE)""")
    return "\nUNION ALL\n".join(arms)


def _timeline_sql(records: str, cases: str, areas: PostcodeAreas, reference_date: dt.date) -> str:
    r = sql_date(reference_date)
    return f"""
        CREATE OR REPLACE TEMP TABLE {TIMELINE} AS
        WITH case_keys AS (     -- the case record itself, and every record of its identity
            SELECT d.case_id, d.missing_since, t.source, t.record_id, t.is_weak, t.confidence
            FROM {DECISIONS} d JOIN {RECORD_TIES} t ON t.identity_id = d.child_id
            UNION ALL
            SELECT d.case_id, d.missing_since, CAST(c.source AS VARCHAR), CAST(c.record_id AS VARCHAR), FALSE, NULL
            FROM {DECISIONS} d JOIN {quote_table(cases)} c ON CAST(c.case_id AS VARCHAR) = d.case_id
            WHERE d.child_id IS NULL
        ),
        case_records AS (
            SELECT k.case_id, k.missing_since, k.is_weak, k.confidence, k.source AS record_source,
                   k.record_id AS record_record_id, k.source || ':' || k.record_id AS record_key,
                   pl.la_code AS address_la, pl.is_home, s.*, {span_sql('s')}
            FROM case_keys k
            JOIN {quote_table(records)} s
              ON CAST(s.source AS VARCHAR) = k.source AND CAST(s.record_id AS VARCHAR) = k.record_id
            {areas.join_sql('s')}
        ),
        events AS ({_events_sql()})
        SELECT e.case_id, e.event_date, e.record_source AS source, e.record_record_id AS record_id, e.event,
               CASE WHEN e.is_home THEN 'home LA' WHEN NOT e.is_home THEN 'LA ' || e.address_la
                    ELSE 'no known address' END AS area,
               CASE WHEN e.event_date IS NULL THEN 'undated'
                    WHEN e.event_date > {r} THEN 'after R (not yet happened)'
                    WHEN e.event_date > e.missing_since THEN 'after L' WHEN e.event_date = e.missing_since THEN 'on L'
                    ELSE 'before L' END AS period,
               CASE WHEN e.record_key = d.case_record THEN 'case record'
                    WHEN e.is_weak THEN 'possible match below the threshold, not used'
                    WHEN list_contains(d.evidence_records, e.record_key) THEN 'linked, behind the call'
                    ELSE 'linked' END
                 || coalesce(' (link confidence ' || printf('%.2f', e.confidence) || ')', '') AS link,
               row_number() OVER (PARTITION BY e.case_id ORDER BY e.event_date NULLS LAST, e.record_source,
                                                                  e.record_record_id, e.event) AS _order
        FROM events e JOIN {DECISIONS} d USING (case_id)
        ORDER BY e.case_id, _order
    """

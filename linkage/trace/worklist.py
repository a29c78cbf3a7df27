"""The trace's results as export-ready tables: the ranked case worklist and the proactive lists.

``trace_linked`` runs every step on tables already in the workspace (records, linked identities,
case pairs, cases, postcode lookup): destinations on firm links (decide.py), confidence,
triage, timelines, the not-in-education lists, the children to check first among them (a pupil
on roll may be the same child: check_first.py) and the arrivals. Each result has the contract's
columns first, then this tool's extensions; lists are joined with '; '.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from ..standardise.sqltext import quote_table
from .arrivals import ARRIVALS, arrivals_from_abroad
from .check_first import CHECK_FIRST, possible_pupils
from .confidence import CONFIDENCE, case_confidence
from .decide import DECISIONS, decide_cases
from .linked import DEFAULT_REVIEW_LOW
from .lookup import PostcodeAreas, postcode_areas
from .school_age import school_age_lists
from .tables import check_home_la, check_reference_date, fetch_frame, require_columns, sql_date
from .timeline import TIMELINE, case_timelines
from .triage import TRIAGE, triage_cases
from .weak_links import drop_weak_link_tables

CASE_CONTRACT_COLUMNS = ["case_id", "child_id", "destination", "known_to_social_care", "confidence", "evidence"]
LIST_CONTRACT_COLUMNS = ["child_id", "dob", "age", "postcode", "last_seen_source", "last_seen_date", "evidence"]

IDENTITIES_VIEW = "_cme_identities"
LISTED = "_cme_not_in_education"
STARTING = "_cme_starting_school"
NO_PAIRS = "_cme_no_pairs"
TEMP_TABLES = (DECISIONS, CONFIDENCE, TRIAGE, TIMELINE, ARRIVALS, NO_PAIRS, CHECK_FIRST)

LIST_SCHEMA = pa.schema([
    ("child_id", pa.string()), ("dob", pa.date32()), ("age", pa.int32()), ("postcode", pa.string()),
    ("last_seen_source", pa.string()), ("last_seen_date", pa.date32()), ("evidence", pa.string()),
    ("evidence_records", pa.list_(pa.string())), ("current_evidence", pa.string()),
])


@dataclass
class TraceTables:
    """Everything the trace found, each ready to write (sorted, contract columns first)."""
    cases: pd.DataFrame               # cme_trace.csv: one row per case, in risk order
    timeline: pd.DataFrame            # cme_timeline.csv: one row per event of each case's child
    not_in_education: pd.DataFrame    # not_in_education.csv
    arrivals: pd.DataFrame            # arrived_from_abroad_not_in_education.csv
    starting_school: pd.DataFrame     # starting_school_without_place.csv
    check_first: pd.DataFrame         # not_in_education_check.csv: may be a pupil on roll under another ID


def trace_linked(con: duckdb.DuckDBPyConnection, *, home_la: str, reference_date: dt.date, match_threshold: float,
                 records: str = "std_records", identities: str = "trace_identities", pairs: str | None = "trace_pairs",
                 cases: str = "cme_cases", postcode_lookup: str = "postcode_lookup",
                 possible_matches: str | None = None, review_low: float = DEFAULT_REVIEW_LOW) -> TraceTables:
    """Trace every CME case and list the children in the area with no school place.

    ``identities`` has ``source, record_id, identity_id`` and optionally ``confidence`` (missing =
    every link firm); ``pairs`` has ``source_l, record_id_l, source_r, record_id_r,
    match_probability`` (those touching case records are enough; None = no pairs).
    ``match_threshold`` is the auto-link probability: links below it never decide a destination.
    ``possible_matches`` (same columns; pairs across identities are enough) and ``review_low``
    (the review band's low end): a listed child who may be a pupil on roll under another ID (a
    pair at or above ``review_low``, or the same birth date, postcode and a name: check_first.py)
    goes to ``check_first`` instead of ``not_in_education``. None: no such check, the rules' list.
    """
    home, ref = check_home_la(home_la), check_reference_date(reference_date)
    try:
        _identities_view(con, identities)
        with postcode_areas(con, postcode_lookup, home) as areas:      # built once, read by every step
            cases_frame, timeline = _trace_cases(con, pairs=pairs, cases=cases, threshold=match_threshold,
                                                 records=records, areas=areas, reference_date=ref)
            lists = _school_age_lists(con, records=records, areas=areas, reference_date=ref,
                                      possible_matches=possible_matches, review_low=review_low)
        return TraceTables(cases_frame, timeline, *lists)
    finally:
        for name in (LISTED, STARTING):
            con.unregister(name)
        for name in TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute(f"DROP VIEW IF EXISTS {IDENTITIES_VIEW}")
        drop_weak_link_tables(con)


def _trace_cases(con, *, pairs: str | None, cases: str, threshold: float, records: str, areas: PostcodeAreas,
                 reference_date: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranked cases and their timelines."""
    if pairs is None:
        pairs = _no_pairs(con)
    decide_cases(con, records=records, identities=IDENTITIES_VIEW, pairs=pairs, cases=cases, areas=areas,
                 reference_date=reference_date, threshold=threshold)
    case_confidence(con, records=records, reference_date=reference_date)
    triage_cases(con, records=records, cases=cases, reference_date=reference_date)
    case_timelines(con, records=records, cases=cases, areas=areas, reference_date=reference_date)
    return (fetch_frame(con, _cases_sql(reference_date)),
            fetch_frame(con, f"SELECT * EXCLUDE (_order) FROM {TIMELINE} ORDER BY case_id, _order"))


def _school_age_lists(con, *, records: str, areas: PostcodeAreas, reference_date: dt.date,
                      possible_matches: str | None, review_low: float) -> tuple[pd.DataFrame, ...]:
    """not_in_education, the arrivals among them, starting_school_without_place, and the children
    the rules list who may be a pupil on roll under another ID (check first)."""
    lists = school_age_lists(con, records=records, identities=IDENTITIES_VIEW, areas=areas,
                             reference_date=reference_date)
    _register_list(con, LISTED, lists.not_in_education)
    _register_list(con, STARTING, lists.starting_school)
    if possible_matches is None:     # no run to read possible matches from: the rules' list as it is
        con.execute(f"CREATE OR REPLACE TEMP TABLE {CHECK_FIRST} AS {_no_check_first_sql()}")
    else:
        possible_pupils(con, LISTED, records=records, identities=IDENTITIES_VIEW, possible_matches=possible_matches,
                        review_low=review_low, reference_date=reference_date)
    arrivals_from_abroad(con, LISTED, records=records, identities=IDENTITIES_VIEW, reference_date=reference_date)
    return (fetch_frame(con, _listed_sql()), fetch_frame(con, _arrivals_sql()), fetch_frame(con, _starting_sql()),
            fetch_frame(con, _check_first_sql()))


def _no_pairs(con) -> str:
    """An empty pairs table, for a caller with no scored pairs."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {NO_PAIRS} (source_l VARCHAR, record_id_l VARCHAR,
                    source_r VARCHAR, record_id_r VARCHAR, match_probability DOUBLE)""")
    return NO_PAIRS


def _no_check_first_sql() -> str:
    return """SELECT CAST(NULL AS VARCHAR) AS child_id, CAST(NULL AS VARCHAR) AS possible_match_child_id,
                     CAST(NULL AS VARCHAR) AS possible_match_record, CAST(NULL AS VARCHAR) AS listed_record,
                     CAST(NULL AS VARCHAR) AS possible_match_kind, CAST(NULL AS DOUBLE) AS possible_match_probability,
                     CAST(NULL AS BIGINT) AS possible_matches
              WHERE false"""


def _identities_view(con, identities: str) -> None:
    """Text keys and a confidence column (1.0 when the table has none: every link taken as firm)."""
    present = require_columns(con, identities, ("source", "record_id", "identity_id"))
    confidence = "CAST(confidence AS DOUBLE)" if "confidence" in present else "1.0"
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {IDENTITIES_VIEW} AS
                    SELECT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id,
                           CAST(identity_id AS VARCHAR) AS identity_id, {confidence} AS confidence
                    FROM {quote_table(identities)} WHERE identity_id IS NOT NULL""")


def _register_list(con, name: str, frame: pd.DataFrame) -> None:
    con.register(name, pa.Table.from_pandas(frame[LIST_SCHEMA.names], schema=LIST_SCHEMA, preserve_index=False))


def _review_sql() -> str:
    """Why a person should check the call before acting on it ('' when nothing calls for it)."""
    return """concat_ws('; ',
        CASE WHEN d.contested THEN 'a possible match below the auto-link threshold would change the call' END,
        CASE WHEN d.child_id IS NULL THEN 'the case record is not linked' END,
        CASE WHEN d.case_link_uncertain
             THEN coalesce('the case record may also match ' || d.rival_record || ' of child ' || d.rival_child,
                           'the case record is linked below the auto-link threshold') END)"""


def _cases_sql(reference_date: dt.date) -> str:
    r = sql_date(reference_date)
    return f"""
        SELECT d.case_id, d.child_id, d.destination, d.known_to_social_care, c.confidence, d.evidence,
               t.risk_rank, t.risk_score, t.risk_reasons, {_review_sql()} <> '' AS needs_review,
               {_review_sql()} AS review_reason,
               d.destination_with_weak_links, array_to_string(d.weak_link_records, '; ') AS weak_link_records,
               d.rule, d.missing_since, {r} - d.missing_since AS days_missing, t.months_missing, t.academic_age,
               t.sen, c.link_confidence, c.evidence_kind, c.evidence_strength, d.decisive_date, d.departure_date,
               array_to_string(d.evidence_records, '; ') AS evidence_records,
               array_to_string(d.social_care_records, '; ') AS social_care_records,
               d.case_record, d.case_record_confidence, d.rival_record, d.rival_child, d.rival_probability
        FROM {DECISIONS} d JOIN {CONFIDENCE} c USING (case_id) JOIN {TRIAGE} t USING (case_id)
        ORDER BY t.risk_rank
    """


def _listed_sql() -> str:
    columns = ", ".join(f"n.{c}" for c in LIST_CONTRACT_COLUMNS)
    return f"""
        SELECT {columns}, a.child_id IS NOT NULL AS arrived_from_abroad, a.arrival_date, n.current_evidence,
               array_to_string(n.evidence_records, '; ') AS evidence_records
        FROM {LISTED} n LEFT JOIN {ARRIVALS} a USING (child_id)
        WHERE NOT EXISTS (SELECT 1 FROM {CHECK_FIRST} k WHERE k.child_id = n.child_id)
        ORDER BY n.child_id
    """


def _arrivals_sql() -> str:
    columns = ", ".join(f"n.{c}" for c in LIST_CONTRACT_COLUMNS)
    return f"""
        SELECT {columns}, a.arrival_date, a.arrival_record, a.known_only_by_arrival, n.current_evidence,
               array_to_string(n.evidence_records, '; ') AS evidence_records
        FROM {LISTED} n JOIN {ARRIVALS} a USING (child_id)
        WHERE NOT EXISTS (SELECT 1 FROM {CHECK_FIRST} k WHERE k.child_id = n.child_id)
        ORDER BY n.child_id
    """


def _starting_sql() -> str:
    columns = ", ".join(LIST_CONTRACT_COLUMNS)
    return (f"SELECT {columns}, current_evidence, array_to_string(evidence_records, '; ') AS evidence_records "
            f"FROM {STARTING} ORDER BY child_id")


def _check_first_sql() -> str:
    """The listed children a pupil on roll may be: the list's columns, then the best possible match."""
    columns = ", ".join(f"n.{c}" for c in LIST_CONTRACT_COLUMNS)
    return f"""
        SELECT {columns}, k.possible_match_child_id, k.possible_match_probability, k.possible_match_record,
               k.listed_record, k.possible_match_kind, k.possible_matches,
               'record ' || k.listed_record || ' may be the same child as pupil ' || k.possible_match_child_id
                 || ' (record ' || k.possible_match_record || ', '
                 || coalesce('match probability ' || printf('%.2f', k.possible_match_probability),
                             'not scored, but the same date of birth, postcode and a name') || ')'
                 || CASE WHEN k.possible_matches > 1 THEN ' or ' || (k.possible_matches - 1) || ' other pupil(s)'
                         ELSE '' END
                 || ': check whether the child is on that roll before contacting the family' AS check_reason,
               a.child_id IS NOT NULL AS arrived_from_abroad,
               n.current_evidence, array_to_string(n.evidence_records, '; ') AS evidence_records
        FROM {LISTED} n JOIN {CHECK_FIRST} k USING (child_id) LEFT JOIN {ARRIVALS} a USING (child_id)
        ORDER BY n.child_id
    """

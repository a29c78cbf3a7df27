"""Triage: order the CME cases by risk, so an officer works the riskiest first, and say why.

A case's risk score is the sum of points (``data/triage_points.csv``) for:

* known to social care (the child was already a child in need, on a plan or looked after);
* the destination: no trace above living in the area with no school place, above a move out
  of the area or abroad, above a school place found (0);
* time missing: points per full month since L (leaving the roll), capped;
* transition age: academic-year age 10 or 11 on R, the move from primary to secondary school
  when children most often drop off rolls;
* special educational needs, when an education source carries the optional ``sen`` field
  (values listed in ``data/sen_codes.csv``); a child with no ``sen`` value on any education
  record has ``sen`` unknown (NULL) and scores nothing for it; a records table without the
  column at all skips the factor.

Ties go to the longer missing, then to case_id. Every reason that scored is listed with its
points. Result: table ``_cme_triage``; SQL over all cases at once.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ..standardise.sqltext import literal, quote_table
from .ages import academic_year_age_sql, identity_dob_sql
from .decide import DECISIONS
from .reference import sen_codes, triage_points
from .tables import require_columns, sql_date
from .weak_links import FIRM_IDS

TRIAGE = "_cme_triage"
TRANSITION_AGES = (10, 11)        # academic-year ages of Year 6 and Year 7
DESTINATION_FACTORS = ("no_trace", "in_area_not_in_education", "moved_out_of_area", "left_england",
                       "in_education_elsewhere")


def triage_cases(con: duckdb.DuckDBPyConnection, *, records: str, cases: str, reference_date: dt.date) -> str:
    """Create ``_cme_triage`` (case_id, academic_age, sen, months_missing, risk_score, risk_rank,
    risk_reasons) from ``_cme_decisions``; return its name."""
    has_sen = "sen" in require_columns(con, records, ("source", "record_id", "dob_date"))
    con.execute(_triage_sql(records, cases, reference_date, has_sen))
    return TRIAGE


def _sen_sql(has_sen: bool) -> str:
    if not has_sen:
        return "CAST(NULL AS BOOLEAN)"
    codes = ", ".join(literal(code) for code in sen_codes())
    # NULL when no value is recorded, so a child no education source reports on stays "unknown"
    return (f"CASE WHEN s.source_type = 'education' AND s.sen IS NOT NULL "
            f"THEN upper(trim(CAST(s.sen AS VARCHAR))) IN ({codes}) END")


def _months_sql(r: str) -> str:
    """Full calendar months from L (missing_since) to R, never negative."""
    return (f"greatest(0, (year({r}) * 12 + month({r})) - (year(missing_since) * 12 + month(missing_since))"
            f" - CASE WHEN day({r}) < day(missing_since) THEN 1 ELSE 0 END)")


def _scored_sql(points: dict[str, tuple[int, str]]) -> str:
    """Each factor's points and its reason text (only factors that scored are named)."""
    month, month_cap = points["month_missing"][0], points["months_missing_max"][0]
    destination = " ".join(f"WHEN {literal(f)} THEN {points[f][0]}" for f in DESTINATION_FACTORS)
    dest_label = " ".join(f"WHEN {literal(f)} THEN {literal(points[f][1])}" for f in DESTINATION_FACTORS)
    sc_points, sc_label = points["known_to_social_care"]
    t_points, t_label = points["transition_age"]
    sen_points, sen_label = points["sen"]
    return f"""
        SELECT *,
               CASE WHEN known_to_social_care THEN {sc_points} ELSE 0 END AS p_social_care,
               CASE destination {destination} ELSE 0 END AS p_destination,
               CASE destination {dest_label} END AS destination_label,
               least(months_missing * {month}, {month_cap}) AS p_missing,
               CASE WHEN academic_age BETWEEN {TRANSITION_AGES[0]} AND {TRANSITION_AGES[1]} THEN {t_points} ELSE 0 END
                 AS p_transition,
               CASE WHEN sen THEN {sen_points} ELSE 0 END AS p_sen,
               {literal(sc_label)} AS social_care_label, {literal(t_label)} AS transition_label,
               {literal(sen_label)} AS sen_label
        FROM facts
    """


def _triage_sql(records: str, cases: str, reference_date: dt.date, has_sen: bool) -> str:
    r = sql_date(reference_date)
    age = academic_year_age_sql("coalesce(i.dob, s.dob_date)", reference_date)
    return f"""
        CREATE OR REPLACE TEMP TABLE {TRIAGE} AS
        WITH firm_records AS (     -- the records the call rests on: firm links only
            SELECT f.identity_id, s.dob_date, {_sen_sql(has_sen)} AS sen
            FROM {FIRM_IDS} f
            JOIN {quote_table(records)} s
              ON CAST(s.source AS VARCHAR) = f.source AND CAST(s.record_id AS VARCHAR) = f.record_id
        ),
        identity_dob AS ({identity_dob_sql('firm_records')}),
        identity_sen AS (SELECT identity_id, bool_or(sen) AS sen FROM firm_records GROUP BY identity_id),
        facts AS (
            SELECT d.case_id, d.destination, d.known_to_social_care, d.missing_since,
                   {_months_sql(r)} AS months_missing,
                   -- an unlinked case record still has its own date of birth and SEN value
                   {age} AS academic_age, coalesce(n.sen, ({_sen_sql(has_sen)})) AS sen
            FROM {DECISIONS} d
            JOIN {quote_table(cases)} c ON CAST(c.case_id AS VARCHAR) = d.case_id
            LEFT JOIN {quote_table(records)} s
              ON CAST(s.source AS VARCHAR) = CAST(c.source AS VARCHAR)
             AND CAST(s.record_id AS VARCHAR) = CAST(c.record_id AS VARCHAR)
            LEFT JOIN identity_dob i ON i.identity_id = d.child_id
            LEFT JOIN identity_sen n ON n.identity_id = d.child_id
        ),
        scored AS ({_scored_sql(triage_points())})
        SELECT case_id, academic_age, sen, months_missing,
               p_social_care + p_destination + p_missing + p_transition + p_sen AS risk_score,
               row_number() OVER (ORDER BY p_social_care + p_destination + p_missing + p_transition + p_sen DESC,
                                  missing_since NULLS LAST, case_id) AS risk_rank,
               concat_ws('; ',
                   CASE WHEN p_social_care > 0 THEN social_care_label || ' (+' || p_social_care || ')' END,
                   CASE WHEN p_destination > 0 THEN destination_label || ' (+' || p_destination || ')' END,
                   CASE WHEN p_missing > 0 THEN 'missing ' || months_missing || ' month'
                        || CASE WHEN months_missing = 1 THEN '' ELSE 's' END || ' (+' || p_missing || ')' END,
                   CASE WHEN p_transition > 0 THEN transition_label || ' (academic-year age ' || academic_age || ')'
                        || ' (+' || p_transition || ')' END,
                   CASE WHEN p_sen > 0 THEN sen_label || ' (+' || p_sen || ')' END) AS risk_reasons
        FROM scored
        ORDER BY risk_rank
    """

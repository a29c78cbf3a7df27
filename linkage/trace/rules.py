"""CME destinations: the contract's five rules applied to each case, set-based (contract §4).

For each case, L is the case record's leaving date (else the referral date) and R the reference
date. Over the records of the case's identity the first rule that holds decides:

1 in_education_elsewhere   an enrolment with L <= entry_date <= R, open on R
2 left_england             the latest crossing after L is OUT, or an embarkation deregistration
                           after L; and nothing places the child in England after the latest
                           departure event D (an IN crossing or any start date strictly after D)
3 moved_out_of_area        the latest address evidence after L (gp / council tax / social care,
                           postcode resolving to an LA) is outside home
4 in_area_not_in_education residence evidence current on R with a home postcode
5 no_trace                 none of the above

Every rule is one SQL query over all cases at once; docs/TRACE_RULES.md lists each reading.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from ..errors import ChildlinkError
from ..standardise.sqltext import quote_table
from .evidence import ADDRESS_TYPES, REC, RECORD_COLUMNS, RESIDENCE, identities_sql, trace_workspace
from .lookup import PostcodeAreas, postcode_areas
from .tables import (TEMP_PREFIX, check_home_la, check_reference_date, drop_temp_tables, fetch_frame,
                     require_columns, sql_date)

DESTINATIONS = {1: "in_education_elsewhere", 2: "left_england", 3: "moved_out_of_area",
                4: "in_area_not_in_education", 5: "no_trace"}

CASES = f"{TEMP_PREFIX}cases"
CASE_REC = f"{TEMP_PREFIX}case_rec"
CASE_COLUMNS = ("case_id", "source", "record_id", "referral_date")


def case_destinations(con: duckdb.DuckDBPyConnection, *, records: str = "std_records",
                      identities: str = "identities", cases: str = "cme_cases",
                      postcode_lookup: str = "postcode_lookup", home_la: str,
                      reference_date: dt.date) -> pd.DataFrame:
    """Decide every CME case's destination from the evidence of its identity's records.

    Returns one row per case, in ``case_id`` order: ``case_id, identity_id`` (NULL when the case
    record is not in ``identities``), ``destination, rule`` (1-5), ``known_to_social_care``,
    ``missing_since`` (L), ``decisive_date`` (the date of the evidence behind the call: entry
    date, departure date D, address date or residence start), ``departure_date`` (D, rule 2 only),
    ``evidence`` (plain English, citing source:record_id and dates), ``evidence_records``
    (list of 'source:record_id' behind the destination) and ``social_care_records`` (list behind
    ``known_to_social_care``).
    """
    home, ref = check_home_la(home_la), check_reference_date(reference_date)
    with postcode_areas(con, postcode_lookup, home) as areas:
        return apply_case_rules(con, records=records, identities=identities, cases=cases, areas=areas,
                                reference_date=ref)


def apply_case_rules(con: duckdb.DuckDBPyConnection, *, records: str, identities: str, cases: str,
                     areas: PostcodeAreas, reference_date: dt.date) -> pd.DataFrame:
    """:func:`case_destinations` on a postcode lookup the caller has built (a trace builds it once)."""
    ref = check_reference_date(reference_date)
    require_columns(con, cases, CASE_COLUMNS)
    require_columns(con, records, RECORD_COLUMNS)
    require_columns(con, identities, ("source", "record_id", "identity_id"))
    _check_one_identity_per_record(con, identities)
    try:
        _build_cases(con, records, identities, cases)
        _check_cases(con, cases)
        with trace_workspace(con, records=records, identities=identities, areas=areas, reference_date=ref,
                             only_identities_sql=f"SELECT identity_id FROM {CASES}"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {CASE_REC} AS "
                        f"SELECT c.case_id, c.missing_since, r.* FROM {CASES} c JOIN {REC} r USING (identity_id)")
            return fetch_frame(con, _decision_sql(ref), ("evidence_records", "social_care_records"))
    finally:
        drop_temp_tables(con, ("cases", "case_rec"))


def _check_one_identity_per_record(con, identities: str) -> None:
    """A record under two identities would make the case's evidence ambiguous: refuse it."""
    repeated = con.execute(f"""
        SELECT count(*) FROM (
            SELECT source, record_id FROM {quote_table(identities)}
            GROUP BY source, record_id HAVING count(DISTINCT identity_id) > 1)
    """).fetchone()[0]
    if repeated:
        raise ChildlinkError(f"{repeated} record(s) belong to more than one identity; each record must have one",
                             file=identities, column="identity_id")


def _build_cases(con, records: str, identities: str, cases: str) -> None:
    """One row per case with its identity and L (the case record's leaving date, else referral date)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CASES} AS
        SELECT c.case_id,
               CAST(c.source AS VARCHAR) AS case_source, CAST(c.record_id AS VARCHAR) AS case_record_id,
               i.identity_id,
               coalesce(CASE WHEN s.source_type = 'education' THEN CAST(s.leaving_date AS DATE) END,
                        TRY_CAST(c.referral_date AS DATE)) AS missing_since,
               CASE WHEN s.source_type = 'education' AND s.leaving_date IS NOT NULL
                    THEN 'leaving date' ELSE 'referral date' END AS missing_since_basis
        FROM {quote_table(cases)} c
        LEFT JOIN {quote_table(records)} s
               ON CAST(s.source AS VARCHAR) = CAST(c.source AS VARCHAR)
              AND CAST(s.record_id AS VARCHAR) = CAST(c.record_id AS VARCHAR)
        LEFT JOIN ({identities_sql(identities)}) i
               ON i.source = CAST(c.source AS VARCHAR) AND i.record_id = CAST(c.record_id AS VARCHAR)
    """)


def _check_cases(con, cases: str) -> None:
    """Each case once, and each with a start point L (case ids are case numbers, not personal data)."""
    repeated = con.execute(f"SELECT count(*), min(case_id) FROM (SELECT case_id FROM {quote_table(cases)} "
                           "GROUP BY case_id HAVING count(*) > 1)").fetchone()
    if repeated[0]:
        raise ChildlinkError(f"{repeated[0]} case_id value(s) appear more than once (first: {repeated[1]})",
                             file=cases, column="case_id")
    undated = con.execute(f"SELECT count(*), min(case_id) FROM {CASES} WHERE missing_since IS NULL").fetchone()
    if undated[0]:
        raise ChildlinkError(f"{undated[0]} case(s) have no leaving date on their record and no valid "
                             f"referral_date, so the rules have no start point (first: {undated[1]})",
                             file=cases, column="referral_date")


def _rule1_sql(r: str) -> str:
    """Enrolments starting on or after L (and by R) still open on R, per case."""
    return f"""
        SELECT case_id, max(start_date) AS decisive_date,
               list(source || ':' || record_id ORDER BY start_date DESC, source, record_id) AS records,
               'enrolment started on or after L and still open on R: '
                 || string_agg(citation, '; ' ORDER BY start_date DESC, source, record_id) AS evidence
        FROM {CASE_REC}
        WHERE source_type = 'education' AND start_date >= missing_since AND start_date <= {r}
          AND (end_date IS NULL OR end_date > {r})
        GROUP BY case_id
    """


def _rule2_sql(r: str) -> str:
    """Departure after L (latest crossing OUT, or embarkation) with no presence after it."""
    return f"""
        WITH crossings AS (
            SELECT * FROM {CASE_REC}
            WHERE direction IS NOT NULL AND travel_date > missing_since AND travel_date <= {r}
        ),
        latest_crossing AS (   -- a same-day IN and OUT count as a day trip: the child is back
            SELECT case_id, bool_and(direction = 'OUT') AS is_out,
                   list(source || ':' || record_id ORDER BY source, record_id) AS records,
                   string_agg(citation, '; ' ORDER BY source, record_id) AS evidence
            FROM (SELECT *, max(travel_date) OVER (PARTITION BY case_id) AS last_travel FROM crossings)
            WHERE travel_date = last_travel
            GROUP BY case_id
        ),
        embarkation AS (
            SELECT case_id, source, record_id, citation, end_date FROM {CASE_REC}
            WHERE source_type = 'gp' AND deregistration_reason = 'embarkation'
              AND end_date > missing_since AND end_date <= {r}
            QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY end_date DESC, source, record_id) = 1
        ),
        departed AS (
            SELECT c.case_id, coalesce(lc.is_out, FALSE) AS is_out, e.case_id IS NOT NULL AS embarked,
                   lc.records AS crossing_records, lc.evidence AS crossing_evidence,
                   e.source || ':' || e.record_id AS embarkation_record, e.citation AS embarkation_evidence
            FROM {CASES} c
            LEFT JOIN latest_crossing lc USING (case_id)
            LEFT JOIN embarkation e USING (case_id)
            WHERE coalesce(lc.is_out, FALSE) OR e.case_id IS NOT NULL
        ),
        departure_date AS (    -- D: the latest departure event after L
            SELECT case_id, max(d) AS departure_date FROM (
                SELECT case_id, travel_date AS d FROM crossings WHERE direction = 'OUT'
                UNION ALL SELECT case_id, end_date FROM embarkation)
            GROUP BY case_id
        ),
        present_after AS (
            SELECT DISTINCT r.case_id FROM {CASE_REC} r JOIN departure_date d USING (case_id)
            WHERE r.presence_date > d.departure_date
        )
        SELECT d.case_id, dd.departure_date AS decisive_date, dd.departure_date,
               list_concat(CASE WHEN d.is_out THEN d.crossing_records ELSE [] END,
                           CASE WHEN d.embarked THEN [d.embarkation_record] ELSE [] END) AS records,
               concat_ws('; ',
                   CASE WHEN d.is_out THEN 'latest border crossing after L is OUT: ' || d.crossing_evidence END,
                   CASE WHEN d.embarked
                        THEN 'GP deregistration after L for embarkation: ' || d.embarkation_evidence END)
                 || '; no IN crossing and no school entry, registration, occupancy or episode start after '
                 || dd.departure_date AS evidence
        FROM departed d
        JOIN departure_date dd USING (case_id)
        WHERE d.case_id NOT IN (SELECT case_id FROM present_after)
    """


def _rule3_sql() -> str:
    """The latest address evidence after L, when its postcode is outside home."""
    return f"""
        SELECT case_id, latest_date AS decisive_date, [source || ':' || record_id] AS records,
               'latest address evidence after L is ' || citation || ', postcode in LA ' || la_code
                 || ', outside the home LA' AS evidence
        FROM (
            SELECT * FROM {CASE_REC}
            WHERE source_type IN {ADDRESS_TYPES} AND is_home IS NOT NULL AND latest_date > missing_since
            QUALIFY row_number() OVER (PARTITION BY case_id
                                       ORDER BY latest_date DESC, is_home DESC, source, record_id) = 1
        )
        WHERE NOT is_home
    """


def _rule4_sql() -> str:
    """Residence evidence current on R with a home postcode (whenever it started)."""
    return f"""
        SELECT c.case_id, max(v.start_date) AS decisive_date,
               list(v.source || ':' || v.record_id ORDER BY v.start_date DESC NULLS LAST, v.source, v.record_id)
                 AS records,
               'residence evidence open on R with a home postcode: '
                 || string_agg(v.citation, '; ' ORDER BY v.start_date DESC NULLS LAST, v.source, v.record_id)
                 AS evidence
        FROM {CASES} c JOIN {RESIDENCE} v USING (identity_id)
        GROUP BY c.case_id
    """


def _social_care_sql(r: str) -> str:
    """Social care episodes open at any time from L minus one calendar year (inclusive) to R."""
    return f"""
        SELECT case_id,
               list(source || ':' || record_id ORDER BY start_date NULLS FIRST, source, record_id) AS records,
               string_agg(citation, '; ' ORDER BY start_date NULLS FIRST, source, record_id) AS evidence
        FROM {CASE_REC}
        WHERE source_type = 'social_care'
          AND (start_date IS NULL OR start_date <= {r})
          AND (end_date IS NULL OR end_date >= CAST(missing_since - INTERVAL 1 YEAR AS DATE))
        GROUP BY case_id
    """


def _decision_sql(reference_date: dt.date) -> str:
    """First rule that holds, per case, with its evidence; all cases in case_id order."""
    r = sql_date(reference_date)
    destination = " ".join(f"WHEN {n} THEN '{name}'" for n, name in DESTINATIONS.items())
    return f"""
        WITH r1 AS ({_rule1_sql(r)}), r2 AS ({_rule2_sql(r)}), r3 AS ({_rule3_sql()}),
             r4 AS ({_rule4_sql()}), sc AS ({_social_care_sql(r)}),
        decided AS (
            SELECT c.*,
                   CASE WHEN r1.case_id IS NOT NULL THEN 1 WHEN r2.case_id IS NOT NULL THEN 2
                        WHEN r3.case_id IS NOT NULL THEN 3 WHEN r4.case_id IS NOT NULL THEN 4 ELSE 5 END AS rule,
                   r1.decisive_date AS d1, r2.decisive_date AS d2, r3.decisive_date AS d3, r4.decisive_date AS d4,
                   r2.departure_date AS d_departure,
                   r1.records AS e1, r2.records AS e2, r3.records AS e3, r4.records AS e4,
                   r1.evidence AS t1, r2.evidence AS t2, r3.evidence AS t3, r4.evidence AS t4,
                   sc.records AS sc_records, sc.evidence AS sc_evidence
            FROM {CASES} c
            LEFT JOIN r1 USING (case_id) LEFT JOIN r2 USING (case_id) LEFT JOIN r3 USING (case_id)
            LEFT JOIN r4 USING (case_id) LEFT JOIN sc USING (case_id)
        )
        SELECT case_id, identity_id, CASE rule {destination} END AS destination, rule,
               sc_records IS NOT NULL AS known_to_social_care,
               missing_since,
               CASE rule WHEN 1 THEN d1 WHEN 2 THEN d2 WHEN 3 THEN d3 WHEN 4 THEN d4 END AS decisive_date,
               CASE WHEN rule = 2 THEN d_departure END AS departure_date,
               'Rule ' || rule || ' (' || CASE rule {destination} END || '): '
                 || CASE rule WHEN 1 THEN t1 WHEN 2 THEN t2 WHEN 3 THEN t3 WHEN 4 THEN t4
                      ELSE CASE WHEN identity_id IS NULL
                                THEN 'the case record ' || case_source || ':' || case_record_id
                                     || ' is not in the linked identities'
                                ELSE 'no linked record shows a school place, a departure, an address '
                                     || 'outside the area or current residence in the area' END END
                 || '. L = ' || missing_since || ' (' || missing_since_basis || ' of '
                 || case_source || ':' || case_record_id || '); R = ' || {r} || '.'
                 || coalesce(' Known to social care: ' || sc_evidence || '.', '') AS evidence,
               coalesce(CASE rule WHEN 1 THEN e1 WHEN 2 THEN e2 WHEN 3 THEN e3 WHEN 4 THEN e4 END, [])
                 AS evidence_records,
               coalesce(sc_records, []) AS social_care_records
        FROM decided
        ORDER BY case_id
    """

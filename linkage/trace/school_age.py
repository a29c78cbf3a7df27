"""Children living in the area with no school place (contract §4, not_in_education.csv).

A child is listed when, on R:
* their academic-year age is in range (5-15 for not_in_education, 4 for
  starting_school_without_place), from the identity's date of birth (ages.py);
* some residence evidence is current on R with a home postcode (as rule 4, evidence.py);
* no departure evidence is later than the latest start date S of that residence evidence
  (an OUT crossing with no later IN crossing, or a GP deregistration for any reason);
* no education enrolment is open on R (for Reception-age children, a place starting after R
  also counts: they have a school place).

A trace asks for both lists at once (``school_age_lists``): the evidence tables are built once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from .ages import COMPULSORY_AGES, STARTING_SCHOOL_AGE, academic_year_age_sql, identity_dob_sql
from .evidence import REC, RESIDENCE, trace_workspace
from .lookup import PostcodeAreas, postcode_areas
from .tables import check_home_la, check_reference_date, fetch_frame, sql_date

# Residence with no start date may have begun before any departure: it counts as the earliest.
UNKNOWN_START = "DATE '0001-01-01'"


@dataclass(frozen=True)
class AgeBand:
    """Who a list is about: academic-year ages, and whether a place starting after R counts."""
    ages: tuple[int, int]
    future_place_counts: bool


NOT_IN_EDUCATION = AgeBand(ages=COMPULSORY_AGES, future_place_counts=False)
STARTING_SCHOOL = AgeBand(ages=(STARTING_SCHOOL_AGE, STARTING_SCHOOL_AGE), future_place_counts=True)


@dataclass
class SchoolAgeLists:
    not_in_education: pd.DataFrame      # not_in_education.csv
    starting_school: pd.DataFrame       # starting_school_without_place.csv


def not_in_education(con: duckdb.DuckDBPyConnection, *, records: str = "std_records",
                     identities: str = "identities", postcode_lookup: str = "postcode_lookup",
                     home_la: str, reference_date: dt.date) -> pd.DataFrame:
    """Children of compulsory school age (academic-year age 5-15) resident in the area with no school place.

    Columns: ``child_id`` (the identity_id), ``dob``, ``age`` (academic-year age), ``postcode`` (of
    the latest residence evidence), ``last_seen_source``, ``last_seen_date`` (latest event over
    all the child's records), ``evidence`` (plain English), ``evidence_records`` and
    ``current_evidence`` (what places the child in the area on R, e.g. "GP registration since
    2019-03-01, still open on R"); by child_id.
    """
    return _one_list(con, NOT_IN_EDUCATION, records=records, identities=identities,
                     postcode_lookup=postcode_lookup, home_la=home_la, reference_date=reference_date)


def starting_school_without_place(con: duckdb.DuckDBPyConnection, *, records: str = "std_records",
                                  identities: str = "identities", postcode_lookup: str = "postcode_lookup",
                                  home_la: str, reference_date: dt.date) -> pd.DataFrame:
    """Children of academic-year age 4 (compulsory school age next September) resident with no school place.

    Same columns and conditions as :func:`not_in_education`, except that an enrolment starting
    after R is a school place too.
    """
    return _one_list(con, STARTING_SCHOOL, records=records, identities=identities,
                     postcode_lookup=postcode_lookup, home_la=home_la, reference_date=reference_date)


def school_age_lists(con: duckdb.DuckDBPyConnection, *, records: str, identities: str, areas: PostcodeAreas,
                     reference_date: dt.date) -> SchoolAgeLists:
    """Both lists from one build of the evidence tables, on a postcode lookup the caller has built."""
    ref = check_reference_date(reference_date)
    with trace_workspace(con, records=records, identities=identities, areas=areas, reference_date=ref):
        return SchoolAgeLists(not_in_education=_fetch_list(con, NOT_IN_EDUCATION, ref),
                              starting_school=_fetch_list(con, STARTING_SCHOOL, ref))


def _one_list(con, band: AgeBand, *, records: str, identities: str, postcode_lookup: str, home_la: str,
              reference_date: dt.date) -> pd.DataFrame:
    home, ref = check_home_la(home_la), check_reference_date(reference_date)
    with postcode_areas(con, postcode_lookup, home) as areas, \
            trace_workspace(con, records=records, identities=identities, areas=areas, reference_date=ref):
        return _fetch_list(con, band, ref)


def _fetch_list(con, band: AgeBand, reference_date: dt.date) -> pd.DataFrame:
    return fetch_frame(con, _unplaced_sql(reference_date, band), ("evidence_records",))


def _current_evidence_sql() -> str:
    """What places the child in the area now, from a ``residence`` row (the latest to start).

    The contract's ``last_seen_date`` is the latest event date, which for a registration still
    open is its start: years ago, though the child is registered today. This says so plainly.
    """
    what = """CASE source_type WHEN 'gp' THEN 'GP registration' WHEN 'council_tax' THEN 'council tax occupancy'
                  WHEN 'social_care' THEN 'social care episode' END"""
    more = """CASE WHEN n_residence > 1 THEN ' (and ' || (n_residence - 1) || ' more current record'
                   || CASE WHEN n_residence > 2 THEN 's' ELSE '' END || ')' ELSE '' END"""
    return f"""CASE WHEN source_type = 'border'
                    THEN 'arrived in England ' || coalesce('on ' || start_date, '(date unknown)')
                         || ', no departure since'
                    ELSE {what} || coalesce(' since ' || start_date, ' (start date unknown)') || ', still open on R'
               END || {more}"""


def _unplaced_sql(reference_date: dt.date, band: AgeBand) -> str:
    r = sql_date(reference_date)
    age = academic_year_age_sql("dob", reference_date)
    open_place = f"(end_date IS NULL OR end_date > {r})"
    if not band.future_place_counts:
        open_place += f" AND (start_date IS NULL OR start_date <= {r})"
    return f"""
        WITH aged AS (
            SELECT identity_id, dob, {age} AS age FROM ({identity_dob_sql(REC)})
            WHERE {age} BETWEEN {band.ages[0]} AND {band.ages[1]}
        ),
        residence AS (SELECT * FROM {RESIDENCE} WHERE identity_id IN (SELECT identity_id FROM aged)),
        residence_start AS (    -- S: the latest start date of the residence evidence
            SELECT identity_id, max(coalesce(start_date, {UNKNOWN_START})) AS latest_start,
                   list(source || ':' || record_id ORDER BY start_date DESC NULLS LAST, source, record_id)
                     AS evidence_records,
                   string_agg(citation, '; ' ORDER BY start_date DESC NULLS LAST, source, record_id) AS cited
            FROM residence GROUP BY identity_id
        ),
        latest_residence AS (
            SELECT identity_id, postcode, {_current_evidence_sql()} AS current_evidence FROM (
                SELECT *, count(*) OVER (PARTITION BY identity_id) AS n_residence FROM residence)
            QUALIFY row_number() OVER (PARTITION BY identity_id
                                       ORDER BY start_date DESC NULLS LAST, source, record_id) = 1
        ),
        last_in AS (
            SELECT identity_id, max(travel_date) AS last_in FROM {REC}
            WHERE direction = 'IN' AND travel_date <= {r} GROUP BY identity_id
        ),
        departures AS (   -- an OUT crossing with no later IN, or a GP deregistration for any reason
            SELECT o.identity_id, o.travel_date AS departed_on FROM {REC} o LEFT JOIN last_in i USING (identity_id)
            WHERE o.direction = 'OUT' AND o.travel_date <= {r}
              AND (i.last_in IS NULL OR i.last_in <= o.travel_date)
            UNION ALL
            SELECT identity_id, end_date FROM {REC} WHERE source_type = 'gp' AND end_date <= {r}
        ),
        departed AS (
            SELECT DISTINCT d.identity_id FROM departures d JOIN residence_start s USING (identity_id)
            WHERE d.departed_on > s.latest_start
        ),
        placed AS (SELECT DISTINCT identity_id FROM {REC} WHERE source_type = 'education' AND {open_place}),
        last_seen AS (   -- unlike the rules' "latest", a school leaving date is a sighting too
            SELECT identity_id, source, seen AS latest_date FROM (
                SELECT *, greatest(latest_date, CASE WHEN end_date <= {r} THEN end_date END) AS seen FROM {REC})
            WHERE seen IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY identity_id ORDER BY seen DESC, source, record_id) = 1
        )
        SELECT a.identity_id AS child_id, a.dob, a.age, lr.postcode,
               ls.source AS last_seen_source, ls.latest_date AS last_seen_date,
               'Academic-year age ' || a.age || ' on R = ' || {r}
                 || '; residence evidence open on R with a home postcode: ' || s.cited
                 || '; no school enrolment open on R; no departure evidence'
                 || CASE WHEN s.latest_start = {UNKNOWN_START} THEN ' (residence start date unknown)'
                         ELSE ' after ' || s.latest_start END || '.' AS evidence,
               s.evidence_records, lr.current_evidence
        FROM aged a
        JOIN residence_start s USING (identity_id)
        JOIN latest_residence lr USING (identity_id)
        LEFT JOIN last_seen ls USING (identity_id)
        WHERE a.identity_id NOT IN (SELECT identity_id FROM departed)
          AND a.identity_id NOT IN (SELECT identity_id FROM placed)
        ORDER BY child_id
    """

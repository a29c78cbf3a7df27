"""known_to_social_care window and the age readings (DOB majority, academic-year age)."""

from __future__ import annotations

import datetime as dt

import pytest

from linkage.trace import academic_year_age, case_destinations, not_in_education
from linkage.trace.ages import academic_year_age_sql
from trace_world import HOME, R, World, d


def known(leaving: str, *, episode_start: str | None, episode_end: str | None,
          reference_date: dt.date = R) -> bool:
    w = World()
    ref = w.add("A", "education", entry_date="2015-09-01", leaving_date=leaving)
    w.case("C1", ref, None)
    w.add("A", "social_care", episode_type="CIN", episode_start=episode_start, episode_end=episode_end)
    frame = case_destinations(w.connect(), home_la=HOME, reference_date=reference_date)
    return bool(frame.known_to_social_care.iloc[0])


@pytest.mark.parametrize("episode_end, expected", [
    ("2024-03-01", True),      # ends exactly 12 months before L: inclusive
    ("2024-02-29", False),     # the day before
    (None, True),              # still open
])
def test_window_starts_twelve_months_before_l_inclusive(episode_end, expected):
    assert known("2025-03-01", episode_start="2023-01-01", episode_end=episode_end) is expected


@pytest.mark.parametrize("episode_end, expected", [("2023-02-28", True), ("2023-02-27", False)])
def test_leap_day_l_counts_back_to_28_february(episode_end, expected):
    assert known("2024-02-29", episode_start="2022-01-01", episode_end=episode_end) is expected


@pytest.mark.parametrize("episode_start, expected", [("2026-11-01", True), ("2026-11-02", False)])
def test_window_ends_on_r_inclusive(episode_start, expected):
    assert known("2025-03-01", episode_start=episode_start, episode_end=None) is expected


def test_social_care_evidence_is_cited_and_listed():
    w = World()
    ref = w.add("A", "education", entry_date="2015-09-01", leaving_date="2025-03-01")
    w.case("C1", ref, None)
    sc = w.add("A", "social_care", episode_type="CP", episode_start="2025-01-01")
    w.add("B", "social_care", episode_type="CP", episode_start="2025-01-01")   # another child
    row = case_destinations(w.connect(), home_la=HOME, reference_date=R).iloc[0]
    assert row.known_to_social_care and row.social_care_records == [sc]
    assert "Known to social care: " + sc in row.evidence


# Academic-year age ------------------------------------------------------------------------------

@pytest.mark.parametrize("dob, ref, age", [
    ("2021-08-31", "2026-11-01", 5),    # 31 August birthday: oldest in the year group
    ("2021-09-01", "2026-11-01", 4),    # 1 September birthday: youngest in the year below
    ("2021-08-31", "2026-09-01", 5),    # R on 1 September: the new academic year
    ("2021-08-31", "2026-07-31", 4),    # R in July: still the previous academic year
    ("2021-09-01", "2027-08-31", 4),
    ("2010-09-01", "2026-11-01", 15),   # Year 11
    ("2010-08-31", "2026-11-01", 16),
    ("2016-02-29", "2026-11-01", 10),
])
def test_academic_year_age_boundaries(dob, ref, age):
    assert academic_year_age(d(dob), d(ref)) == age


def test_sql_academic_year_age_matches_python():
    import duckdb
    con = duckdb.connect()
    dobs = [dt.date(2008, 1, 1) + dt.timedelta(days=k) for k in range(0, 6000, 7)]
    for ref in (d("2026-11-01"), d("2026-08-31"), d("2026-09-01"), d("2027-02-28")):
        got = con.execute(f"SELECT {academic_year_age_sql('dob', ref)} FROM unnest(?) t(dob) ORDER BY dob",
                          [dobs]).fetchall()
        assert [g[0] for g in got] == [academic_year_age(x, ref) for x in sorted(dobs)]


# Date of birth across records -------------------------------------------------------------------

def resident(w: World, child: str, *dobs: str | None) -> None:
    w.add(child, "gp", registration_date="2020-01-01", postcode="B12 9AA", dob_date=dobs[0])
    for dob in dobs[1:]:
        w.add(child, "council_tax", occupancy_start="2020-01-01", postcode="B12 9AA", dob_date=dob)


def test_dob_is_the_most_frequent_value_ties_to_earliest():
    w = World()
    resident(w, "MAJ", "2015-01-01", "2016-06-06", "2016-06-06")
    resident(w, "TIE", "2016-06-06", "2015-01-01")
    resident(w, "NUL", None, "2016-06-06", None)
    out = not_in_education(w.connect(), home_la=HOME, reference_date=R).set_index("child_id")
    assert out.loc["MAJ", "dob"] == d("2016-06-06")
    assert out.loc["TIE", "dob"] == d("2015-01-01")
    assert out.loc["NUL", "dob"] == d("2016-06-06")


def test_majority_dob_decides_school_age():
    w = World()
    # two records say 2022 (academic-year age 4), one says 2016: the child is not of school age
    resident(w, "A", "2016-06-06", "2022-01-01", "2022-01-01")
    assert not_in_education(w.connect(), home_la=HOME, reference_date=R).empty

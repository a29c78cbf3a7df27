"""not_in_education and starting_school_without_place (contract §4)."""

from __future__ import annotations

import pandas as pd

from linkage.trace import not_in_education, starting_school_without_place
from linkage.trace.lookup import postcode_areas
from linkage.trace.school_age import school_age_lists
from trace_world import HOME, R, World, d

SCHOOL_AGE_DOB = "2016-06-06"      # academic-year age 10 on R
RECEPTION_DOB = "2022-01-01"       # academic-year age 4 on R


def listed(w: World, fn=not_in_education) -> list[str]:
    return fn(w.connect(), home_la=HOME, reference_date=R).child_id.tolist()


def test_resident_school_age_child_without_school_is_listed_with_contract_columns():
    w = World()
    gp = w.add("A", "gp", registration_date="2023-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("A", "education", entry_date="2021-09-01", leaving_date="2024-07-20", dob_date=SCHOOL_AGE_DOB)
    out = not_in_education(w.connect(), home_la=HOME, reference_date=R)
    assert list(out.columns[:7]) == ["child_id", "dob", "age", "postcode", "last_seen_source",
                                     "last_seen_date", "evidence"]
    row = out.iloc[0]
    assert (row.child_id, row.dob, row.age, row.postcode) == ("A", d(SCHOOL_AGE_DOB), 10, "B12 9AA")
    assert (row.last_seen_source, row.last_seen_date) == ("education", d("2024-07-20"))
    assert row.evidence_records == [gp] and gp in row.evidence


def test_open_enrolment_or_away_postcode_or_ended_residence_is_not_listed():
    w = World()
    w.add("S", "gp", registration_date="2023-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("S", "education", entry_date="2021-09-01", dob_date=SCHOOL_AGE_DOB)          # on roll
    w.add("N", "gp", registration_date="2023-01-01", postcode="CV1 2AB", dob_date=SCHOOL_AGE_DOB)
    w.add("E", "council_tax", occupancy_start="2023-01-01", occupancy_end="2026-10-01",
          postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("U", "council_tax", occupancy_start="2023-01-01", postcode="ZZ9 9ZZ", dob_date=SCHOOL_AGE_DOB)
    assert listed(w) == []


def test_departure_after_the_residence_start_excludes_the_child():
    w = World()
    # D1: deregistered (any reason) after the council tax occupancy began: excluded
    w.add("D1", "council_tax", occupancy_start="2023-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("D1", "gp", registration_date="2020-01-01", deregistration_date="2024-01-01",
          deregistration_reason="moved", postcode="B12 9AA")
    # D2: the deregistration came before the occupancy began: listed
    w.add("D2", "council_tax", occupancy_start="2024-06-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("D2", "gp", registration_date="2020-01-01", deregistration_date="2024-01-01",
          deregistration_reason="gone_away", postcode="B12 9AA")
    # D3: OUT crossing after the start, never back: excluded
    w.add("D3", "gp", registration_date="2023-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("D3", "border", direction="OUT", travel_date="2025-01-01")
    # D4: OUT then IN again (a holiday): listed
    w.add("D4", "gp", registration_date="2023-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("D4", "border", direction="OUT", travel_date="2025-01-01")
    w.add("D4", "border", direction="IN", travel_date="2025-01-20")
    # D5: deregistered on the very day the occupancy began: not later, listed
    w.add("D5", "council_tax", occupancy_start="2024-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("D5", "gp", registration_date="2020-01-01", deregistration_date="2024-01-01",
          deregistration_reason="moved")
    assert listed(w) == ["D2", "D4", "D5"]


def test_in_crossing_is_residence_at_the_latest_home_address():
    w = World()
    w.add("A", "council_tax", occupancy_start="2020-01-01", occupancy_end="2024-01-01",
          postcode="B13 1AA", dob_date=SCHOOL_AGE_DOB)
    crossing = w.add("A", "border", direction="IN", travel_date="2025-05-01")
    out = not_in_education(w.connect(), home_la=HOME, reference_date=R)
    assert out.child_id.tolist() == ["A"]
    assert out.postcode.iloc[0] == "B13 1AA" and out.evidence_records.iloc[0] == [crossing]


def test_postcode_is_that_of_the_latest_started_residence():
    w = World()
    w.add("A", "gp", registration_date="2020-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("A", "council_tax", occupancy_start="2024-01-01", postcode="B14 3CD", dob_date=SCHOOL_AGE_DOB)
    assert not_in_education(w.connect(), home_la=HOME, reference_date=R).postcode.tolist() == ["B14 3CD"]


def test_ages_adults_and_missing_dob():
    w = World()
    for child, dob in (("Y1", "2021-08-31"), ("Y11", "2010-09-01"), ("REC", RECEPTION_DOB),
                       ("SIXTH", "2010-08-31"), ("ADULT", "1985-03-03"), ("NODOB", None)):
        w.add(child, "council_tax", occupancy_start="2020-01-01", postcode="B12 9AA", dob_date=dob,
              role="dependant" if child != "ADULT" else "liable")
    assert listed(w) == ["Y1", "Y11"]
    assert listed(w, starting_school_without_place) == ["REC"]


def test_starting_school_a_place_starting_next_september_is_a_place():
    w = World()
    w.add("P", "gp", registration_date="2022-02-01", postcode="B12 9AA", dob_date=RECEPTION_DOB)
    w.add("P", "education", entry_date="2027-09-01", dob_date=RECEPTION_DOB)
    w.add("Q", "gp", registration_date="2022-02-01", postcode="B12 9AA", dob_date=RECEPTION_DOB)
    w.add("Q", "education", entry_date="2026-09-01", leaving_date="2026-10-01", dob_date=RECEPTION_DOB)
    assert listed(w, starting_school_without_place) == ["Q"]


def test_school_age_a_place_starting_after_r_is_not_yet_a_place():
    w = World()
    w.add("A", "gp", registration_date="2022-02-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("A", "education", entry_date="2027-01-05", dob_date=SCHOOL_AGE_DOB)
    assert listed(w) == ["A"]


def test_full_postcode_lookup_variant():
    w = World()
    w.add("A", "gp", registration_date="2022-02-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("B", "gp", registration_date="2022-02-01", postcode="B12 9AB", dob_date=SCHOOL_AGE_DOB)
    out = not_in_education(w.connect(full_postcodes={"b129aa": "330", "B12 9AB": "331"}),
                           home_la=HOME, reference_date=R)
    assert out.child_id.tolist() == ["A"]


def test_out_crossing_followed_by_in_is_no_departure_even_when_the_in_is_not_residence():
    w = World()
    w.add("A", "council_tax", occupancy_start="2023-01-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("A", "border", direction="OUT", travel_date="2025-01-01")
    w.add("A", "border", direction="IN", travel_date="2025-01-20")
    # a later, closed, away address: the IN crossing is not residence, the occupancy (from 2023) is
    w.add("A", "social_care", episode_start="2025-02-01", episode_end="2025-03-01", postcode="CV1 2AB")
    out = not_in_education(w.connect(), home_la=HOME, reference_date=R)
    assert out.child_id.tolist() == ["A"] and out.evidence.iloc[0].endswith("after 2023-01-01.")


def test_both_lists_at_once_match_each_list_alone():
    w = World()
    w.add("A", "gp", registration_date="2022-02-01", postcode="B12 9AA", dob_date=SCHOOL_AGE_DOB)
    w.add("B", "council_tax", occupancy_start="2023-01-01", postcode="B13 1AA", dob_date=RECEPTION_DOB)
    w.add("C", "gp", registration_date="2022-02-01", postcode="B14 1AA", dob_date=SCHOOL_AGE_DOB)
    w.add("C", "education", entry_date="2021-09-01", dob_date=SCHOOL_AGE_DOB)
    con = w.connect()
    with postcode_areas(con, "postcode_lookup", HOME) as areas:
        both = school_age_lists(con, records="std_records", identities="identities", areas=areas, reference_date=R)
    assert both.not_in_education.child_id.tolist() == ["A"] and both.starting_school.child_id.tolist() == ["B"]
    pd.testing.assert_frame_equal(both.not_in_education, not_in_education(con, home_la=HOME, reference_date=R))
    pd.testing.assert_frame_equal(both.starting_school,
                                  starting_school_without_place(con, home_la=HOME, reference_date=R))
    assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name LIKE '\\_trace\\_%' ESCAPE '\\'").fetchall()

"""The files ``trace_job`` writes: contract columns, the separate lists, spreadsheet safety, trace.html."""

from __future__ import annotations

import csv

import pandas as pd

from linkage.trace.reference import evidence_strengths
from trace_job_world import JobWorld

CASE_COLUMNS = ["case_id", "child_id", "destination", "known_to_social_care", "confidence", "evidence"]
LIST_COLUMNS = ["child_id", "dob", "age", "postcode", "last_seen_source", "last_seen_date", "evidence"]
SCHOOL_AGE, RECEPTION = "2016-06-06", "2022-01-01"
SCRIPT = "<script>alert(1)</script>"


def world(tmp_path) -> JobWorld:
    w = JobWorld(tmp_path)
    ref = w.add("A", "education", record_id=SCRIPT, forename="Zainab", surname="Okonkwo", dob="2015-05-05",
                postcode="B12 9AA", school_urn="100001", entry_date="2020-09-01", leaving_date="2025-03-01")
    w.case("K1", ref, "2025-03-20")
    w.add("A", "gp", record_id="=HYPERLINK(1)", forename="Zainab", surname="Okonkwo", dob="2015-05-05",
          postcode="B14 7QT", registration_date="2016-01-01")
    # Arrived this year and registered with a GP here: not in education, arrived from abroad.
    w.add("N", "border", forename="Dmytro", surname="Shevchenko", dob=SCHOOL_AGE, direction="IN",
          travel_date="2026-06-01", passport_number="FA123456")
    w.add("N", "gp", forename="Dmytro", surname="Shevchenko", dob=SCHOOL_AGE, postcode="B13 2PL",
          registration_date="2026-06-10")
    # Long-settled child with no school: listed, not an arrival.
    w.add("S", "council_tax", forename="Olivia", surname="Pemberton", dob=SCHOOL_AGE, postcode="B12 4RT",
          occupancy_start="2019-01-01", role="dependant")
    # Known only by an arrival years ago, at a home address: listed and an arrival.
    w.add("O", "border", forename="Yusuf", surname="Demir", dob=SCHOOL_AGE, postcode="B12 8XX", direction="IN",
          travel_date="2022-02-01")
    # Reception age, no place: starting school without a place.
    w.add("P", "gp", forename="Isla", surname="McAllister", dob=RECEPTION, postcode="B12 5JJ",
          registration_date="2022-02-01")
    return w


def test_csv_files_have_the_contract_columns_first_and_the_separate_lists(tmp_path):
    result = world(tmp_path).trace()
    out = tmp_path / "out"
    assert pd.read_csv(out / "cme_trace.csv").columns[:6].tolist() == CASE_COLUMNS
    for name in ("not_in_education.csv", "starting_school_without_place.csv",
                 "arrived_from_abroad_not_in_education.csv"):
        assert pd.read_csv(out / name).columns[:7].tolist() == LIST_COLUMNS, name
    listed = pd.read_csv(out / "not_in_education.csv", dtype=str).set_index("child_id")
    assert listed.index.tolist() == ["A", "N", "O", "S"]        # A: the CME child, at home with a GP
    assert listed.arrived_from_abroad.to_dict() == {"A": "False", "N": "True", "O": "True", "S": "False"}
    arrivals = pd.read_csv(out / "arrived_from_abroad_not_in_education.csv", dtype=str).set_index("child_id")
    assert arrivals.arrival_date.to_dict() == {"N": "2026-06-01", "O": "2022-02-01"}
    assert arrivals.known_only_by_arrival.to_dict() == {"N": "False", "O": "True"}
    assert pd.read_csv(out / "starting_school_without_place.csv", dtype=str).child_id.tolist() == ["P"]
    assert [p.name for p in result.files][-1] == "trace.html"


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    world(tmp_path).trace()
    with open(tmp_path / "out" / "cme_timeline.csv", newline="", encoding="utf-8") as handle:
        ids = [row["record_id"] for row in csv.DictReader(handle)]
    assert "'=HYPERLINK(1)" in ids and "=HYPERLINK(1)" not in ids


def test_report_has_no_personal_data_and_escapes_record_ids(tmp_path):
    w = world(tmp_path)
    w.trace()
    page = (tmp_path / "out" / "trace.html").read_text(encoding="utf-8")
    for source_rows in w.rows.values():
        for row in source_rows:
            for field in ("forename", "surname", "dob", "postcode", "passport_number"):
                if isinstance(row.get(field), str):
                    assert row[field] not in page, field
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Ranked worklist" in page and "K1" in page and "<details>" in page
    assert "<script src" not in page and "<link" not in page          # self-contained: nothing to fetch


def test_outputs_are_the_same_on_a_second_run(tmp_path):
    w = world(tmp_path)
    w.trace()
    first = {p.name: p.read_bytes() for p in (tmp_path / "out").glob("*.csv")}
    w.trace()
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").glob("*.csv")} == first


def test_every_destination_and_evidence_kind_has_a_strength():
    table = evidence_strengths()
    kinds = {("in_education_elsewhere", "enrolment"), ("left_england", "out_crossing_and_embarkation"),
             ("left_england", "out_crossing"), ("left_england", "embarkation"),
             ("moved_out_of_area", "address_current"), ("moved_out_of_area", "address_ended"),
             ("in_area_not_in_education", "residence_corroborated"), ("in_area_not_in_education", "residence"),
             ("in_area_not_in_education", "arrival_only"), ("no_trace", "sources_searched"),
             ("any", "contested_by_weak_link")}
    assert kinds == set(zip(table.destination, table.evidence))
    assert table.strength.between(0, 1).all()

"""Check first: a listed child who may be a pupil on roll under another child_id is not on the list.

End to end through ``trace_job`` (CSV sources, a job file, a hand-made run folder), so each test
decides exactly which pairs were scored and at what probability.
"""

from __future__ import annotations

import re

import pandas as pd

from linkage.trace.check_first import SAME_DETAILS, SCORED
from linkage.trace.reference import destination_labels
from trace_job_world import JobWorld

SCHOOL_AGE = "2015-05-05"          # academic-year age 11 on R
LIST_COLUMNS = ["child_id", "dob", "age", "postcode", "last_seen_source", "last_seen_date", "evidence"]


def on_roll(w: JobWorld, child: str, *, forename="Freddie", surname="Johnson", dob=SCHOOL_AGE,
            postcode="B12 9AA", leaving_date: str | None = None) -> str:
    """A pupil whose enrolment is open on R (unless ``leaving_date`` is before R)."""
    return w.add(child, "education", forename=forename, surname=surname, dob=dob, postcode=postcode,
                 school_urn="100001", entry_date="2020-09-01", leaving_date=leaving_date)


def lone_gp(w: JobWorld, child: str, *, forename="Freddie", surname="Johnson", dob=SCHOOL_AGE,
            postcode="B12 9AA") -> str:
    """An open GP registration at a home postcode: on its own, a child not in education."""
    return w.add(child, "gp", forename=forename, surname=surname, dob=dob, postcode=postcode,
                 registration_date="2016-01-01")


def outputs(w: JobWorld) -> tuple[pd.DataFrame, pd.DataFrame]:
    w.trace(with_cases=False)
    out = w.folder / "out"
    return (pd.read_csv(out / "not_in_education.csv", dtype=str).set_index("child_id"),
            pd.read_csv(out / "not_in_education_check.csv", dtype=str).set_index("child_id"))


def test_a_split_child_with_a_possible_match_on_roll_goes_to_check_first_not_the_list(tmp_path):
    w = JobWorld(tmp_path)
    school = on_roll(w, "PUPIL")
    gp = lone_gp(w, "SPLIT", forename="Freddy")
    w.pair(gp, school, 0.70)             # in the review band: scored, not clustered
    listed, check = outputs(w)
    assert "SPLIT" not in listed.index
    row = check.loc["SPLIT"]
    assert (row.possible_match_child_id, row.possible_match_record, row.listed_record) == ("PUPIL", school, gp)
    assert (float(row.possible_match_probability), row.possible_match_kind) == (0.70, SCORED)
    assert "PUPIL" in row.check_reason and "0.70" in row.check_reason
    assert check.reset_index().columns[:7].tolist() == LIST_COLUMNS      # the list's contract columns first


def test_a_child_with_no_possible_match_on_roll_stays_on_the_list(tmp_path):
    w = JobWorld(tmp_path)
    school = on_roll(w, "PUPIL")
    below = lone_gp(w, "BELOW", forename="Freddy", postcode="B13 1AA")
    w.pair(below, school, 0.49)          # under the review band's low end (0.5): not a possible match
    ended = on_roll(w, "LEFT", forename="Maya", surname="Patel", leaving_date="2025-07-20")
    gone = lone_gp(w, "NOT_A_PUPIL", forename="Maya", surname="Patel")
    w.pair(gone, ended, 0.90)            # a possible match, but not on roll on R
    listed, check = outputs(w)
    assert {"BELOW", "NOT_A_PUPIL"} <= set(listed.index) and check.empty


def test_the_jobs_review_band_sets_what_counts_as_a_possible_match(tmp_path):
    w = JobWorld(tmp_path)
    w.review_band = (0.8, 0.95)
    w.pair(lone_gp(w, "SPLIT", forename="Freddy", postcode="B13 1AA"), on_roll(w, "PUPIL"), 0.70)
    listed, check = outputs(w)
    assert "SPLIT" in listed.index and check.empty


def test_same_birth_date_postcode_and_a_name_is_a_possible_match_even_unscored(tmp_path):
    w = JobWorld(tmp_path)
    school = on_roll(w, "PUPIL", forename="Freddie", surname="Johnson")
    swapped = lone_gp(w, "SWAPPED", forename="Johnson", surname="Fredddie")   # blocking never paired them
    lone_gp(w, "ELSEWHERE", forename="Johnson", surname="Fredddie", postcode="B13 1AA")   # other postcode
    lone_gp(w, "STRANGER", forename="Olivia", surname="Pemberton")             # no name in common
    listed, check = outputs(w)
    assert check.index.tolist() == ["SWAPPED"]
    row = check.loc["SWAPPED"]
    assert (row.possible_match_record, row.possible_match_kind) == (school, SAME_DETAILS)
    assert pd.isna(row.possible_match_probability) and "not scored" in row.check_reason
    assert {"ELSEWHERE", "STRANGER"} <= set(listed.index)


def test_the_best_scored_match_is_named_and_the_other_pupils_counted(tmp_path):
    w = JobWorld(tmp_path)
    gp = lone_gp(w, "SPLIT", forename="Freddy")
    w.pair(gp, on_roll(w, "P1"), 0.60)
    w.pair(on_roll(w, "P2"), gp, 0.85)    # either side of the pair
    _, check = outputs(w)
    row = check.loc["SPLIT"]
    assert (row.possible_match_child_id, float(row.possible_match_probability), row.possible_matches) == \
        ("P2", 0.85, "2")


def test_a_check_first_arrival_is_not_on_the_arrivals_list(tmp_path):
    w = JobWorld(tmp_path)
    arrived = w.add("NEW", "border", forename="Freddy", surname="Johnson", dob=SCHOOL_AGE, direction="IN",
                    travel_date="2026-06-01")
    gp = w.add("NEW", "gp", forename="Freddy", surname="Johnson", dob=SCHOOL_AGE, postcode="B13 2PL",
               registration_date="2026-06-10")
    w.pair(gp, on_roll(w, "PUPIL", postcode="B14 7QT"), 0.75)
    w.trace(with_cases=False)
    out = w.folder / "out"
    assert pd.read_csv(out / "arrived_from_abroad_not_in_education.csv").empty
    check = pd.read_csv(out / "not_in_education_check.csv", dtype=str).set_index("child_id")
    assert check.loc["NEW", "arrived_from_abroad"] == "True" and arrived not in check.loc["NEW", "listed_record"]


def test_report_shows_what_still_places_the_child_and_the_check_first_list(tmp_path):
    w = JobWorld(tmp_path)
    w.pair(lone_gp(w, "SPLIT", forename="Freddy"), on_roll(w, "PUPIL"), 0.70)
    lone_gp(w, "LISTED", forename="Olivia", surname="Pemberton", postcode="B14 7QT")
    w.trace(with_cases=False)
    out = w.folder / "out"
    listed = pd.read_csv(out / "not_in_education.csv", dtype=str).set_index("child_id")
    assert listed.loc["LISTED", "current_evidence"] == "GP registration since 2016-01-01, still open on R"
    page = (out / "trace.html").read_text(encoding="utf-8")
    assert "Check first: may already be on a school roll" in page
    assert "<td>GP registration since 2016-01-01, still open on R</td>" in page
    assert "<td>0.70</td>" in page
    for personal in ("Freddy", "Johnson", "Pemberton", SCHOOL_AGE, "B14 7QT", "B12 9AA"):
        assert personal not in page, personal


def test_report_charts_the_five_destinations_in_the_rules_order_with_plain_labels(tmp_path):
    w = JobWorld(tmp_path)
    ref = on_roll(w, "A", leaving_date="2025-03-01")
    w.case("K1", ref, "2025-03-20")
    w.trace()
    page = (w.folder / "out" / "trace.html").read_text(encoding="utf-8")
    charted = re.findall(r'"destination":\s*"([^"]+)"', page)
    assert charted == list(destination_labels().values())
    assert "no_trace" not in charted and "No trace in any service" in charted

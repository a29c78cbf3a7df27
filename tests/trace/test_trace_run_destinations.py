"""Each destination end to end through ``trace_job``: CSV sources, a job file and a link run folder."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.errors import ChildlinkError
from trace_job_world import JobWorld, by_case

LEFT = "2025-03-01"


def pupil(w: JobWorld, child: str, case_id: str, *, dob: str = "2015-05-05", postcode: str = "B12 9AA",
          forename: str = "Amina", surname: str = "Khan") -> str:
    """A pupil who left the roll on LEFT, referred as CME."""
    ref = w.add(child, "education", forename=forename, surname=surname, dob=dob, postcode=postcode,
                school_urn="100001", entry_date="2020-09-01", leaving_date=LEFT)
    w.case(case_id, ref, "2025-03-20")
    return ref


def test_new_enrolment_is_in_education_elsewhere(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    new = w.add("A", "education", dob="2015-05-05", school_urn="100002", entry_date="2025-04-14")
    row = by_case(w.trace())["K1"]
    assert (row.destination, row.child_id, row.evidence_records) == ("in_education_elsewhere", "A", new)
    assert new in row.evidence and 0 < row.confidence <= 1


def test_out_crossing_with_embarkation_is_left_england_and_beats_a_lone_crossing(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2025-04-02",
          deregistration_reason="embarkation", postcode="B12 9AA")
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    pupil(w, "B", "K2", forename="Ben", surname="Ward")
    w.add("B", "border", direction="OUT", travel_date="2025-04-01")
    rows = by_case(w.trace())
    assert rows["K1"].destination == rows["K2"].destination == "left_england"
    assert rows["K1"].evidence_kind == "out_crossing_and_embarkation"
    assert rows["K2"].evidence_kind == "out_crossing"
    assert rows["K1"].confidence > rows["K2"].confidence
    assert not rows["K1"].needs_review


def test_holiday_abroad_and_return_is_not_left_england(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    w.add("A", "gp", registration_date="2016-01-01", postcode="B12 9AA")
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    back = w.add("A", "border", direction="IN", travel_date="2025-04-15")
    row = by_case(w.trace())["K1"]
    assert row.destination == "in_area_not_in_education"
    assert "gp:" in row.evidence_records
    timeline = w_timeline(w, "K1")
    assert back.split(":")[1] in timeline.record_id.tolist()


def w_timeline(w: JobWorld, case_id: str) -> pd.DataFrame:
    frame = pd.read_csv(w.folder / "out" / "cme_timeline.csv", dtype=str)
    return frame[frame.case_id == case_id]


def test_move_out_of_the_area_and_move_inside_the_home_la(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    away = w.add("A", "gp", registration_date="2025-05-01", postcode="CV1 2AB")
    pupil(w, "B", "K2", forename="Ben", surname="Ward")
    w.add("B", "council_tax", occupancy_start="2025-05-01", role="dependant", postcode="B13 1XY")
    rows = by_case(w.trace())
    assert (rows["K1"].destination, rows["K1"].evidence_records) == ("moved_out_of_area", away)
    assert rows["K1"].evidence_kind == "address_current" and "LA 331" in rows["K1"].evidence
    # A new address in another district of the home LA is still home: not moved out of area.
    assert rows["K2"].destination == "in_area_not_in_education"


def test_no_trace_confidence_reflects_how_many_source_types_were_searched(tmp_path):
    few, many = JobWorld(tmp_path / "few"), JobWorld(tmp_path / "many")
    for folder, world in ((tmp_path / "few", few), (tmp_path / "many", many)):
        folder.mkdir()
        pupil(world, "A", "K1")
    for stype, fields in (("gp", {"registration_date": "2010-01-01"}),
                          ("council_tax", {"occupancy_start": "2010-01-01"}),
                          ("social_care", {"episode_start": "2010-01-01", "episode_end": "2011-01-01"}),
                          ("border", {"direction": "IN", "travel_date": "2010-01-01"})):
        many.add(None, stype, **fields)        # other children: the sources exist and were searched
    row_few, row_many = by_case(few.trace())["K1"], by_case(many.trace())["K1"]
    assert row_few.destination == row_many.destination == "no_trace"
    assert row_many.confidence > row_few.confidence
    assert row_many.evidence_strength == pytest.approx(0.9) and row_few.evidence_strength == pytest.approx(0.18)


def test_twins_are_traced_apart(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "T1", "K1", forename="Hassan", surname="Ali")
    pupil(w, "T2", "K2", forename="Hussein", surname="Ali")
    school = w.add("T1", "education", dob="2015-05-05", school_urn="100009", entry_date="2025-04-01")
    out = w.add("T2", "border", dob="2015-05-05", direction="OUT", travel_date="2025-04-01")
    rows = by_case(w.trace())
    assert (rows["K1"].destination, rows["K1"].evidence_records) == ("in_education_elsewhere", school)
    assert (rows["K2"].destination, rows["K2"].evidence_records) == ("left_england", out)
    assert out not in rows["K1"].evidence and school not in rows["K2"].evidence


def test_child_linked_only_through_a_weak_border_match_is_not_left_england(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    weak = w.add("A", "border", direction="OUT", travel_date="2025-04-01", confidence=0.62)
    w.pair("education:" + w.rows["education"][0]["record_id"], weak, 0.62)
    row = by_case(w.trace())["K1"]
    assert row.destination == "no_trace"
    assert row.destination_with_weak_links == "left_england"
    assert row.weak_link_records == weak and row.needs_review
    assert "possible border match " + weak in row.evidence and "needs review" in row.evidence


def test_weak_record_tied_directly_to_the_case_record_above_the_threshold_is_firm(tmp_path):
    w = JobWorld(tmp_path)
    ref = pupil(w, "A", "K1")
    crossing = w.add("A", "border", direction="OUT", travel_date="2025-04-01", confidence=0.62)
    w.pair(crossing, ref, 0.97)           # either orientation counts
    row = by_case(w.trace())["K1"]
    assert row.destination == "left_england" and row.link_confidence == pytest.approx(0.97)
    assert row.weak_link_records == "" and not row.needs_review


def test_weak_record_cannot_veto_a_departure_either(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    weak_gp = w.add("A", "gp", registration_date="2025-06-01", postcode="B12 9AA", confidence=0.55)
    row = by_case(w.trace())["K1"]
    assert row.destination == "left_england"
    assert row.destination_with_weak_links == "in_area_not_in_education"
    assert "possible gp match " + weak_gp in row.evidence


def test_known_to_social_care_and_unlinked_weak_social_care_is_only_mentioned(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    cp = w.add("A", "social_care", episode_type="CP", episode_start="2024-06-01", episode_end="2024-12-01")
    pupil(w, "B", "K2", forename="Ben", surname="Ward")
    w.add("B", "social_care", episode_type="CIN", episode_start="2024-06-01", confidence=0.5)
    rows = by_case(w.trace())
    assert rows["K1"].known_to_social_care and rows["K1"].social_care_records == cp
    assert not rows["K2"].known_to_social_care
    assert "would be known to social care" in rows["K2"].evidence and rows["K2"].needs_review


def test_job_without_cases_still_writes_the_lists(tmp_path):
    w = JobWorld(tmp_path)
    w.add("A", "gp", dob="2016-06-06", registration_date="2023-01-01", postcode="B12 9AA")
    result = w.trace(with_cases=False)
    assert result.tables.cases.empty and result.tables.not_in_education.child_id.tolist() == ["A"]
    assert (tmp_path / "out" / "cme_trace.csv").read_text().startswith("case_id,child_id,destination")


def test_stale_run_and_missing_lookup_are_refused(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "A", "K1")
    job = w.write()
    extra = pd.read_parquet(tmp_path / "run" / "identities.parquet")
    extra.loc[len(extra)] = ["education", "GONE", "X", 0.99]
    extra.to_parquet(tmp_path / "run" / "identities.parquet", index=False)
    from linkage.job import load_job
    from linkage.trace.run import trace_job

    with pytest.raises(ChildlinkError, match="does not match the job"):
        trace_job(load_job(job), tmp_path / "out", run_dir=tmp_path / "run")
    job.write_text(job.read_text().replace("postcode_lookup: lookup.csv\n", ""))
    with pytest.raises(ChildlinkError, match="postcode_lookup"):
        trace_job(load_job(job), tmp_path / "out", run_dir=tmp_path / "run")
    with pytest.raises(ChildlinkError, match="identities.parquet"):
        (tmp_path / "run" / "identities.parquet").unlink()
        job.write_text(job.read_text() + "postcode_lookup: lookup.csv\n")
        trace_job(load_job(job), tmp_path / "out", run_dir=tmp_path / "run")


def test_twin_crossing_that_could_be_either_twin_does_not_send_one_abroad(tmp_path):
    w = JobWorld(tmp_path)
    pupil(w, "T1", "K1", forename="Hassan", surname="Ali")
    pupil(w, "T2", "K2", forename="Hussein", surname="Ali")
    # Same surname, date of birth and travel: the linker put the crossing with T1, but only just.
    ambiguous = w.add("T1", "border", dob="2015-05-05", direction="OUT", travel_date="2025-04-01", confidence=0.51)
    rows = by_case(w.trace())
    assert rows["K1"].destination == rows["K2"].destination == "no_trace"
    assert rows["K1"].destination_with_weak_links == "left_england" and ambiguous in rows["K1"].evidence
    assert ambiguous not in rows["K2"].evidence


def test_case_record_with_a_rival_identity_names_where_to_look(tmp_path):
    w = JobWorld(tmp_path)
    ref = w.add("A", "education", dob="2015-05-05", postcode="B12 9AA", school_urn="100001",
                entry_date="2020-09-01", leaving_date=LEFT, confidence=0.3)
    w.case("K1", ref, "2025-03-20")
    rival = w.add("B", "gp", dob="2015-05-05", registration_date="2025-05-01", postcode="CV1 2AB")
    w.pair(ref, rival, 0.7)
    row = by_case(w.trace())["K1"]
    assert row.destination == "no_trace"              # the rival's record is another child's: not used
    assert row.needs_review and row.review_reason == f"the case record may also match {rival} of child B"
    assert (row.rival_record, row.rival_child, row.rival_probability) == (rival, "B", 0.7)
    assert "may be the same child (match probability 0.70)" in row.evidence

"""SEN in triage, end to end: an education source's optional ``sen`` column reaches the risk score."""

from __future__ import annotations

import pandas as pd

from linkage.trace.reference import triage_points
from trace_job_world import JobWorld

LEFT = "2025-03-01"


def referred(w: JobWorld, child: str, case_id: str, **fields) -> None:
    """A pupil who left the roll on LEFT and is now on no roll (no trace)."""
    ref = w.add(child, "education", forename="Amina", surname="Khan", dob="2015-05-05", postcode="B12 9AA",
                school_urn="100001", entry_date="2020-09-01", leaving_date=LEFT, **fields)
    w.case(case_id, ref, "2025-03-20")


def cases(w: JobWorld) -> pd.DataFrame:
    w.trace()
    return pd.read_csv(w.folder / "out" / "cme_trace.csv", dtype=str).set_index("case_id")


def test_an_education_sen_column_scores_for_the_childs_case(tmp_path):
    w = JobWorld(tmp_path)
    referred(w, "A", "K_ehcp", sen="E")          # Education, Health and Care plan
    referred(w, "B", "K_none", sen="N")          # N: no special educational need
    referred(w, "C", "K_blank")                  # no value recorded
    got = cases(w)
    assert got.sen.fillna("").to_dict() == {"K_ehcp": "True", "K_none": "False", "K_blank": ""}
    points = triage_points()["sen"][0]
    assert int(got.loc["K_ehcp", "risk_score"]) - int(got.loc["K_none", "risk_score"]) == points
    assert got.loc["K_blank", "risk_score"] == got.loc["K_none", "risk_score"]
    assert f"special educational needs recorded (+{points})" in got.loc["K_ehcp", "risk_reasons"]
    assert got.loc["K_ehcp", "risk_rank"] == "1"


def test_without_a_sen_column_triage_works_and_sen_is_unknown(tmp_path):
    w = JobWorld(tmp_path)
    referred(w, "A", "K1")
    referred(w, "B", "K2")
    got = cases(w)
    assert got.sen.isna().all()
    assert not got.risk_reasons.str.contains("special").any()
    assert sorted(got.risk_rank) == ["1", "2"]


def test_a_sen_column_in_another_source_type_is_not_read(tmp_path):
    w = JobWorld(tmp_path)
    referred(w, "A", "K1")
    w.add("A", "gp", forename="Amina", surname="Khan", dob="2015-05-05", postcode="B12 9AA",
          registration_date="2016-01-01", sen="E")
    assert cases(w).sen.isna().all()

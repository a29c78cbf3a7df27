"""Triage: cases ranked by risk with the reasons and points shown (hand-made workspace tables)."""

from __future__ import annotations

import re

from linkage.trace.reference import triage_points
from linkage.trace.worklist import trace_linked
from trace_world import HOME, R, World

AGE_8, AGE_9, AGE_10, AGE_11, AGE_12 = "2018-03-03", "2017-01-01", "2016-06-06", "2015-05-05", "2014-01-01"


def referred(w: World, child: str, case_id: str, *, leaving: str, dob: str = AGE_8, **fields) -> str:
    ref = w.add(child, "education", entry_date="2019-09-01", leaving_date=leaving, dob_date=dob,
                postcode="B12 9AA", **fields)
    w.case(case_id, ref, leaving)
    return ref


def in_school_again(w: World, child: str, leaving: str) -> None:
    w.add(child, "education", entry_date=leaving, school_urn="100777")


def ranked(w: World, con=None):
    con = con or w.connect()
    cases = trace_linked(con, identities="identities", pairs=None, home_la=HOME, reference_date=R,
                         match_threshold=0.95).cases
    return cases.set_index("case_id")


def test_cases_are_ranked_by_risk_with_every_reason_and_its_points():
    w = World()
    referred(w, "SC", "K_sc", leaving="2026-09-01")                    # known to social care, back in school
    in_school_again(w, "SC", "2026-09-01")
    w.add("SC", "social_care", episode_type="CP", episode_start="2026-01-01")
    referred(w, "NT", "K_nt", leaving="2025-03-01")                    # no trace, 20 months
    referred(w, "IA", "K_ia", leaving="2026-10-01")                    # in the area, no school
    w.add("IA", "gp", registration_date="2020-01-01", postcode="B12 9AA")
    referred(w, "TR", "K_tr", leaving="2026-10-01", dob=AGE_11)        # transition age, back in school
    in_school_again(w, "TR", "2026-10-01")
    referred(w, "IE", "K_ie", leaving="2026-10-01")                    # back in school
    in_school_again(w, "IE", "2026-10-01")
    cases = ranked(w)
    assert cases.sort_values("risk_rank").index.tolist() == ["K_nt", "K_sc", "K_ia", "K_tr", "K_ie"]
    assert cases.risk_score.to_dict() == {"K_nt": 54, "K_sc": 44, "K_ia": 27, "K_tr": 17, "K_ie": 2}
    assert cases.loc["K_nt", "risk_reasons"] == "no trace in any service (+30); missing 20 months (+24)"
    assert cases.loc["K_sc", "risk_reasons"].startswith("known to social care (+40)")
    assert "transition to secondary school (academic-year age 11) (+15)" in cases.loc["K_tr", "risk_reasons"]
    # The points shown add up to the score, so the officer can check each rank.
    for case_id, row in cases.iterrows():
        assert sum(int(p) for p in re.findall(r"\(\+(\d+)\)", row.risk_reasons)) == row.risk_score, case_id


def test_in_area_not_in_education_ranks_above_in_education_elsewhere_all_else_equal():
    w = World()
    referred(w, "A", "K1", leaving="2026-10-01")
    in_school_again(w, "A", "2026-10-01")
    referred(w, "B", "K2", leaving="2026-10-01")
    w.add("B", "gp", registration_date="2020-01-01", postcode="B13 1AA")
    cases = ranked(w)
    assert cases.loc["K2", "risk_rank"] < cases.loc["K1", "risk_rank"]


def test_time_missing_scores_per_full_month_up_to_the_cap_and_ties_go_to_the_longer_missing():
    w = World()
    referred(w, "A", "K_y", leaving="2024-01-01")        # 34 months: capped
    referred(w, "B", "K_b", leaving="2025-11-01")        # exactly 12 months: the cap too
    referred(w, "C", "K_c", leaving="2026-09-02")        # 1 full month (not 2)
    cases = ranked(w)
    cap = triage_points()["months_missing_max"][0]
    assert cases.loc["K_y", "risk_score"] == cases.loc["K_b", "risk_score"] == 30 + cap
    assert cases.loc["K_c", "months_missing"] == 1 and cases.loc["K_c", "risk_score"] == 30 + 2
    # Equal scores: the longer missing first, whatever the case_id order.
    assert cases.sort_values("risk_rank").index.tolist() == ["K_y", "K_b", "K_c"]


def test_only_academic_years_10_and_11_score_for_transition():
    w = World()
    for case_id, dob in (("K09", AGE_9), ("K10", AGE_10), ("K11", AGE_11), ("K12", AGE_12)):
        referred(w, case_id, case_id, leaving="2026-10-01", dob=dob)
    cases = ranked(w)
    assert cases.academic_age.to_dict() == {"K09": 9, "K10": 10, "K11": 11, "K12": 12}
    transition = cases.risk_reasons.str.contains("transition")
    assert transition.to_dict() == {"K09": False, "K10": True, "K11": True, "K12": False}


def test_sen_scores_only_when_an_education_source_carries_it():
    w = World()
    referred(w, "A", "K_sen", leaving="2026-10-01")
    referred(w, "B", "K_none", leaving="2026-10-01")
    without = ranked(w)
    assert without.sen.isna().all() and not without.risk_reasons.str.contains("special").any()
    no_column = w.connect()             # a records table from before the optional field existed
    no_column.execute("ALTER TABLE std_records DROP COLUMN IF EXISTS sen")
    assert ranked(w, no_column).sen.isna().all()

    con = w.connect()
    con.execute("ALTER TABLE std_records ADD COLUMN IF NOT EXISTS sen VARCHAR")
    con.execute("UPDATE std_records SET sen = CASE WHEN record_id = ? THEN 'K' ELSE 'N' END",
                [w.records[0]["record_id"]])          # K = SEN support; N = none
    cases = ranked(w, con)
    assert bool(cases.loc["K_sen", "sen"]) and not bool(cases.loc["K_none", "sen"])
    points = triage_points()["sen"][0]
    assert cases.loc["K_sen", "risk_score"] - cases.loc["K_none", "risk_score"] == points
    assert f"special educational needs recorded (+{points})" in cases.loc["K_sen", "risk_reasons"]
    assert cases.loc["K_sen", "risk_rank"] < cases.loc["K_none", "risk_rank"]

"""The world model in memory: people, families, life events, CME scenarios and source realism."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from linkage.errors import ChildlinkError
from linkage.standardise.identifiers import nhs_number_is_valid, upn_is_valid
from linkage.synthetic import build_world
from linkage.synthetic import calendar
from linkage.synthetic.names import mrz_name
from linkage.synthetic.reference import table
from linkage.synthetic.social_care import FILE_COLUMNS

R = dt.date(2026, 11, 1)
S = dt.date(2023, 11, 1)
GROUPS = ("english", "south_asian", "polish", "romanian", "somali_arabic", "west_african")


@pytest.fixture(scope="module")
def world():
    return build_world(3000, 11)


def _frame(world, source: str) -> pd.DataFrame:
    frame = world.sources[source].frame
    canonical = {file_name: name for name, file_name in FILE_COLUMNS.items()}
    return frame.rename(columns=canonical) if source == "social_care" else frame


def _home_districts(world) -> set[str]:
    lookup = table("postcode_districts.csv")
    return set(lookup.loc[lookup["la_code"] == world.home_la, "postcode_district"])


def _district(postcodes: pd.Series) -> pd.Series:
    compact = postcodes.fillna("").astype(str).str.upper().str.replace(" ", "", regex=False)
    return compact.str.slice(0, -3)


def test_children_are_0_to_17_on_the_reference_date(world):
    age_days = calendar.day(R) - world.children["dob"]
    assert age_days.min() >= 0
    assert (age_days < calendar.day(R) - calendar.day(dt.date(2008, 11, 1))).all()
    assert len(world.children) == 3000


def test_households_have_one_or_two_carers_and_one_to_four_children(world):
    per_household = world.children.groupby("hh_id").size()
    assert per_household.between(1, 4).all() and set(per_household) == {1, 2, 3, 4}
    carers = world.adults.groupby("hh_id").size()
    assert carers.between(1, 2).all() and set(carers) == {1, 2}


def test_twins_share_birth_date_and_home_but_not_forenames(world):
    twins = world.children[world.children["twin"]]
    assert 0.02 <= len(twins) / len(world.children) <= 0.04
    pairs = twins.groupby("hh_id")
    assert (pairs.size() == 2).all()
    assert (pairs["dob"].nunique() == 1).all()
    assert (pairs["forename"].nunique() == 2).all()
    assert (pairs["sex"].nunique() == 1).mean() > 0.35            # often the same sex (65% configured; ~45 pairs here)
    # Same home: their enrolments (same household) are recorded at the same postcode.
    edu = _frame(world, "education").merge(twins[["person_id", "hh_id"]], on="person_id")
    postcodes = edu.groupby("hh_id")["postcode"].agg(lambda p: p.dropna().str.upper().str.replace(" ", "").nunique())
    assert (postcodes <= 1).mean() > 0.8


def test_name_groups_follow_the_configured_mix(world):
    share = world.children["name_group"].value_counts(normalize=True)
    expected = table("name_groups.csv").set_index("name_group")["share"].astype(float)
    assert set(share.index) == set(GROUPS)
    assert (abs(share - expected) < 0.06).all()


def test_siblings_mostly_share_a_surname_and_carers_sometimes_differ(world):
    multi = world.children[world.children.groupby("hh_id")["hh_id"].transform("size") >= 2]
    same = multi.groupby("hh_id")["surname_m"].nunique() == 1
    assert 0.75 < same.mean() < 1.0
    mother = world.adults[world.adults["role"] == "mother"].set_index("hh_id")["surname_m"]
    family = world.children.groupby("hh_id")["surname_m"].first()
    differs = (mother != family.reindex(mother.index)).mean()
    assert 0.1 < differs < 0.6


def test_polish_girls_carry_feminine_surnames_and_some_records_the_masculine(world):
    girls = world.children[(world.children["name_group"] == "polish") & (world.children["sex"] == "F")]
    ski = girls[girls["surname_m"].str.endswith("ski")]
    assert len(ski) > 0 and ski["surname"].str.endswith("ska").all()
    masculine = set(ski["surname_m"])
    shown = pd.concat([_frame(world, s)[["person_id", "surname"]] for s in ("gp", "council_tax", "social_care")])
    shown = shown[shown["person_id"].isin(ski["person_id"])]
    assert shown["surname"].str.title().isin(masculine).any()


def test_life_events_fall_in_the_three_year_window(world):
    border = _frame(world, "border")
    dates = pd.to_datetime(border["travel_date"]).dt.date
    assert dates.min() >= S and dates.max() <= R
    gp = _frame(world, "gp")
    open_reg = gp["deregistration_date"] >= calendar.OPEN
    assert (gp["registration_date"] <= calendar.day(R)).all()
    assert gp.loc[~open_reg, "deregistration_date"].between(calendar.day(S), calendar.day(R)).all()
    for source, column in (("education", "leaving_date"), ("council_tax", "occupancy_end")):
        values = _frame(world, source)[column].dropna()
        values = pd.to_datetime(values[values != ""]).dt.date
        assert values.min() >= S and values.max() <= R, source
    assert world.households.loc[world.households["t1"] < calendar.OPEN, "t1"].between(
        calendar.day(S), calendar.day(R)).all()


def test_every_household_fate_occurs(world):
    assert set(world.households["fate"]) == {"stay", "move_within", "move_out", "emigrate", "arrive_abroad",
                                             "arrive_from_la", "vanish"}


def test_identifiers_are_valid_at_the_documented_rates(world):
    edu = _frame(world, "education")
    upn_ok = edu["upn"].map(upn_is_valid)
    assert 0.97 < upn_ok.mean() < 1.0
    gp = _frame(world, "gp")
    nhs_ok = gp["nhs_number"].map(nhs_number_is_valid)
    assert 0.985 < nhs_ok.mean() < 1.0
    assert gp["nhs_number"].str.startswith("999").mean() > 0.99
    social = _frame(world, "social_care")
    present = ~social["nhs_number"].isin(["", "NULL", "N/A"]) & social["nhs_number"].notna()
    assert 0.65 < present.mean() < 0.95
    assert social.loc[present, "nhs_number"].map(nhs_number_is_valid).mean() > 0.97


def test_temporary_upns_carry_the_real_one_or_stand_alone(world):
    edu = _frame(world, "education")
    temporary = edu["upn"].str.match(r"^[A-Z]\d{11}[A-Z]$") | edu["former_upn"].fillna("").str.match(r"^[A-Z]\d{11}[A-Z]$")
    assert temporary.any()
    assert edu.loc[temporary, "upn"].map(upn_is_valid).mean() > 0.9


def test_upns_name_the_allocating_la(world):
    edu = _frame(world, "education")
    permanent = edu["upn"][edu["upn"].map(upn_is_valid) & edu["upn"].str.match(r".*\d$")]
    allocating = permanent.str.slice(1, 4)
    assert (allocating == "330").mean() > 0.8
    assert (allocating != "330").any()                                # incomers allocated elsewhere


def test_uprns_are_unique_per_dwelling_and_stable_across_sources(world):
    assert world.dwellings["uprn"].is_unique
    assert world.dwellings["uprn"].between(1, 999_999_999_999).all()
    rows = pd.concat([_frame(world, s)[["uprn", "address_line"]] for s in ("education", "gp", "council_tax")])
    rows = rows.dropna()
    rows = rows[~rows["address_line"].str.startswith("=")]          # the planted formula value
    rows["uprn"] = rows["uprn"].astype(str).str.lstrip("0")
    house_number = rows["address_line"].str.upper().str.extract(r"(\d+)")[0]
    assert house_number.groupby(rows["uprn"]).nunique().max() == 1
    ct = _frame(world, "council_tax")["uprn"].dropna()
    assert ct.str.len().eq(12).all() and ct.str.startswith("0").any()


def test_enrolments_at_other_las_schools_appear_for_movers_out(world):
    edu = _frame(world, "education")
    assert (edu["la_code"] == "330").mean() > 0.9
    assert (edu["la_code"] != "330").any()


def test_cme_covers_every_destination_and_the_tricky_scenarios(world):
    cases = world.cme_cases
    assert set(cases["intended_destination"]) == {"left_england", "in_education_elsewhere", "moved_out_of_area",
                                                  "in_area_not_in_education", "no_trace"}
    scenarios = set(cases["scenario"])
    assert {"holiday", "move_within", "border_only_variant_spelling"} <= scenarios
    twins = world.children.set_index("child_no").loc[cases["child_no"], "twin"]
    assert twins.sum() >= 2


def _child_records(world, child_no: int) -> dict[str, pd.DataFrame]:
    person = world.children.set_index("child_no").loc[child_no, "person_id"]
    return {s: _frame(world, s)[_frame(world, s)["person_id"] == person] for s in world.sources}


def test_cme_holiday_goes_out_and_comes_back_after_leaving(world):
    edu = _frame(world, "education").drop_duplicates("record_id").set_index("record_id")
    for _, case in world.cme_cases[world.cme_cases["scenario"] == "holiday"].iterrows():
        left = edu.loc[case["record_id"], "leaving_date"]
        trips = _child_records(world, case["child_no"])["border"]
        after = trips[trips["travel_date"] > left].sort_values("travel_date")
        assert list(after["direction"]) == ["OUT", "IN"]


def test_cme_variant_spelling_case_has_only_a_border_record_after_leaving(world):
    edu = _frame(world, "education").drop_duplicates("record_id").set_index("record_id")
    for _, case in world.cme_cases[world.cme_cases["scenario"] == "border_only_variant_spelling"].iterrows():
        left = edu.loc[case["record_id"], "leaving_date"]
        records = _child_records(world, case["child_no"])
        child = world.children.set_index("child_no").loc[case["child_no"]]
        out = records["border"][records["border"]["travel_date"] > left]
        assert list(out["direction"]) == ["OUT"]
        assert out["forename"].str.split(" ").str[0].iloc[0] != mrz_name(child["forename"])
        gp = records["gp"]
        assert (gp["registration_date"] <= calendar.day(dt.date.fromisoformat(left))).all()
        assert (gp["deregistration_date"] >= calendar.OPEN).all()
        ct = records["council_tax"]
        assert (ct["occupancy_end"].fillna("") == "").all()
        assert (records["education"]["entry_date"] <= left).all()


def test_cme_evidence_supports_the_intended_destination(world):
    edu_by_id = _frame(world, "education").drop_duplicates("record_id").set_index("record_id")
    home = _home_districts(world)
    checks = {"left_england": 0, "moved_out_of_area": 0, "in_education_elsewhere": 0}
    totals = dict.fromkeys(checks, 0)
    for _, case in world.cme_cases[world.cme_cases["intended_destination"].isin(checks)].iterrows():
        left = edu_by_id.loc[case["record_id"], "leaving_date"]
        left_day = calendar.day(dt.date.fromisoformat(left))
        rec = _child_records(world, case["child_no"])
        dest = case["intended_destination"]
        totals[dest] += 1
        if dest == "left_england":
            out_after = ((rec["border"]["travel_date"] > left) & (rec["border"]["direction"] == "OUT")).any()
            gp = rec["gp"]
            embark = ((gp["deregistration_reason"] == "embarkation") & (gp["deregistration_date"] > left_day)).any()
            checks[dest] += bool(out_after or embark)
        elif dest == "moved_out_of_area":
            later = rec["gp"][rec["gp"]["registration_date"] > left_day]
            checks[dest] += bool((~_district(later["postcode"]).isin(home)).any())
        else:
            edu = rec["education"]
            checks[dest] += bool(((edu["entry_date"] >= left) & (edu["leaving_date"].fillna("") == "")).any())
    for dest, hits in checks.items():
        assert totals[dest] > 0 and hits / totals[dest] >= 0.75, dest


def test_school_age_children_out_of_education_exist(world):
    edu = _frame(world, "education")
    open_rows = edu[edu["leaving_date"].fillna("") == ""]
    for kind in ("elective_home_education", "off_rolled"):
        kids = world.children[world.children["exit_kind"] == kind]
        assert len(kids) > 0, kind
        assert not kids["person_id"].isin(open_rows["person_id"]).any(), kind


def test_some_reception_age_children_have_no_school_place(world):
    born = world.children["dob"]
    reception = world.children[born.between(calendar.day(dt.date(2021, 9, 1)), calendar.day(dt.date(2022, 8, 31)))
                               & (world.children["hh_id"].map(world.households.set_index("hh_id")["fate"])
                                  .isin(["stay", "move_within"]))]
    placed = reception["person_id"].isin(_frame(world, "education")["person_id"])
    assert 0.8 < placed.mean() < 1.0


def test_adoption_gives_a_new_nhs_number_and_surname(world):
    adopted = world.children[world.children["name_change"] == "adoption"]
    assert len(adopted) >= 1
    gp = _frame(world, "gp")
    for _, child in adopted.iterrows():
        rows = gp[gp["person_id"] == child["person_id"]]
        if len(rows) >= 2:
            assert rows["nhs_number"].nunique() == 2
            assert "other" in set(rows["deregistration_reason"].dropna())
    assert (adopted["new_surname"] != adopted["surname"]).any()


def test_border_names_are_mrz_and_decoys_match_real_traffic(world):
    border = _frame(world, "border")
    assert border["forename"].str.fullmatch(r"[A-Z =]+").all() and border["surname"].str.fullmatch(r"[A-Z =+0-9]+").all()
    kinds = border["person_id"].map(world.people.set_index("person_id")["kind"])
    ratio = (kinds == "decoy").sum() / (kinds == "child").sum()
    assert 0.8 < ratio < 1.2
    shared = world.decoys["dob"].isin(world.children["dob"]).mean()
    assert shared > 0.5
    assert border["passport_number"].str.fullmatch(r"[A-Z0-9]+").all()


def test_person_ids_do_not_reveal_the_kind_of_person(world):
    people = world.people.sort_values("person_id")
    assert people["person_id"].str.fullmatch(r"P\d{7}").all() and people["person_id"].is_unique
    first = people.head(200)["kind"]
    assert first.nunique() == 3


def test_nhs_coverage_fills_that_share_of_education_rows():
    edu = build_world(400, 3, nhs_coverage=0.5).sources["education"].frame
    share = edu["nhs_number"].notna().mean()
    assert 0.4 < share < 0.6
    assert "nhs_number" not in build_world(400, 3).sources["education"].frame.columns


def test_another_home_la_moves_the_world(tmp_path):
    other = build_world(300, 2, home_la="331")
    edu = other.sources["education"].frame
    assert (edu["la_code"] == "331").mean() > 0.85
    ct = other.sources["council_tax"].frame["postcode"].dropna().str.upper()
    assert ct.str.startswith("CV").all()


@pytest.mark.parametrize("kwargs, message", [
    ({"children": 10}, "children"), ({"children": 500, "nhs_coverage": 1.5}, "nhs_coverage"),
    ({"children": 500, "home_la": "999"}, "999"), ({"children": 500, "home_la": "B1"}, "home_la"),
])
def test_bad_arguments_raise_one_clear_error(kwargs, message):
    with pytest.raises(ChildlinkError, match=re.escape(message)):
        build_world(seed=1, **kwargs)

"""CME destination rules 1-5 (contract §4), one small world per reading."""

from __future__ import annotations

import pandas as pd

from linkage.trace import case_destinations
from trace_world import HOME, R, World, d

LEFT = "2025-03-01"        # the case record's leaving date L in most tests


def school_case(w: World, child: str = "A", case_id: str = "C1", leaving: str | None = LEFT,
                referral: str = "2025-03-20") -> str:
    """The case record: an education enrolment that ended at L (or is still open if leaving None)."""
    ref = w.add(child, "education", entry_date="2020-09-01", leaving_date=leaving, postcode="B12 9AA",
                school_urn="100001", dob_date="2015-05-05")
    w.case(case_id, ref, referral)
    return ref


def decide(w: World, **kwargs) -> pd.DataFrame:
    return case_destinations(w.connect(**kwargs), home_la=HOME, reference_date=R)


def one(w: World, **kwargs) -> pd.Series:
    frame = decide(w, **kwargs)
    assert len(frame) == 1
    return frame.iloc[0]


# Rule 1 -----------------------------------------------------------------------------------------

def test_new_enrolment_after_leaving_open_on_r_is_in_education_elsewhere():
    w = World()
    school_case(w)
    new = w.add("A", "education", entry_date="2025-04-10", school_urn="100002")
    row = one(w)
    assert (row.destination, row.rule) == ("in_education_elsewhere", 1)
    assert row.evidence_records == [new]
    assert row.decisive_date == d("2025-04-10")
    assert new in row.evidence and "2025-04-10" in row.evidence


def test_enrolment_starting_on_l_counts_and_the_same_school_counts():
    w = World()
    school_case(w)
    w.add("A", "education", entry_date=LEFT, school_urn="100001")
    assert one(w).rule == 1


def test_enrolment_before_l_or_after_r_or_closed_by_r_is_not_rule_1():
    w = World()
    school_case(w)
    w.add("A", "education", entry_date="2025-02-28")                       # before L
    w.add("A", "education", entry_date="2026-11-02")                       # after R
    w.add("A", "education", entry_date="2025-05-01", leaving_date="2026-11-01")   # left on R
    assert one(w).rule == 5


def test_enrolment_leaving_after_r_is_still_open_on_r():
    w = World()
    school_case(w)
    w.add("A", "education", entry_date="2025-05-01", leaving_date="2026-11-02")
    assert one(w).rule == 1


def test_l_is_referral_date_when_case_record_has_no_leaving_date():
    w = World()
    school_case(w, leaving=None, referral="2025-06-01")
    w.add("A", "education", entry_date="2025-05-01")    # before the referral date: not after L
    row = one(w)
    assert row.missing_since == d("2025-06-01")
    assert row.rule == 5 and "referral date" in row.evidence


# Rule 2 -----------------------------------------------------------------------------------------

def test_out_crossing_after_l_is_left_england():
    w = World()
    school_case(w)
    out = w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    row = one(w)
    assert (row.destination, row.rule) == ("left_england", 2)
    assert row.departure_date == d("2025-04-01") and row.evidence_records == [out]


def test_holiday_out_then_in_is_not_left_england():
    w = World()
    school_case(w)
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    back = w.add("A", "border", direction="IN", travel_date="2025-04-15")
    row = one(w)
    # back home: the IN crossing is residence at the latest address (the case record's, in B12)
    assert row.rule == 4 and row.evidence_records == [back]


def test_same_day_out_and_in_is_a_day_trip_not_left_england():
    w = World()
    school_case(w)
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    w.add("A", "border", direction="IN", travel_date="2025-04-01")
    assert one(w).rule == 4


def test_out_crossing_before_l_is_not_a_departure():
    w = World()
    school_case(w)
    w.add("A", "border", direction="OUT", travel_date="2025-02-01")
    assert one(w).rule == 5


def test_out_crossing_after_r_has_not_happened_on_r():
    w = World()
    school_case(w)
    w.add("A", "border", direction="OUT", travel_date="2026-11-02")
    assert one(w).rule == 5


def test_embarkation_deregistration_alone_is_left_england():
    w = World()
    school_case(w)
    gp = w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2025-05-01",
               deregistration_reason="embarkation", postcode="B12 9AA")
    row = one(w)
    assert row.rule == 2 and row.departure_date == d("2025-05-01") and row.evidence_records == [gp]


def test_moved_deregistration_is_not_a_departure():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2025-05-01",
          deregistration_reason="moved", postcode="B12 9AA")
    assert one(w).rule != 2


def test_embarkation_then_new_school_entry_is_not_left_england():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2025-05-01",
          deregistration_reason="embarkation")
    # a later school entry (since left again, so rule 1 cannot hold) places the child in England
    w.add("A", "education", entry_date="2025-09-01", leaving_date="2025-12-01")
    assert one(w).rule == 5


def test_end_dates_after_departure_do_not_place_the_child_in_england():
    w = World()
    school_case(w)
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2025-06-01",
          deregistration_reason="other", postcode="B12 9AA")
    w.add("A", "council_tax", occupancy_start="2016-01-01", occupancy_end="2025-07-01", postcode="B12 9AA")
    w.add("A", "social_care", episode_start="2024-01-01", episode_end="2025-08-01", postcode="B12 9AA")
    assert one(w).rule == 2


def test_start_date_on_the_departure_day_is_not_after_it():
    w = World()
    school_case(w)
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    w.add("A", "education", entry_date="2025-04-01", leaving_date="2025-04-02")
    assert one(w).rule == 2


def test_departure_date_is_the_latest_departure_event():
    # OUT, back IN, then an embarkation deregistration: D = the deregistration, the IN is before it
    w = World()
    school_case(w)
    w.add("A", "border", direction="OUT", travel_date="2025-04-01")
    w.add("A", "border", direction="IN", travel_date="2025-04-10")
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2025-05-01",
          deregistration_reason="embarkation")
    row = one(w)
    assert row.rule == 2 and row.departure_date == d("2025-05-01")


def test_in_crossing_after_the_latest_departure_event_keeps_the_child():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2025-05-01",
          deregistration_reason="embarkation")
    w.add("A", "border", direction="OUT", travel_date="2025-06-01")
    w.add("A", "border", direction="IN", travel_date="2025-07-01")
    assert one(w).rule == 4


# Rule 3 -----------------------------------------------------------------------------------------

def test_latest_address_after_l_outside_home_is_moved_out_of_area():
    w = World()
    school_case(w)
    gp = w.add("A", "gp", registration_date="2025-06-01", postcode="CV1 2AB")
    row = one(w)
    assert (row.destination, row.rule) == ("moved_out_of_area", 3)
    assert row.evidence_records == [gp] and "LA 331" in row.evidence


def test_move_inside_home_la_is_not_moved_out_and_falls_to_rule_4():
    w = World()
    school_case(w)
    w.add("A", "council_tax", occupancy_start="2025-06-01", postcode="B14 3CD")
    assert one(w).rule == 4


def test_move_inside_home_la_that_has_ended_falls_to_no_trace():
    w = World()
    school_case(w)
    w.add("A", "council_tax", occupancy_start="2025-06-01", occupancy_end="2026-01-01", postcode="B14 3CD")
    assert one(w).rule == 5


def test_only_the_latest_address_counts():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2025-05-01", deregistration_date="2025-09-01",
          deregistration_reason="moved", postcode="CV1 2AB")
    w.add("A", "council_tax", occupancy_start="2025-10-01", occupancy_end="2026-02-01", postcode="B13 1AA")
    assert one(w).rule == 5


def test_unknown_district_or_malformed_postcode_is_no_address_evidence():
    w = World()
    school_case(w)
    out = w.add("A", "gp", registration_date="2025-05-01", deregistration_date="2025-06-01",
                deregistration_reason="moved", postcode="CV1 2AB")
    w.add("A", "council_tax", occupancy_start="2025-10-01", postcode="ZZ9 9ZZ")     # unknown district
    w.add("A", "social_care", episode_start="2025-11-01", postcode="not a postcode")
    w.records[-1].update(postcode_std=None, postcode_district=None)                # as standardise leaves it
    row = one(w)
    assert row.rule == 3 and row.evidence_records == [out]


def test_address_records_before_l_are_not_address_evidence():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2024-01-01", deregistration_date="2025-02-01",
          deregistration_reason="moved", postcode="CV1 2AB")
    assert one(w).rule == 5


def test_same_day_home_and_away_addresses_keep_the_child_home():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2025-06-01", postcode="CV1 2AB")
    w.add("A", "council_tax", occupancy_start="2025-06-01", postcode="B13 1AA")
    assert one(w).rule == 4


def test_education_and_border_postcodes_are_not_rule_3_address_evidence():
    w = World()
    school_case(w)
    w.add("A", "education", entry_date="2025-04-01", leaving_date="2025-05-01", postcode="CV1 2AB")
    w.add("A", "border", direction="IN", travel_date="2025-04-02", postcode="CV1 2AB")
    assert one(w).rule != 3


def test_full_postcode_lookup_variant():
    w = World()
    school_case(w)
    gp = w.add("A", "gp", registration_date="2025-06-01", postcode="cv12ab")
    row = one(w, full_postcodes={"CV1 2AB": "331", "b12 9aa": "330"})
    assert row.rule == 3 and row.evidence_records == [gp]
    w2 = World()
    school_case(w2)
    w2.add("A", "gp", registration_date="2025-06-01", postcode="CV1 2AC")   # not in the full lookup
    assert one(w2, full_postcodes={"CV1 2AB": "331"}).rule == 5


# Rule 4 -----------------------------------------------------------------------------------------

def test_open_home_registration_started_before_l_is_in_area():
    w = World()
    school_case(w)
    gp = w.add("A", "gp", registration_date="2016-01-01", postcode="B12 9AA")
    row = one(w)
    assert (row.destination, row.rule) == ("in_area_not_in_education", 4)
    assert row.evidence_records == [gp]


def test_open_registration_outside_home_is_not_residence():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2016-01-01", postcode="CV1 2AB")
    assert one(w).rule == 5


def test_in_crossing_is_residence_at_the_latest_address_when_that_is_home():
    w = World()
    school_case(w)
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2024-01-01",
          deregistration_reason="moved", postcode="B13 1AA")
    crossing = w.add("A", "border", direction="IN", travel_date="2024-06-01")
    assert one(w).evidence_records == [crossing]


def test_in_crossing_followed_by_gp_deregistration_is_not_residence():
    w = World()
    school_case(w)
    w.add("A", "border", direction="IN", travel_date="2024-06-01")
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2024-08-01",
          deregistration_reason="moved", postcode="B13 1AA")
    assert one(w).rule == 5


def test_in_crossing_at_an_away_latest_address_is_not_residence():
    w = World()
    ref = w.add("A", "education", entry_date="2020-09-01", leaving_date=LEFT)   # no postcode
    w.case("C1", ref, "2025-03-20")
    w.add("A", "gp", registration_date="2016-01-01", deregistration_date="2024-01-01",
          deregistration_reason="moved", postcode="M1 1AE")   # the latest address is away
    w.add("A", "border", direction="IN", travel_date="2024-06-01")
    assert one(w).rule == 5


# Rule order, unlinked cases, output shape ------------------------------------------------------

def test_rule_1_beats_rule_2():
    w = World()
    school_case(w)
    w.add("A", "education", entry_date="2025-04-10")
    w.add("A", "border", direction="OUT", travel_date="2025-05-01")
    assert one(w).rule == 1


def test_rule_2_beats_rule_3_and_rule_3_beats_rule_4():
    w = World()
    school_case(w, child="A", case_id="C1")
    w.add("A", "gp", registration_date="2025-04-01", postcode="CV1 2AB")
    w.add("A", "border", direction="OUT", travel_date="2025-03-15")    # presence after D: not rule 2
    w.add("A", "border", direction="OUT", travel_date="2025-05-01")
    school_case(w, child="B", case_id="C2")
    w.add("B", "council_tax", occupancy_start="2016-01-01", postcode="B12 9AA")   # rule 4 would hold
    w.add("B", "gp", registration_date="2025-06-01", postcode="CV1 2AB")
    frame = decide(w)
    assert frame.rule.tolist() == [2, 3]


def test_unlinked_case_record_is_no_trace_with_null_identity():
    w = World()
    ref = w.add(None, "education", entry_date="2020-09-01", leaving_date=LEFT)
    w.case("C1", ref, "2025-03-20")
    w.add("Z", "border", direction="OUT", travel_date="2025-04-01")
    row = one(w)
    assert row.rule == 5 and pd.isna(row.identity_id) and row.evidence_records == []
    assert "not in the linked identities" in row.evidence


def test_every_case_once_in_case_id_order_and_repeatable():
    w = World()
    for case_id, child in (("C3", "X"), ("C1", "Y"), ("C2", "Z")):
        school_case(w, child=child, case_id=case_id)
    con = w.connect()
    first = case_destinations(con, home_la=HOME, reference_date=R)
    again = case_destinations(con, home_la=HOME, reference_date=R)
    assert first.case_id.tolist() == ["C1", "C2", "C3"]
    pd.testing.assert_frame_equal(first, again)
    assert not any(name.startswith("_trace_") for (name,) in con.execute("SHOW TABLES").fetchall())

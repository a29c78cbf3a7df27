"""Bad input gives one clear ChildlinkError (no personal data); lookups are read as documented."""

from __future__ import annotations

import pytest

from linkage.errors import ChildlinkError
from linkage.job import Job
from linkage.sources import read_postcode_lookup
from linkage.trace import case_destinations, not_in_education
from trace_world import HOME, R, World


def simple_world() -> World:
    w = World()
    ref = w.add("A", "education", entry_date="2015-09-01", leaving_date="2025-03-01", dob_date="2016-06-06")
    w.case("C1", ref, "2025-03-10")
    w.add("A", "gp", registration_date="2025-04-01", postcode="CV1 2AB", dob_date="2016-06-06")
    return w


def test_case_without_leaving_or_referral_date_is_refused_naming_the_column():
    w = World()
    ref = w.add("A", "education", entry_date="2015-09-01")
    w.case("C7", ref, None)
    with pytest.raises(ChildlinkError, match="referral_date") as err:
        case_destinations(w.connect(), home_la=HOME, reference_date=R)
    assert "C7" in str(err.value) and "cme_cases" in str(err.value)


def test_repeated_case_id_is_refused():
    w = simple_world()
    w.case("C1", "education:" + w.records[0]["record_id"], "2025-03-10")
    with pytest.raises(ChildlinkError, match="case_id"):
        case_destinations(w.connect(), home_la=HOME, reference_date=R)


def test_record_in_two_identities_is_refused():
    con = simple_world().connect()
    con.execute("INSERT INTO identities SELECT source, record_id, 'B' FROM identities LIMIT 1")
    with pytest.raises(ChildlinkError, match="more than one identity"):
        case_destinations(con, home_la=HOME, reference_date=R)


def test_missing_table_and_missing_column_are_named():
    con = simple_world().connect()
    with pytest.raises(ChildlinkError, match="no_such_table: table not found"):
        case_destinations(con, cases="no_such_table", home_la=HOME, reference_date=R)
    con.execute("CREATE TABLE bad_lookup (district VARCHAR, la_code VARCHAR)")
    with pytest.raises(ChildlinkError, match="bad_lookup.*postcode_district"):
        not_in_education(con, postcode_lookup="bad_lookup", home_la=HOME, reference_date=R)
    con.execute("CREATE TABLE thin AS SELECT source, record_id FROM std_records")
    with pytest.raises(ChildlinkError, match="thin.*source_type"):
        not_in_education(con, records="thin", home_la=HOME, reference_date=R)


@pytest.mark.parametrize("home", ["33", "E09000033", ""])
def test_home_la_must_be_three_digits(home):
    with pytest.raises(ChildlinkError, match="home_la"):
        not_in_education(simple_world().connect(), home_la=home, reference_date=R)


def test_integer_la_codes_and_a_district_shared_with_home():
    con = simple_world().connect()
    # CV1 listed under home 330 as well as 331 (a boundary district), codes as integers
    con.execute("CREATE TABLE shared (postcode_district VARCHAR, la_code INTEGER)")
    con.execute("INSERT INTO shared VALUES ('CV1', 331), ('CV1', 330), ('B12', 330)")
    row = case_destinations(con, postcode_lookup="shared", home_la=HOME, reference_date=R).iloc[0]
    assert row.rule == 4     # the shared district counts as home: not moved out, resident


def test_lookup_file_as_loaded_short_la_codes_padded_and_keys_normalised(tmp_path):
    # The loader pads LA codes and normalises keys; the trace compares what it stored.
    (tmp_path / "lookup.csv").write_text("postcode_district,la_code\ncv1,1\n b12 ,330\n")
    con = simple_world().connect()
    job = Job(path=tmp_path / "job.yaml", home_la=HOME, postcode_lookup=tmp_path / "lookup.csv",
              reference_date=R, sources=())
    con.execute("DROP TABLE postcode_lookup")
    read_postcode_lookup(con, job)
    row = case_destinations(con, home_la=HOME, reference_date=R).iloc[0]
    assert row.rule == 3 and "LA 001" in row.evidence


def test_custom_table_names_and_numeric_ids():
    w = simple_world()
    con = w.connect()
    con.execute("ALTER TABLE cme_cases RENAME TO my_cases")
    con.execute("CREATE TABLE truth AS SELECT source, record_id, identity_id FROM identities")
    frame = case_destinations(con, records="std_records", identities="truth", cases="my_cases",
                              home_la=330, reference_date=R)
    assert frame.rule.tolist() == [3]


@pytest.mark.parametrize("spelling", ["B1 0AA", "B1-0AA", "b10aa", " b1 0aa "])
def test_a_lookup_row_resolves_however_its_postcode_is_spelt(tmp_path, spelling):
    (tmp_path / "lookup.csv").write_text(f"postcode,la_code\n{spelling},331\nB12 9AA,330\n")
    w = World()
    ref = w.add("A", "education", entry_date="2015-09-01", leaving_date="2025-03-01", dob_date="2016-06-06")
    w.case("C1", ref, "2025-03-10")
    gp = w.add("A", "gp", registration_date="2025-04-01", postcode="B1 0AA", dob_date="2016-06-06")
    con = w.connect()
    con.execute("DROP TABLE postcode_lookup")
    read_postcode_lookup(con, Job(path=tmp_path / "job.yaml", home_la=HOME, postcode_lookup=tmp_path / "lookup.csv",
                                  reference_date=R, sources=()))
    row = case_destinations(con, home_la=HOME, reference_date=R).iloc[0]
    assert row.rule == 3 and row.evidence_records == [gp] and "postcode in LA 331" in row.evidence

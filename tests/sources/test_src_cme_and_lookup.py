"""The optional inputs: CME cases (strict) and the postcode lookup."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from linkage.errors import ChildlinkError
from linkage.job import SourceSpec
from linkage.sources import read_cme_cases, read_postcode_lookup
from src_fixtures import job, write_text


def _job(tmp_path, **kwargs):
    sources = [SourceSpec("education", "education", tmp_path / "e.csv"), SourceSpec("gp", "gp", tmp_path / "g.csv")]
    return job(tmp_path, sources, **kwargs)


def _cases(tmp_path, text):
    return _job(tmp_path, cme_cases=write_text(tmp_path / "cme.csv", text))


def test_cme_cases_with_iso_and_uk_dates(tmp_path):
    con = duckdb.connect()
    table = read_cme_cases(con, _cases(tmp_path, "Case ID,source,record_id,referral_date\n"
                                                 "C1,education,E1,2026-03-04\nC2, gp ,G7,4/3/2026\n\n"))
    assert table == "cme_cases"
    assert con.execute("SELECT * FROM cme_cases ORDER BY case_id").fetchall() == [
        ("C1", "education", "E1", dt.date(2026, 3, 4)), ("C2", "gp", "G7", dt.date(2026, 3, 4))]
    assert dict(con.execute("DESCRIBE cme_cases").fetchall()[i][:2] for i in range(4))["referral_date"] == "DATE"


def test_no_cme_cases_or_lookup_in_the_job(tmp_path):
    con = duckdb.connect()
    assert read_cme_cases(con, _job(tmp_path)) is None
    assert read_postcode_lookup(con, _job(tmp_path)) is None


@pytest.mark.parametrize("row,column,message", [
    ("C2,social_care,S1,2026-01-01", "source", "not in the job"),
    ("C2,gp,G1,31/02/2026", "referral_date", "not a valid date"),
    ("C2,gp,G1,2026/01/01", "referral_date", "not a valid date"),
    ("C2,gp,,2026-01-01", "record_id", "is empty"),
    ("C1,gp,G1,2026-01-01", "case_id", "repeats a case_id"),
])
def test_a_bad_case_row_is_an_error_naming_row_and_column(tmp_path, row, column, message):
    path_job = _cases(tmp_path, "case_id,source,record_id,referral_date\nC1,gp,G0,2026-01-01\n" + row + "\n")
    with pytest.raises(ChildlinkError, match=message) as err:
        read_cme_cases(duckdb.connect(), path_job)
    assert (err.value.row, err.value.column) == (3, column)
    assert "cme.csv" in str(err.value) and "G1" not in str(err.value)


def test_cme_file_missing_a_column(tmp_path):
    with pytest.raises(ChildlinkError, match="column 'referral_date': .*no such column"):
        read_cme_cases(duckdb.connect(), _cases(tmp_path, "case_id,source,record_id\nC1,gp,G1\n"))


def test_district_lookup_is_normalised(tmp_path):
    lookup = write_text(tmp_path / "la.csv", "postcode_district,la_code\n ls1 ,383\nLS1,383\nBD1,380\nLS28,92\n")
    con = duckdb.connect()
    assert read_postcode_lookup(con, _job(tmp_path, postcode_lookup=lookup)) == "postcode_lookup"
    assert con.execute("SELECT * FROM postcode_lookup").fetchall() == [
        ("BD1", "380"), ("LS1", "383"), ("LS28", "092")]


def test_full_postcode_lookup_uses_the_standard_form(tmp_path):
    lookup = write_text(tmp_path / "la.csv", "Postcode,LA_Code\nsw1a1aa,213\nM1  1AE,352\n")
    con = duckdb.connect()
    read_postcode_lookup(con, _job(tmp_path, postcode_lookup=lookup))
    assert con.execute("SELECT postcode, la_code FROM postcode_lookup").fetchall() == [
        ("M1 1AE", "352"), ("SW1A 1AA", "213")]


def test_lookup_problems_name_row_and_column(tmp_path):
    bad_code = write_text(tmp_path / "a.csv", "postcode_district,la_code\nLS1,383\nLS2,38X\n")
    with pytest.raises(ChildlinkError, match="3-digit") as err:
        read_postcode_lookup(duckdb.connect(), _job(tmp_path, postcode_lookup=bad_code))
    assert (err.value.row, err.value.column) == (3, "la_code")
    no_key = write_text(tmp_path / "b.csv", "district,la_code\nLS1,383\n")
    with pytest.raises(ChildlinkError, match="'postcode_district' or a 'postcode' column"):
        read_postcode_lookup(duckdb.connect(), _job(tmp_path, postcode_lookup=no_key))


def test_referral_dates_are_read_as_source_dates_are(tmp_path):
    # the shapes standardisation's date_sql accepts for source dates: dots, dashes, a time
    text = ("case_id,source,record_id,referral_date\n"
            "C1,gp,G1,4.3.2026\nC2,gp,G2,04-03-2026\nC3,gp,G3,2026-03-04 09:30\nC4,gp,G4,2026-3-4\n")
    con = duckdb.connect()
    read_cme_cases(con, _cases(tmp_path, text))
    assert con.execute("SELECT DISTINCT referral_date FROM cme_cases").fetchall() == [(dt.date(2026, 3, 4),)]


def test_referral_year_before_1900_is_refused_as_source_dates_are(tmp_path):
    with pytest.raises(ChildlinkError, match="not a valid date") as err:
        read_cme_cases(duckdb.connect(), _cases(tmp_path, "case_id,source,record_id,referral_date\nC1,gp,G1,4/3/0026\n"))
    assert (err.value.row, err.value.column) == (2, "referral_date")


def test_full_postcode_keys_are_normalised_as_record_postcodes_are(tmp_path):
    lookup = write_text(tmp_path / "la.csv", "postcode,la_code\nB1-0AA,330\nb1 0aa,330\nB1 OAA,330\nM11AE,352\n")
    con = duckdb.connect()
    read_postcode_lookup(con, _job(tmp_path, postcode_lookup=lookup))
    assert con.execute("SELECT postcode, la_code FROM postcode_lookup").fetchall() == [
        ("B1 0AA", "330"), ("M1 1AE", "352")]


def test_district_keys_lose_stray_punctuation(tmp_path):
    lookup = write_text(tmp_path / "la.csv", "postcode_district,la_code\nsw1a,213\nB1-,330\n")
    con = duckdb.connect()
    read_postcode_lookup(con, _job(tmp_path, postcode_lookup=lookup))
    assert con.execute("SELECT * FROM postcode_lookup").fetchall() == [("B1", "330"), ("SW1A", "213")]


@pytest.mark.parametrize("header,good,bad", [
    ("postcode_district", "LS1", "LS1 2AB"),     # a full postcode in the district column
    ("postcode_district", "LS1", "123"),
    ("postcode", "SW1A 1AA", "EC2"),             # a district in the postcode column
    ("postcode", "SW1A 1AA", "XYZ 123"),
])
def test_a_key_that_does_not_parse_is_refused_naming_row_and_column(tmp_path, header, good, bad):
    lookup = write_text(tmp_path / "la.csv", f"{header},la_code\n{good},383\n{bad},383\n")
    with pytest.raises(ChildlinkError, match="is not a") as err:
        read_postcode_lookup(duckdb.connect(), _job(tmp_path, postcode_lookup=lookup))
    assert (err.value.row, err.value.column) == (3, header)
    assert "la.csv" in str(err.value) and bad not in str(err.value)

"""standardise_records end to end on small in-memory tables."""

import datetime as dt

import pytest

from linkage.errors import ChildlinkError
from linkage.schema import CANONICAL_FIELDS, EVENT_DATE_FIELDS, KEY_COLUMNS, STANDARDISED_COLUMNS
from linkage.standardise import standardise_records

CLEAN = {
    "forename": "Charlie", "middle_names": "Anne-Marie", "surname": "Müller",
    "preferred_surname": "Kowalska", "former_surname": "O'Brien", "dob": "05/01/2015", "sex": "2",
    "address_line": "Flat 3, 12 St John's Road", "postcode": "sw1a1aa", "uprn": "000000199356",
    "carer_surname": "Al-Hassan", "nhs_number": "943 476 5919", "upn": "e330200124123",
    "former_upn": "M33020012401A", "entry_date": "2020-09-01",
}


def test_columns_and_types(con, standardise):
    standardise([CLEAN])
    types = dict((r[0], r[1]) for r in con.execute("DESCRIBE std_records").fetchall())
    names = list(types)
    assert names == list(KEY_COLUMNS) + list(CANONICAL_FIELDS) + list(STANDARDISED_COLUMNS)
    for column, description in STANDARDISED_COLUMNS.items():
        declared = description.split(":")[0].split(" ")[0].rstrip(",")
        assert types[column] == declared, column
    assert all(types[f] == "DATE" for f in EVENT_DATE_FIELDS)


def test_clean_record(standardise):
    [row] = standardise([CLEAN])
    assert row["forename_std"] == "charlie" and row["forename1"] == "charlie"
    assert row["forename_aliases"] == ["charles", "charlie", "charlotte"]
    assert row["forename_phonetic"] == "CARLY"
    assert row["middle_names_std"] == "anne marie"
    assert (row["surname_std"], row["surname1"]) == ("muller", "muller")
    assert row["surname_tokens"] == ["mueller", "muller"]
    assert row["surname_history_tokens"] == ["kowalska", "kowalski", "mueller", "muller", "obrien"]
    assert row["name_tokens"] == ["anne", "charlie", "marie", "muller"]
    assert row["carer_surname_std"] == "al hassan"
    assert row["dob_date"] == dt.date(2015, 1, 5) and row["dob_iso"] == "2015-01-05"
    assert row["sex_std"] == "F"
    assert (row["postcode_std"], row["postcode_sector"], row["postcode_district"], row["postcode_area"]) == (
        "SW1A 1AA", "SW1A 1", "SW1A", "SW")
    assert row["address_std"] == "flat 3 12 st johns road"
    assert row["uprn_std"] == 199356
    assert row["nhs_number_std"] == "9434765919" and row["nhs_number"] == "943 476 5919"
    assert row["upn_std"] == "E330200124123" and row["former_upn_std"] == "M33020012401A"
    assert row["upn_ids"] == ["E330200124123", "M33020012401A"]
    assert row["upn_temporary"] is False
    assert row["entry_date"] == dt.date(2020, 9, 1)
    assert row["dq_flags"] == []


def test_every_flag(standardise):
    [row] = standardise([{
        "dob": "2030-01-01", "sex": "X", "postcode": "not a postcode", "uprn": "12a",
        "nhs_number": "987 654 4321", "upn": "F330200124123", "former_upn": "E214",
        "leaving_date": "31/02/2021", "episode_end": "2027-01-01",
    }])
    assert row["dq_flags"] == ["bad_date:leaving_date", "bad_sex", "bad_uprn", "dob_in_future",
                               "future_date:episode_end", "invalid_former_upn", "invalid_nhs_number",
                               "invalid_upn", "unparseable_postcode"]
    # Invalid values are NULL in the standard columns and kept raw.
    assert [row[c] for c in ("dob_date", "sex_std", "postcode_std", "uprn_std", "nhs_number_std",
                             "upn_std", "former_upn_std", "upn_temporary")] == [None] * 8
    assert row["upn_ids"] == [] and row["nhs_number"] == "987 654 4321" and row["upn"] == "F330200124123"


def test_empty_record_has_empty_lists_and_no_flags(standardise):
    [row] = standardise([{}])
    for column in ("forename_aliases", "surname_tokens", "surname_history_tokens", "name_tokens",
                   "upn_ids", "dq_flags"):
        assert row[column] == [], column
    assert row["forename_std"] is None and row["sex_std"] is None and row["upn_temporary"] is None


def test_empty_strings_count_as_missing(standardise):
    [row] = standardise([{c: "" for c in ("forename", "surname", "dob", "sex", "postcode", "uprn",
                                          "nhs_number", "upn", "entry_date")}])
    assert row["dq_flags"] == [] and row["forename_std"] is None and row["entry_date"] is None


def test_temporary_upn_and_upn_only_in_former(standardise):
    rows = standardise([{"upn": "M33020012401A"}, {"former_upn": "E330200124123"}])
    assert rows[0]["upn_temporary"] is True and rows[0]["upn_ids"] == ["M33020012401A"]
    assert rows[1]["upn_temporary"] is None and rows[1]["upn_ids"] == ["E330200124123"]


def test_formula_like_values_are_data(standardise):
    [row] = standardise([{"forename": "=HYPERLINK(\"x\")", "surname": "+Smith", "address_line": "@1 Road",
                          "postcode": "=B1 1AA"}])
    assert (row["forename_std"], row["surname_std"], row["address_std"], row["postcode_std"]) == (
        "hyperlink x", "smith", "1 road", "B1 1AA")


def test_row_count_is_unchanged_and_names_shared_across_rows(standardise):
    rows = standardise([{"forename": "Kasia", "surname": "Kowalska"}] * 3
                       + [{"forename": "Kuba", "surname": "Kowalski"}, {"forename": None}])
    assert len(rows) == 5
    assert [r["record_id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[0]["forename_aliases"] == ["kasia", "katarzyna"]
    assert rows[3]["forename_aliases"] == ["jacob", "jakub", "kuba"]
    assert "kowalski" in set(rows[0]["surname_tokens"]) & set(rows[3]["surname_tokens"])


def test_same_input_gives_identical_output(con, standardise):
    rows = [dict(CLEAN, record_id=str(i), row_number=i) for i in range(1, 40)]
    standardise(rows)
    first = con.execute("SELECT * FROM std_records").fetchall()
    standardise_records(con, reference_date=dt.date(2026, 11, 1), out="again")
    assert con.execute("SELECT * FROM again").fetchall() == first


def test_missing_canonical_columns_are_added_as_null(con):
    con.execute("CREATE TABLE records AS SELECT 'gp' AS source, '1' AS record_id, 'Alfie' AS forename, "
                "'2015-01-05' AS registration_date")
    standardise_records(con, reference_date=dt.date(2026, 11, 1))
    row = con.execute("SELECT forename_aliases, registration_date, surname_std, upn_ids, dq_flags "
                      "FROM std_records").fetchone()
    assert row == (["alfie", "alfred"], dt.date(2015, 1, 5), None, [], [])
    columns = {r[0] for r in con.execute("DESCRIBE std_records").fetchall()}
    assert set(CANONICAL_FIELDS) <= columns


def test_missing_table_or_source_column_is_one_clear_error(con):
    with pytest.raises(ChildlinkError, match="does not exist"):
        standardise_records(con, reference_date=dt.date(2026, 11, 1))
    con.execute("CREATE TABLE records AS SELECT '1' AS record_id")
    with pytest.raises(ChildlinkError, match="'source'"):
        standardise_records(con, reference_date=dt.date(2026, 11, 1))


def test_reference_date_must_be_a_date(con, make_records):
    make_records([{}])
    with pytest.raises(ChildlinkError, match="reference_date"):
        standardise_records(con, reference_date="2026-11-01")


def test_standardising_standardised_records_changes_nothing(con, standardise):
    standardise([CLEAN, {"dob": "garbage", "entry_date": "2027-01-01", "surname": "Kowalska"}])
    first = con.execute("SELECT * FROM std_records ORDER BY row_number").fetchall()
    standardise_records(con, reference_date=dt.date(2026, 11, 1), records="std_records", out="twice")
    # Raw person and identifier columns are kept, so everything is re-derived from the same values
    # (event dates that failed to parse are already NULL, hence none here).
    assert con.execute("SELECT * FROM twice ORDER BY row_number").fetchall() == first

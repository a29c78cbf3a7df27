"""Column mapping: explicit mapping, exact and loose name matching, and clear errors."""

from __future__ import annotations

import pytest

from linkage.errors import ChildlinkError
from linkage.sources.records import read_source_file
from src_fixtures import read, spec, write_text


def test_explicit_mapping_and_loose_names(tmp_path):
    path = write_text(tmp_path / "gp.csv",
                      "Record ID,Given Name,SURNAME,NHS_Number,Date Of Birth,Notes\nG1,Ava,Ray,9434765919,2016-01-02,x\n")
    records, _ = read(path, columns={"forename": "Given Name", "dob": "Date Of Birth"})
    rec = records.iloc[0]
    assert (rec["record_id"], rec["forename"], rec["surname"], rec["nhs_number"], rec["dob"]) == (
        "G1", "Ava", "Ray", "9434765919", "2016-01-02")


def test_exact_name_wins_over_a_loose_one(tmp_path):
    path = write_text(tmp_path / "x.csv", "record_id,Sur Name,surname\nR1,wrong,right\n")
    records, _ = read(path)
    assert records["surname"].tolist() == ["right"]


def test_a_mapped_column_is_not_also_matched_by_name(tmp_path):
    # The file's 'forename' column holds surnames here; the job says so, and it must not be read twice.
    path = write_text(tmp_path / "x.csv", "record_id,forename,first\nR1,Ray,Ava\n")
    records, _ = read(path, columns={"surname": "forename", "forename": "first"})
    assert (records["forename"].iloc[0], records["surname"].iloc[0]) == ("Ava", "Ray")


def test_extra_columns_are_ignored_and_recorded(tmp_path):
    path = write_text(tmp_path / "x.csv", "record_id,Notes,,forename,role\nR1,n,,Ava,liable\n")
    read_ = read_source_file(spec(path, type="gp"))
    assert read_.columns.mapping == {"record_id": "record_id", "forename": "forename"}
    assert read_.columns.extra == ("Notes", "", "role")     # role is a council-tax field, not a GP one


def test_missing_mapped_column_names_source_file_and_column(tmp_path):
    path = write_text(tmp_path / "gp.csv", "record_id,First Name,Surname\nR1,Ava,Ray\n")
    with pytest.raises(ChildlinkError) as err:
        read(path, name="gp", columns={"forename": "Forename"})
    message = str(err.value)
    assert "gp.csv" in message and "source 'gp'" in message
    assert "column 'Forename': source 'gp': this column (mapped to forename) is not in the file" in message
    assert "it has: record_id, First Name, Surname" in message
    assert err.value.column == "Forename"


def test_file_without_record_id_is_refused(tmp_path):
    path = write_text(tmp_path / "gp.csv", "id,forename\nR1,Ava\n")
    with pytest.raises(ChildlinkError, match="column 'record_id': .*has no such column") as err:
        read(path)
    assert "gp.csv" in str(err.value) and err.value.column == "record_id"


def test_headerless_file_does_not_echo_its_first_row(tmp_path):
    path = write_text(tmp_path / "gp.csv", "G1,Ava,Ray,2016-01-02\nG2,Bo,Li,2015-05-05\n")
    with pytest.raises(ChildlinkError, match="header row missing") as err:
        read(path)
    assert "Ava" not in str(err.value) and "2016" not in str(err.value)


def test_duplicate_header_names_the_column(tmp_path):
    path = write_text(tmp_path / "gp.csv", "record_id,surname,forename,surname\nR1,a,b,c\n")
    with pytest.raises(ChildlinkError, match="more than once|2 times") as err:
        read(path)
    assert err.value.column == "surname"


def test_two_loose_candidates_are_ambiguous(tmp_path):
    path = write_text(tmp_path / "gp.csv", "record_id,Sur Name,SUR_NAME\nR1,a,b\n")
    with pytest.raises(ChildlinkError, match="could all be surname"):
        read(path)


def test_mapping_another_types_event_field_is_refused(tmp_path):
    path = write_text(tmp_path / "gp.csv", "record_id,Role\nR1,liable\n")
    with pytest.raises(ChildlinkError, match="role, which is a council_tax field"):
        read(path, type="gp", columns={"role": "Role"})

"""Reading CSV sources: every type, values kept verbatim or set missing, row numbers, file problems."""

from __future__ import annotations

import os
import pathlib
import re

import pytest

from linkage.errors import ChildlinkError
from linkage.schema import CANONICAL_FIELDS, EVENT_FIELDS, KEY_COLUMNS, SOURCE_TYPES
from linkage.sources.source_types import ALLOWED_VALUES
from src_fixtures import read, write_text

# A value per enumerated field, written the way exports often do (case, spaces) and as it must come out.
ENUM_SAMPLES = {"role": ("Liable", "liable"), "deregistration_reason": ("Gone Away", "gone_away"),
                "episode_type": ("cla", "CLA"), "direction": ("out", "OUT")}


def _sample(field: str) -> tuple[str, str]:
    return ENUM_SAMPLES.get(field, (f"v-{field}", f"v-{field}"))


@pytest.mark.parametrize("source_type", SOURCE_TYPES)
def test_each_source_type_reads_its_own_event_fields_and_ignores_others(tmp_path, source_type):
    own = EVENT_FIELDS[source_type]
    foreign = next(f for t, fields in EVENT_FIELDS.items() if t != source_type for f in fields)
    header = ["record_id", "forename", "surname", "dob", *own, foreign]
    row = ["A1", "Amelia", "Khan", "2015-03-01", *(_sample(f)[0] for f in own), "should-not-appear"]
    path = write_text(tmp_path / "s.csv", ",".join(header) + "\n" + ",".join(row) + "\n")

    records, rejects = read(path, type=source_type, name="mysrc")

    assert list(records.columns) == list(KEY_COLUMNS) + list(CANONICAL_FIELDS)
    assert rejects.empty
    rec = records.iloc[0]
    assert (rec["source"], rec["source_type"], rec["record_id"], rec["row_number"]) == ("mysrc", source_type, "A1", 2)
    assert (rec["forename"], rec["surname"], rec["dob"]) == ("Amelia", "Khan", "2015-03-01")
    for field in own:
        assert rec[field] == _sample(field)[1]
    assert rec[foreign] is None
    assert rec["nhs_number"] is None


def test_enumerated_values_off_the_list_are_kept_as_written(tmp_path):
    path = write_text(tmp_path / "b.csv", "record_id,direction\nB1,sideways\nB2, In \n")
    records, _ = read(path, type="border")
    assert records["direction"].tolist() == ["sideways", "IN"]
    assert set(ALLOWED_VALUES) == set(ENUM_SAMPLES)


def test_blanks_and_placeholders_become_null_and_text_is_trimmed(tmp_path):
    placeholders = ["", "   ", "NULL", "null", "N/A", "n/a", "unknown", "UNKNOWN", "-", "none", "None", " \t-\t "]
    rows = "".join(f"R{i},{v}\n" for i, v in enumerate(placeholders))
    path = write_text(tmp_path / "p.csv", "record_id,surname\n" + rows + "R99,  Nguyen \u00a0\n")
    records, rejects = read(path)
    assert rejects.empty
    assert records["surname"].tolist() == [None] * len(placeholders) + ["Nguyen"]


def test_na_is_a_name_not_a_placeholder(tmp_path):
    # "Na" is a real surname; only the contract's placeholders mean missing.
    path = write_text(tmp_path / "n.csv", "record_id,surname\nR1,Na\nR2,NA\n")
    records, _ = read(path)
    assert records["surname"].tolist() == ["Na", "NA"]


def test_formula_like_text_and_quotes_are_stored_verbatim(tmp_path):
    path = write_text(tmp_path / "f.csv",
                      'record_id,forename,surname,address_line\n'
                      'R1,"=HYPERLINK(""http://x"",""click"")",+44,"1 ""The"" Close, Leeds"\n')
    records, _ = read(path)
    rec = records.iloc[0]
    assert rec["forename"] == '=HYPERLINK("http://x","click")'
    assert rec["surname"] == "+44"
    assert rec["address_line"] == '1 "The" Close, Leeds'


def test_embedded_newlines_do_not_shift_spreadsheet_row_numbers(tmp_path):
    text = ('record_id,address_line\r\n'
            'R1,"Flat 1\r\nHigh Street\r\nLeeds"\r\n'      # row 2 spans three physical lines
            'R2,"a ""quoted"" word"\r\n'                    # row 3
            '\r\n'                                          # row 4: blank line, a spreadsheet row too
            'R3,last\r\n')                                  # row 5
    records, rejects = read(write_text(tmp_path / "n.csv", text))
    assert records["record_id"].tolist() == ["R1", "R2", "R3"]
    assert records["row_number"].tolist() == [2, 3, 5]
    assert records["address_line"].iloc[0] == "Flat 1\r\nHigh Street\r\nLeeds"
    assert rejects[["row_number", "reason"]].values.tolist() == [[4, "empty row"]]


def test_header_only_file_gives_no_rows(tmp_path):
    for i, text in enumerate(["record_id,forename\n", "record_id,forename"]):
        records, rejects = read(write_text(tmp_path / f"h{i}.csv", text))
        assert len(records) == 0 and rejects.empty


@pytest.mark.parametrize("name,content,message", [
    ("empty.csv", b"", "empty (0 bytes)"),
    ("blank_header.csv", b"\n\nR1\n", "no header row"),
    ("data.xlsx", b"PK\x03\x04", "unsupported file extension .xlsx"),
])
def test_unusable_files_raise_one_clear_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ChildlinkError, match=re.escape(message)) as err:
        read(path)
    assert str(path) in str(err.value)


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(ChildlinkError, match="file not found") as err:
        read(tmp_path / "absent.csv")
    assert "absent.csv" in str(err.value)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ChildlinkError, match="is a folder"):
        read(tmp_path / "folder.csv")


def test_unreadable_permissions_are_reported(tmp_path, monkeypatch):
    path = write_text(tmp_path / "locked.csv", "record_id\nR1\n")
    if os.geteuid() == 0:   # root reads any file, so simulate what a normal user would meet
        real_open = pathlib.Path.open

        def refuse(self, *args, **kwargs):
            if self == path:
                raise PermissionError(13, "Permission denied")
            return real_open(self, *args, **kwargs)
        monkeypatch.setattr(pathlib.Path, "open", refuse)
    else:
        path.chmod(0)
    try:
        with pytest.raises(ChildlinkError, match="permission denied") as err:
            read(path)
        assert "locked.csv" in str(err.value)
    finally:
        monkeypatch.undo()
        path.chmod(0o600)


def test_runaway_quote_is_a_reject_not_a_crash(tmp_path):
    # The unclosed quote on row 3 swallows the rest of the file into one malformed row.
    text = 'record_id,forename,surname\nR1,a,b\nR2,"c,d\nR3,e,f\n'
    records, rejects = read(write_text(tmp_path / "q.csv", text))
    assert records["record_id"].tolist() == ["R1"]
    assert rejects[["record_id", "row_number", "reason"]].values.tolist() == [
        ["R2", 3, "unreadable row: expected 3 fields, found 2"]]

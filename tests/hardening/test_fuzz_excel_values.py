"""What Excel-mangled and damaged values become: the decisions the fuzz tests rely on, held.

- A leading apostrophe (Excel's "this cell is text" marker) is not part of the value.
- An NHS number in scientific notation has lost digits: missing, flagged invalid, never guessed.
- A 5-digit whole number in a date column is an Excel serial date (1900 system) and is converted;
  other bare numbers are bad dates.
- A row holding a NUL byte is rejected as unreadable; the rest of the file is read. UTF-16 files
  and headers holding NUL bytes are refused with one clear message.
- Column names with line breaks are escaped in messages, which stay on one line.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from linkage.errors import ChildlinkError
from linkage.job import Job, SourceSpec
from linkage.sources import load_sources
from linkage.sources.rejects import NUL_BYTE
from linkage.standardise import standardise_records

from fuzz_support import write

HEADER = "record_id,forename,surname,dob,sex,postcode,nhs_number,uprn,registration_date\r\n"


def _prepare(tmp_path, body: bytes, *, date_format: str | None = None):
    """Load and standardise one GP CSV; (std_records rows by record_id, rejects)."""
    path = write(tmp_path / "gp.csv", HEADER.encode() + body)
    job = Job(path=tmp_path / "job.yaml", home_la="330", postcode_lookup=None, reference_date=dt.date(2026, 11, 1),
              sources=(SourceSpec(name="gp", type="gp", path=path, date_format=date_format),))
    con = duckdb.connect()
    loaded = load_sources(con, job)
    standardise_records(con, reference_date=job.reference_date, date_formats={"gp": date_format})
    cursor = con.execute("SELECT * FROM std_records")
    names = [d[0] for d in cursor.description]
    rows = {r["record_id"]: r for r in (dict(zip(names, values)) for values in cursor.fetchall())}
    con.close()
    return rows, loaded.rejects


def test_a_leading_apostrophe_is_excels_text_marker_not_data(tmp_path):
    rows, rejects = _prepare(tmp_path, (
        "'0123,'Amy,O'Brien,'2015-03-01,'F,'B1 0AA,'9434765919,'000000199356,' 01/03/2016\r\n"
        "R2,Bo,''Neill,2015-03-01,M,B1 0AA,',,\r\n").encode())
    assert rejects.empty
    first = rows["0123"]                                    # the record_id lost its marker, kept its zero
    assert (first["forename"], first["surname"]) == ("Amy", "O'Brien")    # inner apostrophes are data
    assert first["dob_date"] == dt.date(2015, 3, 1) and first["sex_std"] == "F"
    assert first["nhs_number_std"] == "9434765919" and first["uprn_std"] == 199356
    assert first["registration_date"] == dt.date(2016, 3, 1)
    assert first["dq_flags"] == []
    second = rows["R2"]
    assert second["surname"] == "'Neill"                    # only the first apostrophe is a marker
    assert second["nhs_number"] is None                     # a lone apostrophe is an empty cell
    assert "invalid_nhs_number" not in second["dq_flags"]


@pytest.mark.parametrize("nhs", ["9.43477E+09", "9.434765919E+09", "9.43E+09", "9434765919.0", "1.23E+09"])
def test_an_nhs_number_in_scientific_notation_is_missing_and_flagged_never_guessed(tmp_path, nhs):
    rows, _ = _prepare(tmp_path, f"R1,Amy,Smith,2015-03-01,F,B1 0AA,{nhs},,\r\n".encode())
    record = rows["R1"]
    assert record["nhs_number"] == nhs                      # the raw text is kept as written
    assert record["nhs_number_std"] is None
    assert "invalid_nhs_number" in record["dq_flags"]


@pytest.mark.parametrize("date_format", [None, "%d/%m/%Y"])
def test_a_five_digit_number_in_a_date_column_is_an_excel_serial_date(tmp_path, date_format):
    rows, _ = _prepare(tmp_path, ("R1,Amy,Smith,42064,F,,,,44197\r\n"         # 2015-03-01, 2021-01-01
                                  "R2,Amy,Smith,42064.5,F,,,,4206\r\n"        # not whole / not 5 digits
                                  "R3,Amy,Smith,01234,F,,,,20150301\r\n").encode(), date_format=date_format)
    assert rows["R1"]["dob_date"] == dt.date(2015, 3, 1)
    assert rows["R1"]["registration_date"] == dt.date(2021, 1, 1)
    assert rows["R1"]["dq_flags"] == []
    for record_id in ("R2", "R3"):
        assert rows[record_id]["dob_date"] is None
        assert {"bad_dob", "bad_date:registration_date"} <= set(rows[record_id]["dq_flags"])


def test_a_row_holding_a_nul_byte_is_rejected_and_the_rest_is_read(tmp_path):
    rows, rejects = _prepare(tmp_path, b"R1,Amy,Smith,2015-03-01,F,,,,\r\nR2,A\x00my,Smith,,,,,,\r\n"
                                       b"\x00\x00\x00,,,,,,,,\r\nR4,Bo,Jones,2015-03-01,M,,,,\r\n")
    assert sorted(rows) == ["R1", "R4"]
    assert rejects[["record_id", "row_number", "reason"]].astype(object).where(rejects.notna(), None).values.tolist() == [
        ["R2", 3, NUL_BYTE], [None, 4, NUL_BYTE]]


@pytest.mark.parametrize("content, message", [
    ("record_id,forename\r\nR1,Amy\r\n".encode("utf-16"), "is UTF-16 text"),
    ("record_id,forename\r\nR1,Amy\r\n".encode("utf-16-be"), "header row holds NUL bytes"),
])
def test_utf16_is_refused_with_one_clear_message(tmp_path, content, message):
    path = write(tmp_path / "gp.csv", content)
    with pytest.raises(ChildlinkError, match=message) as err:
        load_sources(duckdb.connect(), _job_of(tmp_path, path))
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_a_column_name_with_a_line_break_is_escaped_in_messages(tmp_path):
    path = write(tmp_path / "gp.csv", b'"fore\rname","sur\nname","sur\nname"\r\n1,2,3\r\n')
    with pytest.raises(ChildlinkError) as err:
        load_sources(duckdb.connect(), _job_of(tmp_path, path, columns={"record_id": "fore\rname"}))
    message = str(err.value)
    assert "\n" not in message and "\r" not in message and "sur\\nname" in message


def _job_of(tmp_path, path, columns=None):
    return Job(path=tmp_path / "job.yaml", home_la="330", postcode_lookup=None, reference_date=dt.date(2026, 11, 1),
               sources=(SourceSpec(name="gp", type="gp", path=path, columns=columns or {}),))

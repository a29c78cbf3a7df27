"""Fuzzing the two inputs that must be complete: CME cases and the postcode lookup.

A problem in either is one ChildlinkError naming file, row and column (a case or lookup row
silently dropped would be a child nobody traces); blank rows carry nothing and are passed
over. So the invariant is: ChildlinkError, or every non-blank row is in the table.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import DATE_SHAPES, EXCEL_MANGLED, POSTCODES, csv_bytes, field_text, fuzz_settings, outcome, write
from linkage.errors import ChildlinkError
from linkage.job import Job, SourceSpec
from linkage.sources import read_cme_cases, read_postcode_lookup

SOURCE = "edu"


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _job(tmp_path, *, cme_cases=None, postcode_lookup=None) -> Job:
    import datetime as dt
    source = SourceSpec(name=SOURCE, type="education", path=tmp_path / "edu.csv")
    return Job(path=tmp_path / "job.yaml", home_la="330", postcode_lookup=postcode_lookup,
               reference_date=dt.date(2026, 11, 1), sources=(source,), cme_cases=cme_cases)


def _non_blank(rows: list[list[str]]) -> int:
    """Rows with any non-whitespace field (whitespace as the reader trims it)."""
    return sum(1 for row in rows if row and not all(pc.equal(pc.utf8_trim_whitespace(pa.array(row, pa.string())), "").to_pylist()))


def _mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """``good`` nine times in ten: files with a rare bad row are the interesting ones."""
    return st.integers(0, 9).flatmap(lambda i: bad if i == 0 else good)


@st.composite
def _file(draw, header: list[str], cells: list[st.SearchStrategy]) -> tuple[bytes, list[list[str]]]:
    header = [draw(_mostly(st.just(name), st.sampled_from([name.upper(), f" {name} ", name.replace("_", " "), "x"])))
              for name in header]
    rows = draw(st.lists(_mostly(st.tuples(*cells).map(list),
                                 st.lists(field_text(), max_size=5)), max_size=12))
    data = csv_bytes(header, rows, encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])),
                     newline=draw(st.sampled_from(["\r\n", "\n", "\r"])), quote_all=draw(st.booleans()),
                     final_newline=draw(st.booleans()) or not rows or rows[-1] == [])
    return data, rows


CASE_FILE = _file(["case_id", "source", "record_id", "referral_date"], [
    _mostly(st.integers(0, 10**6).map(lambda i: f"CME{i}"), field_text()),
    _mostly(st.just(SOURCE), field_text()),
    _mostly(st.integers(0, 10**6).map(str), field_text()),
    _mostly(st.dates().map(lambda d: d.strftime("%d/%m/%Y")), st.sampled_from(DATE_SHAPES + EXCEL_MANGLED))])

LOOKUP_FILE = st.sampled_from(["postcode_district", "postcode"]).flatmap(lambda key: _file([key, "la_code"], [
    _mostly(st.sampled_from(["B1", "ls1", "SW1A", "b13"] if key == "postcode_district" else POSTCODES), field_text()),
    _mostly(st.integers(0, 999).map(str), field_text())]))


def _read_or_refuse(reader, tmp_path, con, data: bytes, name: str, job_key: str) -> str | None:
    """The table ``reader`` made of the file, or None after checking the refusal names the file."""
    path = write(tmp_path / name, data)
    try:
        table = reader(con, _job(tmp_path, **{job_key: path}))
    except ChildlinkError as exc:
        assert str(exc).startswith(str(path))
        outcome("refused: " + str(exc)[len(str(path)):].split(":")[0])
        return None
    outcome("read")
    return table


@fuzz_settings(200)
@given(case=CASE_FILE)
def test_cme_cases_are_all_read_or_one_clear_error(tmp_path, con, case):
    data, rows = case
    table = _read_or_refuse(read_cme_cases, tmp_path, con, data, "cases.csv", "cme_cases")
    if table is not None:
        n, ids = con.execute(f"SELECT count(*), count(DISTINCT case_id) FROM {table}").fetchall()[0]
        assert n == ids == _non_blank(rows)


@fuzz_settings(200)
@given(case=LOOKUP_FILE)
def test_postcode_lookup_rows_are_all_read_or_one_clear_error(tmp_path, con, case):
    data, rows = case
    table = _read_or_refuse(read_postcode_lookup, tmp_path, con, data, "lookup.csv", "postcode_lookup")
    if table is not None:
        # Repeated rows collapse to one (DISTINCT); every distinct non-blank row is there.
        n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        assert (n == 0) == (_non_blank(rows) == 0) and n <= _non_blank(rows)

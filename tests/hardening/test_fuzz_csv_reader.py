"""Fuzzing the CSV source reader in-process: one generated file per example.

Invariants: only ChildlinkError ever escapes; every data row of the file is exactly one record
or one reject with a reason (rows in == records + rejects, each row number once); record ids
are present and unique, and are the file's own values.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.errors import ChildlinkError
from linkage.job import SourceSpec
from linkage.schema import SOURCE_TYPES
from linkage.sources import read_source
from linkage.sources.columns import normalised_name
from linkage.sources.values import clean_text

from fuzz_support import (assert_every_row_accounted, assert_rows_contiguous, csv_case, damaged_bytes,
                           fuzz_settings, outcome, write)

FIRST_DATA_ROW = 2      # the header is row 1


def _read(path, source_type: str):
    """(records, rejects) as pandas, or None when the reader refused the file with a ChildlinkError."""
    try:
        table, rejects = read_source(SourceSpec(name="src", type=source_type, path=path))
    except ChildlinkError as exc:
        assert str(exc).startswith(str(path)), "the error names the file first"
        outcome("refused: " + str(exc)[len(str(path)):].split("(")[0][:70])
        return None
    outcome("read: some records" if table.num_rows else "read: no records")
    return table.to_pandas(), rejects


def _record_id_column(names: list[str]) -> int:
    exact = [i for i, n in enumerate(names) if n.strip() == "record_id"]
    return exact[0] if exact else next(i for i, n in enumerate(names) if normalised_name(n) == "recordid")


@fuzz_settings(200)
@given(case=csv_case(), source_type=st.sampled_from(SOURCE_TYPES))
def test_every_csv_row_is_a_record_or_a_reject(tmp_path, case, source_type):
    data, names, rows = case
    path = write(tmp_path / "src.csv", data)
    read = _read(path, source_type)
    if read is None:
        return
    records, rejects = read
    assert_every_row_accounted(records, rejects, len(rows), FIRST_DATA_ROW)
    # A record's id is the (cleaned) first-column-or-mapped value of its own row, never a neighbour's.
    id_column = _record_id_column(names)
    for row_number, record_id in zip(records["row_number"], records["record_id"]):
        written = rows[row_number - FIRST_DATA_ROW][id_column]
        assert clean_text(pa.array([written])).to_pylist() == [record_id]


@fuzz_settings(100)
@given(data=st.data(), source_type=st.sampled_from(SOURCE_TYPES))
def test_damaged_csv_bytes_never_crash_or_lose_rows(tmp_path, data, source_type):
    original, _, _ = data.draw(csv_case(long_fields=False))
    path = write(tmp_path / "src.csv", data.draw(damaged_bytes(original)))
    read = _read(path, source_type)
    if read is not None:
        assert_rows_contiguous(*read, FIRST_DATA_ROW)


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n", "\n\n\n", ",,,\n", '"', 'record_id\n"unclosed\n1\n'])
def test_degenerate_files_are_one_clear_error_or_read_whole(tmp_path, text):
    path = write(tmp_path / "src.csv", text.encode("utf-8"))
    read = _read(path, "gp")
    if read is not None:
        assert_rows_contiguous(*read, FIRST_DATA_ROW)


@pytest.mark.slow
@pytest.mark.parametrize("megabytes", [1, 70])
def test_a_field_longer_than_the_parser_block_is_read_whole(tmp_path, megabytes):
    """The parser reads 64 MiB blocks; one field larger than a block is still one whole value,
    and the rows around it keep their numbers."""
    body = b'R1,"' + b"x," * (megabytes << 19) + b'"\r\n,\r\nR3,short\r\n'
    path = write(tmp_path / "src.csv", b"record_id,address_line\r\n" + body)
    records, rejects = _read(path, "gp")
    assert_every_row_accounted(records, rejects, 3, FIRST_DATA_ROW)
    assert records["record_id"].tolist() == ["R1", "R3"] and len(records["address_line"][0]) == megabytes << 20

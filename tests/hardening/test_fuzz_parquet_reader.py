"""Fuzzing the Parquet source reader in-process: one generated file per example.

Typed columns of every kind Parquet exports produce (strings, dictionaries, integers, floats
with NaN and infinities, timestamps with and without zones, dates, binary, decimals, nulls,
and types that cannot be text) under messy or repeated names. Invariants as for CSV: only
ChildlinkError escapes, and every row is exactly one record or one reject.
"""

from __future__ import annotations

import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import assert_every_row_accounted, fuzz_settings, outcome, parquet_case
from linkage.errors import ChildlinkError
from linkage.job import SourceSpec
from linkage.schema import SOURCE_TYPES
from linkage.sources import read_source

FIRST_ROW = 1       # Parquet has no header row


@fuzz_settings(200)
@given(case=parquet_case(), source_type=st.sampled_from(SOURCE_TYPES))
def test_every_parquet_row_is_a_record_or_a_reject(tmp_path, case, source_type):
    table, n_rows = case
    path = tmp_path / "src.parquet"
    pq.write_table(table, path)
    try:
        records, rejects = read_source(SourceSpec(name="src", type=source_type, path=path))
    except ChildlinkError as exc:
        assert str(exc).startswith(str(path))
        outcome("refused: " + str(exc)[len(str(path)):].split("(")[0][:60])
        return
    outcome("read")
    assert_every_row_accounted(records.to_pandas(), rejects, n_rows, FIRST_ROW)

"""Fuzzing set-based standardisation: any text in any field of ``records`` gives one
``std_records`` row per record, and standardising the result again changes nothing."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import field_text, fuzz_settings
from linkage.schema import CANONICAL_FIELDS, SOURCE_TYPES, STANDARDISED_COLUMNS
from linkage.sources.records import RECORD_SCHEMA
from linkage.standardise import standardise_records

REFERENCE_DATE = dt.date(2026, 11, 1)
VALUE = st.one_of(st.none(), field_text(), st.text(max_size=12))


@st.composite
def records_table(draw) -> pa.Table:
    n = draw(st.integers(1, 60))
    columns = {
        "source": pa.array(draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)), pa.string()),
        "source_type": pa.array(draw(st.lists(st.sampled_from(SOURCE_TYPES), min_size=n, max_size=n)), pa.string()),
        "record_id": pa.array([str(i) for i in range(n)], pa.string()),
        "row_number": pa.array(range(2, n + 2), pa.int64()),
    }
    for field in CANONICAL_FIELDS:
        columns[field] = pa.array(draw(st.lists(VALUE, min_size=n, max_size=n)), pa.string())
    return pa.table(columns, schema=RECORD_SCHEMA)


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@fuzz_settings(8, slow_cap=300)
@given(table=records_table(), formats=st.sampled_from([None, {"a": "%d/%m/%Y"}, {"b": "%Y%m%d"}]))
def test_standardise_keeps_every_record_and_is_idempotent(con, table, formats):
    con.register("fuzz_records", table)
    try:
        con.execute("CREATE OR REPLACE TABLE records AS SELECT * FROM fuzz_records")
    finally:
        con.unregister("fuzz_records")
    standardise_records(con, reference_date=REFERENCE_DATE, date_formats=formats)
    standardise_records(con, reference_date=REFERENCE_DATE, date_formats=formats, records="std_records",
                        out="std_again")
    assert con.execute("SELECT count(*) FROM std_records").fetchall()[0][0] == table.num_rows
    # dq_flags describe the raw input; a second pass sees the already-cleaned values, so only
    # the standardised values themselves must be unchanged.
    for column in (c for c in STANDARDISED_COLUMNS if c != "dq_flags"):
        differing = con.execute(f"""SELECT count(*) FROM std_records s JOIN std_again a USING (record_id)
                                    WHERE s."{column}" IS DISTINCT FROM a."{column}" """).fetchall()[0][0]
        assert differing == 0, f"standardising standardised records changed {column}"

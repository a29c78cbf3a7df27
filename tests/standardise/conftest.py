"""Fixtures for the standardisation tests: an in-memory DuckDB and a records-table builder."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from linkage.schema import CANONICAL_FIELDS, KEY_COLUMNS

REFERENCE_DATE = dt.date(2026, 11, 1)


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _create_records(con, rows: list[dict], table: str = "records") -> None:
    """A `records` table in the contract shape (all TEXT, row_number BIGINT) holding `rows`."""
    columns = list(KEY_COLUMNS) + list(CANONICAL_FIELDS)
    types = ", ".join(f'"{c}" {"BIGINT" if c == "row_number" else "VARCHAR"}' for c in columns)
    con.execute(f'CREATE OR REPLACE TABLE "{table}" ({types})')
    for number, row in enumerate(rows, start=1):
        full = {"source": "edu", "source_type": "education", "record_id": str(number),
                "row_number": number, **row}
        unknown = set(full) - set(columns)
        assert not unknown, unknown
        names = ", ".join(f'"{c}"' for c in full)
        marks = ", ".join("?" for _ in full)
        con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(full.values()))


@pytest.fixture
def make_records(con):
    def make(rows: list[dict], table: str = "records") -> None:
        _create_records(con, rows, table)
    return make


@pytest.fixture
def standardise(con, make_records):
    """Build records from dicts, standardise, and return std_records rows as dicts in order."""
    from linkage.standardise import standardise_records

    def run(rows: list[dict], *, date_formats=None, reference_date=REFERENCE_DATE) -> list[dict]:
        make_records(rows)
        standardise_records(con, reference_date=reference_date, date_formats=date_formats)
        cursor = con.execute("SELECT * FROM std_records ORDER BY row_number")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values)) for values in cursor.fetchall()]
    return run

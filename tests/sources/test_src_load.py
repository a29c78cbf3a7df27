"""load_sources: all of a job's sources in one DuckDB table, with rejects and rows read."""

from __future__ import annotations

import duckdb
import pytest

from linkage.errors import ChildlinkError
from linkage.job import load_job
from linkage.schema import CANONICAL_FIELDS, KEY_COLUMNS
from linkage.sources import SOURCE_COLUMNS_TABLE, load_sources
from src_fixtures import write_parquet, write_text

JOB = """
home_la: "330"
sources:
  - {name: education, type: education, path: edu.csv, columns: {forename: First Name}}
  - {name: gp, type: gp, path: gp.parquet}
"""


@pytest.fixture
def job_file(tmp_path):
    write_text(tmp_path / "edu.csv", "\ufeffRecord ID,First Name,Surname,UPN,Entry Date,Tutor\r\n"
               "E1,Zoë,Khan,A330200115001,2020-09-01,Ms X\r\nE2,Ali,,,,\r\nE1,dup,,,,\r\n")
    write_parquet(tmp_path / "gp.parquet", {"record_id": ["G1", "G2"], "forename": ["Zoe", "Ali"],
                                            "nhs_number": ["943 476 5919", None]})
    path = tmp_path / "job.yaml"
    path.write_text(JOB, encoding="utf-8")
    return path


def test_records_table_has_the_canonical_columns_and_types(job_file):
    con = duckdb.connect()
    result = load_sources(con, load_job(job_file))
    described = con.execute("DESCRIBE records").fetchall()
    assert [r[0] for r in described] == list(KEY_COLUMNS) + list(CANONICAL_FIELDS)
    types = {r[0]: r[1] for r in described}
    assert types["row_number"] == "BIGINT" and {types[f] for f in CANONICAL_FIELDS} == {"VARCHAR"}
    assert result.records == "records"


def test_sources_are_loaded_in_job_then_row_order_with_counts_and_rejects(job_file):
    con = duckdb.connect()
    result = load_sources(con, load_job(job_file))
    rows = con.execute("SELECT source, source_type, record_id, row_number, forename, upn, entry_date, nhs_number "
                       "FROM records").fetchall()
    assert rows == [
        ("education", "education", "E1", 2, "Zoë", "A330200115001", "2020-09-01", None),
        ("education", "education", "E2", 3, "Ali", None, None, None),
        ("gp", "gp", "G1", 1, "Zoe", None, None, "943 476 5919"),
        ("gp", "gp", "G2", 2, "Ali", None, None, None),
    ]
    assert result.row_counts == {"education": 3, "gp": 2}
    assert result.rejects.astype(object).values.tolist() == [
        ["education", "E1", 4, "duplicate record_id (first seen at row 2)"]]
    total = con.execute("SELECT count(*) FROM records").fetchone()[0]
    assert total + len(result.rejects) == sum(result.row_counts.values())


def test_source_columns_table_records_used_and_ignored_columns(job_file):
    con = duckdb.connect()
    load_sources(con, load_job(job_file))
    rows = con.execute(f"SELECT source, file_column, field FROM {SOURCE_COLUMNS_TABLE} "
                       "WHERE source = 'education' ORDER BY file_column").fetchall()
    assert rows == [("education", "Entry Date", "entry_date"), ("education", "First Name", "forename"),
                    ("education", "Record ID", "record_id"), ("education", "Surname", "surname"),
                    ("education", "Tutor", None), ("education", "UPN", "upn")]


def test_loading_is_deterministic_and_replaces_the_table(job_file):
    con = duckdb.connect()
    job = load_job(job_file)
    load_sources(con, job)
    first = con.execute("SELECT * FROM records").fetchall()
    load_sources(con, job)
    assert con.execute("SELECT * FROM records").fetchall() == first


def test_custom_table_name_and_bad_name(job_file):
    con = duckdb.connect()
    result = load_sources(con, load_job(job_file), table="raw_records")
    assert con.execute(f"SELECT count(*) FROM {result.records}").fetchone()[0] == 4
    with pytest.raises(ChildlinkError):
        load_sources(con, load_job(job_file), table="x; DROP TABLE raw_records")


def test_a_bad_source_stops_the_load_with_its_name(job_file, tmp_path):
    (tmp_path / "gp.parquet").unlink()
    with pytest.raises(ChildlinkError, match="source 'gp': file not found"):
        load_sources(duckdb.connect(), load_job(job_file))

"""quality_summary / format_summary over a hand-built std_records table (and one real pipeline run)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from linkage.errors import ChildlinkError
from linkage.quality import format_summary, quality_summary

STD_ROWS = """
    ('edu', 'education', 'E1', 'Zoë',  'Khan', 'A330200115001', NULL,         NULL,    DATE '2020-09-01', ['invalid_upn', 'bad_dob']),
    ('edu', 'education', 'E2', 'Ali',  NULL,   'B330200115XYZ', NULL,         NULL,    NULL,              ['invalid_upn']),
    ('edu', 'education', 'E3', NULL,   'Ray',  NULL,            NULL,         NULL,    DATE '2021-09-01', []),
    ('edu', 'education', 'E4', 'Bo',   'Li',   'A330200115001', NULL,         NULL,    NULL,              ['bad_date:entry_date', 'bad_date:entry_date']),
    ('gp',  'gp',        'G1', 'Zoe',  'Khan', NULL,            '9434765918', NULL,    NULL,              ['invalid_nhs_number', 'unparseable_postcode']),
    ('gp',  'gp',        'G2', 'Amir', 'Shah', NULL,            '9434765919', NULL,    NULL,              NULL),
    ('ct',  'council_tax','C1','Amir', 'Shah', NULL,            NULL,         'owner', NULL,              []),
    ('ct',  'council_tax','C2','Ann',  'Shah', NULL,            NULL,         'liable',NULL,              [])
"""
SECRET_VALUES = ("Zoë", "Khan", "A330200115001", "B330200115XYZ", "9434765918", "owner", "E1", "G1")


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE std_records AS SELECT * FROM (VALUES {STD_ROWS})
                    AS t(source, source_type, record_id, forename, surname, upn, nhs_number, role, entry_date, dq_flags)""")
    return con


REJECTS = pd.DataFrame({
    "source": ["edu", "edu", "border", "border", "border"],
    "record_id": [None, "E1", None, None, "X1"],
    "row_number": [3, 7, 2, 3, 4],
    "reason": ["missing record_id", "duplicate record_id (first seen at row 2)", "empty row",
               "unreadable row: expected 5 fields, found 2", "unreadable row: expected 5 fields, found 7"],
})
ROW_COUNTS = {"edu": 6, "gp": 2, "ct": 2, "border": 3}


def _by_source(summary):
    return {s.source: s for s in summary.sources}


def test_counts_per_source(con):
    summary = quality_summary(con, rejects=REJECTS, row_counts=ROW_COUNTS)
    assert [s.source for s in summary.sources] == ["edu", "gp", "ct", "border"]
    edu, gp, ct, border = (_by_source(summary)[n] for n in ("edu", "gp", "ct", "border"))
    assert (edu.rows_read, edu.records, edu.rejected) == (6, 4, 2)
    assert edu.rejects == {"duplicate record_id": 1, "missing record_id": 1}
    assert border.rejects == {"empty row": 1, "unreadable row": 2}
    assert (border.records, border.source_type) == (0, None)
    assert edu.completeness == {"forename": 75.0, "surname": 75.0, "upn": 75.0}   # no nhs_number: not carried
    assert gp.completeness == {"forename": 100.0, "surname": 100.0, "nhs_number": 100.0}
    assert edu.flags == {"invalid_upn": 2, "bad_dob": 1, "bad_date:entry_date": 1}
    assert gp.flags == {"invalid_nhs_number": 1, "unparseable_postcode": 1}
    assert ct.unexpected_values == {"role": 1} and edu.unexpected_values == {}


def test_fatal_and_warnings(con):
    summary = quality_summary(con, rejects=REJECTS, row_counts=ROW_COUNTS)
    assert summary.fatal
    assert summary.fatal_problems == ["source 'border' has no usable records (3 rows read, 3 rejected)"]
    assert any("'edu': 33.3% of rows were rejected" in w for w in summary.warnings)
    assert any("'ct' has no account_ref column" in w for w in summary.warnings)
    assert not any("'gp' has no nhs_number" in w for w in summary.warnings)
    assert any("'gp' has no registration_date column" in w for w in summary.warnings)


def test_no_fatal_problem_when_every_source_has_records(con):
    summary = quality_summary(con, rejects=REJECTS.iloc[:2], row_counts={"edu": 6, "gp": 2, "ct": 2})
    assert not summary.fatal and summary.fatal_problems == []


def test_source_columns_table_decides_what_a_source_carries(con):
    con.execute("""CREATE TABLE source_columns AS SELECT * FROM (VALUES
        ('gp', 'ID', 'record_id'), ('gp', 'NHS', 'nhs_number'), ('gp', 'Given', 'forename'),
        ('gp', 'Family', 'surname'), ('gp', 'Notes', NULL), ('gp', 'Practice Notes', NULL))
        AS t(source, file_column, field)""")
    gp = _by_source(quality_summary(con, rejects=REJECTS, row_counts=ROW_COUNTS))["gp"]
    assert gp.extra_columns == ("Notes", "Practice Notes")
    assert set(gp.completeness) == {"forename", "surname", "nhs_number"}


def test_formatted_summary_shows_counts_and_names_but_no_data(con):
    con.execute("CREATE TABLE source_columns AS SELECT 'gp' AS source, 'Notes' AS file_column, NULL::VARCHAR AS field")
    text = format_summary(quality_summary(con, rejects=REJECTS, row_counts=ROW_COUNTS))
    for expected in ("edu", "border", "invalid_upn", "bad_date:entry_date", "unexpected role", "75.0",
                     "FATAL: source 'border'", "Notes", "duplicate record_id"):
        assert expected in text
    for secret in SECRET_VALUES:
        assert secret not in text
    assert "first seen at row" not in text


def test_summary_over_a_real_load_and_standardisation(tmp_path):
    standardise = pytest.importorskip("linkage.standardise")
    from linkage.job import load_job
    from linkage.sources import load_sources

    (tmp_path / "gp.csv").write_text(
        "record_id,forename,surname,dob,nhs_number,postcode,Notes\n"
        "G1,Zoë,Khan,2015-03-01,943 476 5919,LS1 4AP,a\n"
        "G2,Ali,Shah,2099-01-01,9434765918,not a postcode,b\n"
        "G2,Ali,Shah,,,,\n", encoding="utf-8")
    (tmp_path / "job.yaml").write_text('home_la: "383"\nreference_date: 2026-11-01\n'
                                       "sources:\n  - {name: gp, type: gp, path: gp.csv}\n", encoding="utf-8")
    job = load_job(tmp_path / "job.yaml")
    con = duckdb.connect()
    loaded = load_sources(con, job)
    standardise.standardise_records(con, reference_date=job.reference_date, date_formats={"gp": None})
    summary = quality_summary(con, rejects=loaded.rejects, row_counts=loaded.row_counts)
    gp = summary.sources[0]
    assert (gp.rows_read, gp.records, gp.rejected) == (3, 2, 1)
    assert gp.flags.get("invalid_nhs_number") == 1 and gp.flags.get("unparseable_postcode") == 1
    assert gp.flags.get("dob_in_future", 0) + gp.flags.get("bad_dob", 0) >= 1
    assert gp.extra_columns == ("Notes",)
    text = format_summary(summary)
    assert "9434765918" not in text and "Zoë" not in text and "2099" not in text


def test_summary_without_std_records_is_a_clear_error():
    with pytest.raises(ChildlinkError, match="std_records not found"):
        quality_summary(duckdb.connect(), rejects=REJECTS, row_counts=ROW_COUNTS)


def test_validate_writes_rejects_and_quality_tables(tmp_path):
    """`childlink validate --out` writes every rejected row and the summary as CSV."""
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["validate", "sample_data/job.yaml", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "rejects.csv", dtype=str)
    assert list(rejects.columns) == ["source", "record_id", "row_number", "reason"] and len(rejects) > 0
    quality = pd.read_csv(tmp_path / "quality.csv", dtype=str)
    read = quality[(quality.source == "education") & (quality.measure == "rows read")].value.item()
    kept = quality[(quality.source == "education") & (quality.measure == "records")].value.item()
    assert int(read) == int(kept) + (rejects.source == "education").sum()   # nothing lost

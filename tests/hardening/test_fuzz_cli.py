"""Fuzzed inputs through the command line: never a traceback, always a clear exit.

``childlink validate`` reads and standardises every source and reads the CME cases and
postcode lookup, so it reaches every reader. Whatever the input, it exits 0 (read), 3 (a
source with no usable records) or 2 with one line naming the file; never 1 (internal error)
and never a traceback.
"""

from __future__ import annotations

import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cli import main
from fuzz_support import csv_case, damaged_bytes, fuzz_settings, outcome, parquet_case, write


def _write_job(folder, source_file: str, *, cme: bytes | None, lookup: bytes | None):
    job = {"home_la": "330", "reference_date": "2026-11-01",
           "sources": [{"name": "src", "type": "education", "path": source_file}]}
    if cme is not None:
        job["cme_cases"] = str(write(folder / "cases.csv", cme))
    if lookup is not None:
        job["postcode_lookup"] = str(write(folder / "lookup.csv", lookup))
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    return path


def _check_clean_exit(result, files: list[str]) -> None:
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exit_code in (0, 2, 3), f"exit {result.exit_code}: {result.stderr}"
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert any(f in lines[0] for f in files), "the error names the file"
        outcome("exit 2: " + lines[0].split(": ")[-1][:40])
    else:
        outcome(f"exit {result.exit_code}")


CSV_SOURCE = st.one_of(csv_case(long_fields=False).map(lambda case: case[0]),
                       csv_case(long_fields=False).flatmap(lambda case: damaged_bytes(case[0])))
SMALL_TEXT_FILE = st.one_of(st.none(), st.binary(max_size=80),
                            st.just(b"case_id,source,record_id,referral_date\nC1,src,1,01/03/2026\n"),
                            st.just(b"postcode_district,la_code\nB1,330\n"))


@fuzz_settings(30, slow_cap=500)
@given(source=CSV_SOURCE, cme=SMALL_TEXT_FILE, lookup=SMALL_TEXT_FILE)
def test_validate_never_shows_a_traceback_for_csv(tmp_path, source, cme, lookup):
    write(tmp_path / "src.csv", source)
    job = _write_job(tmp_path, "src.csv", cme=cme, lookup=lookup)
    result = CliRunner().invoke(main, ["validate", str(job)])
    _check_clean_exit(result, [str(tmp_path)])


@fuzz_settings(15, slow_cap=200)
@given(case=parquet_case())
def test_validate_never_shows_a_traceback_for_parquet(tmp_path, case):
    import pyarrow.parquet as pq

    pq.write_table(case[0], tmp_path / "src.parquet")
    job = _write_job(tmp_path, "src.parquet", cme=None, lookup=None)
    result = CliRunner().invoke(main, ["validate", str(job)])
    _check_clean_exit(result, [str(tmp_path)])

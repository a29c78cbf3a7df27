import datetime as dt

import pytest

from linkage.errors import ChildlinkError
from linkage.job import load_job

MINIMAL = """
home_la: "330"
postcode_lookup: la_postcodes.csv
reference_date: 2026-11-01
sources:
  - {name: education, type: education, path: education.csv,
     columns: {forename: Forename}, date_format: "%d/%m/%Y"}
  - {name: gp, type: gp, path: gp.parquet}
cme_cases: cme_cases.csv
"""


def write(tmp_path, text):
    p = tmp_path / "job.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_job_resolves_paths_relative_to_the_job_file(tmp_path):
    job = load_job(write(tmp_path, MINIMAL))
    assert job.home_la == "330"
    assert job.reference_date == dt.date(2026, 11, 1)
    assert [s.name for s in job.sources] == ["education", "gp"]
    assert job.source("education").path == tmp_path / "education.csv"
    assert job.source("education").columns == {"forename": "Forename"}
    assert job.source("education").date_format == "%d/%m/%Y"
    assert job.source("gp").date_format is None
    assert job.cme_cases == tmp_path / "cme_cases.csv"
    assert job.postcode_lookup == tmp_path / "la_postcodes.csv"
    assert job.linkage.match_threshold == 0.95


def test_reference_date_defaults_to_today(tmp_path):
    text = MINIMAL.replace("reference_date: 2026-11-01\n", "")
    job = load_job(write(tmp_path, text), today=dt.date(2025, 1, 2))
    assert job.reference_date == dt.date(2025, 1, 2)


def test_linkage_extension_is_read(tmp_path):
    text = MINIMAL + "linkage: {match_threshold: 0.9, review_band: [0.4, 0.9], seed: 7, model: m.json}\n"
    job = load_job(write(tmp_path, text))
    assert job.linkage.match_threshold == 0.9
    assert job.linkage.review_band == (0.4, 0.9)
    assert job.linkage.seed == 7
    assert job.linkage.model == tmp_path / "m.json"


@pytest.mark.parametrize("text, fragment", [
    ("home_la: '330'\n", "has no 'sources'"),
    ("sources: []\n", "has no 'home_la'"),
    ("home_la: 'abc'\nsources: [{name: a, type: gp, path: a.csv}]\n", "3-digit"),
    ("home_la: '330'\nsources: [{name: a, type: hospital, path: a.csv}]\n", "type 'hospital'"),
    ("home_la: '330'\nsources: [{name: a, type: gp}]\n", "has no 'path'"),
    ("home_la: '330'\nsources: [{name: a, type: gp, path: a.csv}, {name: a, type: gp, path: b.csv}]\n", "repeated: a"),
    ("home_la: '330'\nsources: [{name: a, type: gp, path: a.csv, columns: {shoe_size: X}}]\n", "shoe_size"),
    ("home_la: '330'\nreference_date: yesterday\nsources: [{name: a, type: gp, path: a.csv}]\n", "YYYY-MM-DD"),
    ("home_la: '330'\nsources: [{name: a, type: gp, path: a.csv}]\nlinkage: {match_threshold: 2}\n", "between 0 and 1"),
    ("home_la: [330\n", "not valid YAML"),
])
def test_bad_job_files_fail_with_one_clear_message(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ChildlinkError) as err:
        load_job(path)
    assert fragment in str(err.value)
    assert str(path) in str(err.value)


def test_missing_job_file(tmp_path):
    with pytest.raises(ChildlinkError, match="job file not found"):
        load_job(tmp_path / "nope.yaml")


def test_workspace_defaults_beside_the_job_and_can_be_set(tmp_path):
    assert load_job(write(tmp_path, MINIMAL)).workspace_dir == tmp_path / ".childlink"
    job = load_job(write(tmp_path, MINIMAL + "linkage: {workspace: state/here}\n"))
    assert job.workspace_dir == tmp_path / "state" / "here"

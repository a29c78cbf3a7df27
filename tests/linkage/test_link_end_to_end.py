"""`childlink link` end to end on a generated world with hand-made scenario records."""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from linkage.standardise import nhs_check_digit, upn_check_letter
from linkage.synthetic.world import generate


def nhs(stem: str) -> str:
    digit = nhs_check_digit(stem)
    assert digit is not None
    return stem + str(digit)


def upn(body: str) -> str:
    return upn_check_letter(body) + body


TWIN_DOB = "2016-05-04"
SCENARIO_GP = pd.DataFrame([
    # twins: same date of birth, address and surname, different forenames
    {"record_id": "T-GP-1", "forename": "Amelia", "surname": "Clarke", "dob": TWIN_DOB, "sex": "F",
     "postcode": "B13 9QT", "uprn": "100012345678", "nhs_number": nhs("999100001"),
     "practice_code": "M85001", "registration_date": "2016-05-20"},
    {"record_id": "T-GP-2", "forename": "Olivia", "surname": "Clarke", "dob": TWIN_DOB, "sex": "F",
     "postcode": "B13 9QT", "uprn": "100012345678", "nhs_number": nhs("999100003"),
     "practice_code": "M85001", "registration_date": "2016-05-20"},
    # the child behind the transliterated, day-month-swapped border record
    {"record_id": "M-GP-1", "forename": "Muhammad", "surname": "Hussain", "dob": "2014-03-07", "sex": "M",
     "postcode": "B11 4RN", "uprn": "100098765432", "nhs_number": nhs("999100004"),
     "practice_code": "M85002", "registration_date": "2015-01-10"},
])
SCENARIO_EDUCATION = pd.DataFrame([
    {"record_id": "T-ED-1", "forename": "Amelia", "surname": "Clarke", "dob": TWIN_DOB, "sex": "F",
     "postcode": "B13 9QT", "uprn": "100012345678", "upn": upn("330200126001"), "la_code": "330",
     "school_urn": "103001", "entry_date": "2020-09-01"},
    {"record_id": "T-ED-2", "forename": "Olivia", "surname": "Clarke", "dob": TWIN_DOB, "sex": "F",
     "postcode": "B13 9QT", "uprn": "100012345678", "upn": upn("330200126002"), "la_code": "330",
     "school_urn": "103001", "entry_date": "2020-09-01"},
    {"record_id": "M-ED-1", "forename": "Mohammed", "surname": "Hussain", "dob": "2014-03-07", "sex": "M",
     "postcode": "B11 4RN", "uprn": "100098765432", "upn": upn("330200126003"), "la_code": "330",
     "school_urn": "103002", "entry_date": "2018-09-01"},
])
SCENARIO_BORDER = pd.DataFrame([
    {"record_id": "M-BX-1", "forename": "MOHAMMED", "surname": "HUSSEIN", "dob": "2014-07-03", "sex": "M",
     "nationality": "GBR", "passport_number": "533380006", "direction": "OUT", "travel_date": "2026-02-14",
     "port": "BHX"},
])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("world")
    generate(400, 11, folder)
    SCENARIO_GP.to_csv(folder / "scenario_gp.csv", index=False)
    SCENARIO_EDUCATION.to_csv(folder / "scenario_education.csv", index=False)
    SCENARIO_BORDER.to_csv(folder / "scenario_border.csv", index=False)
    job = yaml.safe_load((folder / "job.yaml").read_text())
    job["sources"] += [{"name": "scenario_gp", "type": "gp", "path": "scenario_gp.csv"},
                       {"name": "scenario_education", "type": "education", "path": "scenario_education.csv"},
                       {"name": "scenario_border", "type": "border", "path": "scenario_border.csv"}]
    (folder / "job.yaml").write_text(yaml.safe_dump(job))
    return folder


@pytest.fixture(scope="module")
def run(world):
    out = world / "run"
    result = CliRunner().invoke(main, ["link", str(world / "job.yaml"), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def child_of(identities: pd.DataFrame, source: str, record_id: str) -> str:
    return identities.loc[(identities.source == source) & (identities.record_id == record_id), "child_id"].item()


def test_outputs_follow_the_contract(run):
    ids = pd.read_parquet(run / "identities.parquet")
    assert list(ids.columns[:4]) == ["source", "record_id", "child_id", "confidence"]
    assert ids["confidence"].between(0, 1).all()
    assert pd.read_csv(run / "identities.csv", dtype=str).shape[0] == len(ids)
    pairs = pd.read_parquet(run / "pairs.parquet")
    assert list(pairs.columns[:6]) == ["source_l", "record_id_l", "source_r", "record_id_r",
                                       "match_weight", "match_probability"]
    assert any(c.startswith("gamma_") for c in pairs.columns)      # every pair can be explained
    rejects = pd.read_csv(run / "rejects.csv", dtype=str)
    assert list(rejects.columns) == ["source", "record_id", "row_number", "reason"]


def data_rows(path) -> int:
    """Rows in a CSV file (ragged ones included) or a Parquet file."""
    if path.suffix == ".parquet":
        return len(pd.read_parquet(path))
    encoding = "cp1252" if path.name == "council_tax.csv" else "utf-8-sig"
    with open(path, newline="", encoding=encoding) as f:
        return sum(1 for _ in csv.reader(f)) - 1


def test_every_input_row_is_a_record_or_a_reject_exactly_once(world, run):
    ids = pd.read_parquet(run / "identities.parquet")
    rejects = pd.read_csv(run / "rejects.csv", dtype=str)
    assert not ids.duplicated(["source", "record_id"]).any()
    counts = ids.groupby("source").size().add(rejects.groupby("source").size(), fill_value=0)
    job = yaml.safe_load((world / "job.yaml").read_text())
    for source in job["sources"]:
        assert counts[source["name"]] == data_rows(world / source["path"]), source["name"]
    assert len(rejects) > 0 and rejects.reason.notna().all() and rejects.row_number.notna().all()


def test_twins_stay_apart_and_each_joins_their_own_records(run):
    ids = pd.read_parquet(run / "identities.parquet")
    amelia, olivia = child_of(ids, "scenario_gp", "T-GP-1"), child_of(ids, "scenario_gp", "T-GP-2")
    assert amelia != olivia
    assert child_of(ids, "scenario_education", "T-ED-1") == amelia
    assert child_of(ids, "scenario_education", "T-ED-2") == olivia


def test_transliterated_day_month_swapped_record_joins_its_child(run):
    ids = pd.read_parquet(run / "identities.parquet")
    child = child_of(ids, "scenario_gp", "M-GP-1")
    assert child_of(ids, "scenario_education", "M-ED-1") == child
    assert child_of(ids, "scenario_border", "M-BX-1") == child


def test_same_input_gives_byte_identical_outputs(world, run, tmp_path):
    again = tmp_path / "again"
    result = CliRunner().invoke(main, ["link", str(world / "job.yaml"), "--out", str(again), "--quiet"])
    assert result.exit_code == 0, result.output
    for name in ("identities.csv", "rejects.csv"):
        assert (again / name).read_bytes() == (run / name).read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(again / "pairs.parquet"), pd.read_parquet(run / "pairs.parquet"))


def test_report_is_self_contained_and_carries_no_names(world, run):
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "vegaEmbed" in html and "<h2>Cross-source link rates</h2>" in html
    # nothing is fetched: no external scripts, stylesheets, images or fonts
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(http" not in html
    for name in ("Amelia", "Olivia", "Clarke", "Hussain", "HUSSEIN"):
        assert name not in html


def test_a_pair_can_be_explained_level_by_level(world):
    from linkage.job import load_job
    from linkage.link import link
    from linkage.score import COMPARISON_NAMES, explain_pair

    result = link(load_job(world / "job.yaml"), world / "explained", write_report=False)
    key = dict(result.con.execute("select record_id, rec_key from link_input where source = 'scenario_border' "
                                  "or (source = 'scenario_gp' and record_id = 'M-GP-1')").fetchall())
    l, r = sorted((key["M-GP-1"], key["M-BX-1"]))
    steps = {s["comparison"]: s for s in explain_pair(result.con, "pairs", l, r, result.model)}
    assert list(steps) == list(COMPARISON_NAMES)
    assert steps["dob"]["label"] == "day and month swapped" and steps["dob"]["weight"] > 0
    assert steps["forename"]["label"] == "diminutive or variant of the same name"
    assert steps["address"]["label"] == "missing on one side" and steps["address"]["weight"] == 0

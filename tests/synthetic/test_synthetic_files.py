"""The files a generated world consists of: presence, contract columns, encodings, truth, bad rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkage.job import load_job
from linkage.schema import CANONICAL_FIELDS
from linkage.synthetic import generate
from linkage.synthetic.social_care import FILE_COLUMNS
from linkage.synthetic.writer import FORMULA_VALUE

CHILDREN = 800
SEED = 20261101
CSV_SOURCES = {"education": ("education.csv", "utf-8"), "council_tax": ("council_tax.csv", "cp1252"),
               "social_care": ("social_care.csv", "utf-8-sig"), "border": ("border.csv", "utf-8")}
ALL_FILES = ("education.csv", "gp.parquet", "council_tax.csv", "social_care.csv", "border.csv", "cme_cases.csv",
             "la_postcodes.csv", "job.yaml", "truth.csv", "truth_people.csv")


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world_a")
    generate(CHILDREN, SEED, out)
    return out


@pytest.fixture(scope="module")
def summary_and_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("world_b")
    return generate(CHILDREN, SEED, out), out


def _rows(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


def _id_column(source: str) -> str:
    return FILE_COLUMNS["record_id"] if source == "social_care" else "record_id"


def _records(world_dir: Path, source: str) -> pd.DataFrame:
    """A CSV source's well-formed rows (the ragged ones set aside), every value as text."""
    name, encoding = CSV_SOURCES[source]
    header, *body = _rows(world_dir / name, encoding)
    return pd.DataFrame([r for r in body if len(r) == len(header)], columns=header)


def test_same_seed_gives_byte_identical_files(world_dir, summary_and_dir):
    _, other = summary_and_dir
    for name in ALL_FILES:
        assert (world_dir / name).read_bytes() == (other / name).read_bytes(), name


def test_a_different_seed_gives_a_different_world(world_dir, tmp_path):
    generate(CHILDREN, SEED + 1, tmp_path)
    for name in ("education.csv", "gp.parquet", "border.csv", "truth.csv"):
        assert (world_dir / name).read_bytes() != (tmp_path / name).read_bytes(), name


def test_every_file_is_written(world_dir):
    assert sorted(p.name for p in world_dir.iterdir() if not p.name.startswith(".")) == sorted(ALL_FILES)
    assert not (world_dir / "cme_truth.csv").exists()           # the lead derives it from the rules


def test_job_file_follows_the_contract(world_dir):
    job = load_job(world_dir / "job.yaml")
    assert job.home_la == "330"
    assert job.reference_date == dt.date(2026, 11, 1)
    assert [(s.name, s.type) for s in job.sources] == [
        ("education", "education"), ("gp", "gp"), ("council_tax", "council_tax"),
        ("social_care", "social_care"), ("border", "border")]
    assert all(s.path.is_file() for s in job.sources)
    assert job.cme_cases.is_file() and job.postcode_lookup.is_file()
    social = job.source("social_care")
    assert social.date_format == "%d/%m/%Y"
    assert social.columns == FILE_COLUMNS


def test_source_columns_are_canonical_or_mapped(world_dir):
    canonical = set(CANONICAL_FIELDS) | {"record_id"}
    for source in ("education", "council_tax", "border"):
        header = _rows(world_dir / CSV_SOURCES[source][0], CSV_SOURCES[source][1])[0]
        assert "record_id" in header and set(header) <= canonical, source
    gp_columns = pq.read_schema(world_dir / "gp.parquet").names
    assert "record_id" in gp_columns and set(gp_columns) <= canonical
    social_header = _rows(world_dir / "social_care.csv", "utf-8-sig")[0]
    assert social_header == list(FILE_COLUMNS.values())
    assert not set(social_header) & canonical                    # nothing canonical: all needs the mapping


def test_csv_sources_parse_with_only_the_planned_ragged_rows(world_dir):
    for source, (name, encoding) in CSV_SOURCES.items():
        header, *body = _rows(world_dir / name, encoding)
        lengths = pd.Series([len(r) for r in body])
        assert set(lengths) == {len(header), len(header) + 1}, source
        assert (lengths == len(header) + 1).sum() == 1, source


def test_bad_rows_are_present_in_every_csv_source(world_dir):
    for source in CSV_SOURCES:
        name, encoding = CSV_SOURCES[source]
        text = (world_dir / name).read_bytes().decode(encoding)
        records = _records(world_dir, source)
        ids = records[_id_column(source)]
        assert (ids == "").sum() >= 1, source
        assert ids[ids != ""].duplicated().sum() >= 1, source
        assert f",{FORMULA_VALUE}," in text, source


def test_truth_covers_every_record_id_exactly_once(world_dir):
    truth = pd.read_csv(world_dir / "truth.csv", dtype=str, keep_default_na=False)
    assert not truth.duplicated(["source", "record_id"]).any()
    assert set(truth["source"]) == {"education", "gp", "council_tax", "social_care", "border"}
    for source, (name, encoding) in CSV_SOURCES.items():
        header, *body = _rows(world_dir / name, encoding)
        col = header.index(_id_column(source))
        ids = {r[col] for r in body if r[col] != ""}
        assert ids == set(truth.loc[truth["source"] == source, "record_id"]), source
    gp_ids = set(pd.read_parquet(world_dir / "gp.parquet")["record_id"])
    assert gp_ids == set(truth.loc[truth["source"] == "gp", "record_id"])
    people = pd.read_csv(world_dir / "truth_people.csv", dtype=str)
    assert set(truth["person_id"]) <= set(people["person_id"])


def test_a_duplicated_record_id_belongs_to_its_first_row(world_dir):
    truth = pd.read_csv(world_dir / "truth.csv", dtype=str).set_index(["source", "record_id"])["person_id"]
    records = _records(world_dir, "education")
    key = [c for c in records.columns if c != "record_id"]
    repeated = records["record_id"].duplicated(keep=False) & (records["record_id"] != "")
    for record_id, rows in records[repeated].groupby("record_id"):
        first, second = rows.iloc[0], rows.iloc[1]
        # The second row is a copy of another record: that record's person is not the truth for this id.
        original = records[(records[key] == second[key]).all(axis=1) & (records["record_id"] != record_id)]
        assert len(original) == 1
        assert truth[("education", record_id)] != truth[("education", original["record_id"].iloc[0])]
        assert (first[key] != second[key]).any()


def test_truth_people_has_every_person_once(world_dir):
    people = pd.read_csv(world_dir / "truth_people.csv", dtype=str, keep_default_na=False)
    assert list(people.columns[:5]) == ["person_id", "dob", "sex", "name_group", "kind"]
    assert people["person_id"].is_unique
    assert people["person_id"].str.fullmatch(r"P\d{7}").all()
    assert set(people["kind"]) == {"child", "adult", "decoy"}
    assert (people["kind"] == "child").sum() == CHILDREN
    assert set(people["name_group"]) == {"english", "south_asian", "polish", "romanian", "somali_arabic", "west_african"}


def test_council_tax_is_windows_1252(world_dir):
    raw = (world_dir / "council_tax.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert re.search(r"[^\x00-\x7f]", text)                      # e.g. Wójcik, Zoë survive in cp1252


def test_social_care_uses_uk_dates_and_coded_sex(world_dir):
    assert (world_dir / "social_care.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    records = _records(world_dir, "social_care")
    uk_date = r"\d{2}/\d{2}/\d{4}"
    assert records["EpisodeStart"].str.fullmatch(uk_date).all()
    ends = records["EpisodeEnd"]
    assert ends[ends != ""].str.fullmatch(uk_date).all()
    assert set(records["GenderCurrent"]) <= {"1", "2"}
    assert set(records["EpisodeType"]) <= {"CIN", "CP", "CLA"}


def test_gp_parquet_has_typed_dates(world_dir):
    schema = pq.read_schema(world_dir / "gp.parquet")
    for column in ("dob", "registration_date", "deregistration_date"):
        assert str(schema.field(column).type) == "date32[day]", column
    gp = pd.read_parquet(world_dir / "gp.parquet")
    assert set(gp["deregistration_reason"].dropna()) <= {"embarkation", "moved", "gone_away", "death", "other"}
    assert gp["nhs_number"].str.fullmatch(r"999\d{7}").mean() > 0.99


def test_cme_cases_point_at_real_education_records(world_dir):
    cases = pd.read_csv(world_dir / "cme_cases.csv", dtype=str)
    assert list(cases.columns) == ["case_id", "source", "record_id", "referral_date"]
    assert cases["case_id"].is_unique and (cases["source"] == "education").all()
    education = _records(world_dir, "education")
    ids = education[education["record_id"] != ""].drop_duplicates("record_id").set_index("record_id")
    assert cases["record_id"].isin(ids.index).all()
    left = ids.loc[cases["record_id"], "leaving_date"].to_numpy()
    assert (left != "").all()
    assert (cases["referral_date"].to_numpy() > left).all()      # referral after the leaving date


def test_postcode_lookup_maps_every_district_once(world_dir):
    lookup = pd.read_csv(world_dir / "la_postcodes.csv", dtype=str)
    assert list(lookup.columns) == ["postcode_district", "la_code"]
    assert lookup["postcode_district"].is_unique
    assert {"330", "331", "332", "333", "334", "335", "336", "352", "213"} == set(lookup["la_code"])


def test_summary_counts_match_the_files(summary_and_dir):
    summary, out = summary_and_dir
    for source, (name, encoding) in CSV_SOURCES.items():
        assert summary.rows[source] == len(_rows(out / name, encoding)) - 1, source
    assert summary.rows["gp"] == len(pd.read_parquet(out / "gp.parquet"))
    assert summary.cme_cases == len(pd.read_csv(out / "cme_cases.csv"))
    assert summary.children == CHILDREN
    assert sum(summary.cme_by_intended_destination.values()) == summary.cme_cases

"""Coverage masking: exact shares, errors at the requested rate, and no truth in the copies."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from linkage.errors import ChildlinkError
from linkage.evaluate.nhs_masking import (WITHHELD_COLUMN, MaskPlan, draw, eligible_numbers, mask_at, resolve_plan,
                                          share_count, write_job_copy, write_source_copy)
from linkage.job import load_job
from linkage.standardise.identifiers import nhs_check_digit, nhs_number_is_valid
from nhs_test_world import make_world, prepared


def valid_numbers(n: int, start: int = 999_000_000) -> list[str]:
    """``n`` distinct valid test-range NHS numbers."""
    out, stem = [], start
    while len(out) < n:
        check = nhs_check_digit(str(stem))
        if check is not None:
            out.append(f"{stem}{check}")
        stem += 1
    return out


def eligible_frame(n_by_source: dict[str, int]) -> pd.DataFrame:
    numbers = iter(valid_numbers(sum(n_by_source.values())))
    rows = [(source, f"R{i:05d}", next(numbers)) for source, n in n_by_source.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["source", "record_id", "number"])


@pytest.mark.parametrize("coverage", [0.0, 0.25, 0.5, 0.95, 1.0])
def test_coverage_gives_exactly_the_requested_share_per_source(coverage):
    eligible = eligible_frame({"education": 401, "council_tax": 37})
    plan = MaskPlan(("education", "council_tax"))
    masked = mask_at(draw(eligible, seed=3), coverage, plan)
    counts = masked.groupby("source").size().reindex(["education", "council_tax"], fill_value=0)
    assert counts["education"] == int(np.floor(coverage * 401 + 0.5))
    assert counts["council_tax"] == int(np.floor(coverage * 37 + 0.5))
    # without errors every covered record carries exactly its own number
    merged = masked.merge(eligible, on=["source", "record_id"])
    assert (merged["nhs_number"] == merged["number"]).all()


def test_errors_are_injected_at_the_requested_rate_and_fail_the_check():
    eligible = eligible_frame({"education": 1000})
    plan = MaskPlan(("education",), error_rate=0.1, undetected_share=0.25)
    masked = mask_at(draw(eligible, seed=11), 0.8, plan).merge(eligible, on=["source", "record_id"])
    assert len(masked) == 800
    wrong = masked[masked["state"] != "covered"]
    assert len(wrong) == 80                                   # 10% of the 800 covered records
    undetected = masked[masked["state"] == "undetected"]
    assert len(undetected) == 20                              # a quarter of the errors
    mistyped = masked[masked["state"] == "mistyped"]
    assert (mistyped["nhs_number"] != mistyped["number"]).all()
    assert not mistyped["nhs_number"].map(nhs_number_is_valid).any()     # a one-digit change never passes mod 11
    differing = [sum(a != b for a, b in zip(x, y)) for x, y in zip(mistyped["nhs_number"], mistyped["number"])]
    assert set(differing) == {1}
    # an undetected error is another record's real number: valid, and not its own
    assert undetected["nhs_number"].map(nhs_number_is_valid).all()
    assert (undetected["nhs_number"] != undetected["number"]).all()
    assert set(undetected["nhs_number"]) <= set(eligible["number"])
    correct = masked[masked["state"] == "covered"]
    assert (correct["nhs_number"] == correct["number"]).all()


def test_higher_coverage_keeps_every_record_a_lower_one_had_and_seeds_differ():
    eligible = eligible_frame({"education": 500})
    plan = MaskPlan(("education",))
    one = draw(eligible, seed=1)
    levels = [set(mask_at(one, c, plan)["record_id"]) for c in (0.25, 0.5, 0.75)]
    assert levels[0] < levels[1] < levels[2]
    again = set(mask_at(draw(eligible, seed=1), 0.5, plan)["record_id"])
    other = set(mask_at(draw(eligible, seed=2), 0.5, plan)["record_id"])
    assert again == levels[1] and other != levels[1]


def test_share_count_rounds_half_up():
    assert [share_count(0.5, n) for n in (1, 3, 5)] == [1, 2, 3]
    assert share_count(0.95, 20) == 19 and share_count(0.0, 7) == 0 and share_count(1.0, 7) == 7


def test_a_persons_number_is_their_most_frequent_valid_gp_number():
    con = duckdb.connect()
    a, b, c = valid_numbers(3)
    con.execute("create table std_records (source varchar, source_type varchar, record_id varchar, nhs_number_std varchar)")
    con.executemany("insert into std_records values (?, ?, ?, ?)", [
        ("gp", "gp", "g1", a), ("gp", "gp", "g2", a), ("gp", "gp", "g3", b),   # P1: a twice, b once
        ("gp", "gp", "g4", None),                                              # P2: only an invalid number
        ("gp", "gp", "g5", c),                                                 # P3
        ("edu", "education", "e1", None), ("edu", "education", "e2", None), ("edu", "education", "e3", b)])
    con.execute("create table truth as select * from (values ('gp','g1','P1'), ('gp','g2','P1'), ('gp','g3','P1'), "
                "('gp','g4','P2'), ('gp','g5','P3'), ('edu','e1','P1'), ('edu','e2','P2'), ('edu','e3','P3')) "
                "t(source, record_id, person_id)")
    got = eligible_numbers(con, MaskPlan(("edu",)))
    assert got.to_dict("records") == [{"source": "edu", "record_id": "e1", "number": a},
                                      {"source": "edu", "record_id": "e3", "number": c}]   # e2's child has none
    existing = eligible_numbers(con, MaskPlan(("edu",), numbers="existing"))
    assert existing["record_id"].tolist() == ["e3"] and existing["number"].tolist() == [b]


def test_the_plan_is_checked_and_defaults_to_the_education_sources(tmp_path):
    job = load_job(make_world(tmp_path))
    assert resolve_plan(job, MaskPlan(())).sources == ("education",)
    with pytest.raises(ChildlinkError, match="no source named 'school'"):
        resolve_plan(job, MaskPlan(("school",)))
    with pytest.raises(ChildlinkError, match="error rate"):
        resolve_plan(job, MaskPlan(("education",), error_rate=1.5))


def test_copies_change_only_the_nhs_numbers_and_carry_no_truth(tmp_path):
    world = tmp_path / "world"
    world.mkdir()
    job_path = make_world(world)
    job = load_job(job_path)
    con = prepared(job_path, world / "truth.csv")
    plan = MaskPlan(("education", "council_tax"), error_rate=0.1)
    eligible = eligible_numbers(con, plan)
    masked = mask_at(draw(eligible, seed=4), 0.5, plan)
    work = tmp_path / "work"
    copies = {s.name: write_source_copy(con, job, s.name, work / f"{s.name}.parquet",
                                        masked if s.name in plan.sources else None) for s in job.sources}
    copy_job = write_job_copy(job, copies, work / "job.yaml", workspace=work / ".childlink")
    withheld_job = write_job_copy(job, copies, work / "withheld.yaml", withhold_nhs=True)

    # no truth beside the copies or inside them
    assert sorted(p.name for p in work.iterdir() if p.is_file()) == sorted(
        [f"{s.name}.parquet" for s in job.sources] + ["job.yaml", "withheld.yaml"])
    assert "truth" not in copy_job.read_text() and "truth" not in withheld_job.read_text()
    for path in copies.values():
        columns = pd.read_parquet(path).columns
        assert "person_id" not in columns and WITHHELD_COLUMN in columns

    original = con.execute("select * exclude (row_number, nhs_number) from records order by source, record_id").fetchdf()
    copy = prepared(copy_job).execute("select * exclude (row_number, nhs_number) from records "
                                      "order by source, record_id").fetchdf()
    pd.testing.assert_frame_equal(original, copy)          # every other value, of every record, as read

    copied = prepared(copy_job).execute("select source, record_id, nhs_number from records").fetchdf()
    before = con.execute("select source, record_id, nhs_number from records").fetchdf()
    chosen = copied[copied["source"].isin(plan.sources)].merge(
        masked, on=["source", "record_id"], how="left", suffixes=("", "_masked"))
    assert chosen["nhs_number"].fillna("-").equals(chosen["nhs_number_masked"].fillna("-"))   # exactly the mask
    kept = copied[~copied["source"].isin(plan.sources)].merge(before, on=["source", "record_id"])
    assert kept["nhs_number_x"].fillna("-").equals(kept["nhs_number_y"].fillna("-"))        # others untouched
    assert kept["nhs_number_x"].notna().any()

    none = prepared(withheld_job).execute("select count(nhs_number) from records").fetchone()[0]
    assert none == 0


def test_a_source_with_nothing_to_give_numbers_to_is_refused():
    con = duckdb.connect()
    con.execute("create table std_records (source varchar, source_type varchar, record_id varchar, nhs_number_std varchar)")
    con.execute("insert into std_records values ('edu', 'education', 'e1', null)")
    con.execute("create table truth as select 'edu' as source, 'e1' as record_id, 'P1' as person_id")
    with pytest.raises(ChildlinkError, match="source 'edu' has no valid NHS numbers to keep"):
        eligible_numbers(con, MaskPlan(("edu",), numbers="existing"))
    with pytest.raises(ChildlinkError, match="no record whose child has a valid NHS number"):
        eligible_numbers(con, MaskPlan(("edu",)))

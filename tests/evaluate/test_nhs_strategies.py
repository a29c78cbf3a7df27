"""The deterministic strategy, and the fingerprints that prove the strategies read the same inputs."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from linkage.evaluate.nhs_masking import MaskPlan, draw, eligible_numbers, mask_at, write_job_copy, write_source_copy
from linkage.evaluate.nhs_metrics import nhs_linked_metrics
from linkage.evaluate.nhs_strategies import inputs_fingerprint, nhs_number_identities, write_run_folder
from linkage.job import load_job
from nhs_test_world import make_world, prepared


def test_records_sharing_a_number_are_one_child_and_the_rest_stay_alone(tmp_path):
    con = duckdb.connect()
    con.execute("create table std_records as select * from (values "
                "('gp', 'g2', '9990000018'), ('edu', 'e1', '9990000018'), ('gp', 'g1', '9990000026'), "
                "('edu', 'e2', null), ('gp', 'g3', null), ('sc', 's1', '9990000018')) t(source, record_id, nhs_number_std)")
    nhs_number_identities(con)
    ids = con.execute("select source, record_id, child_id, cluster_size from nhs_identities").fetchdf()
    child = dict(zip(ids["source"] + ":" + ids["record_id"], ids["child_id"]))
    assert child["edu:e1"] == child["gp:g2"] == child["sc:s1"]
    assert len({child["edu:e1"], child["gp:g1"], child["edu:e2"], child["gp:g3"]}) == 4
    assert child["edu:e1"] == "N00000001"            # numbered by first record (edu:e1), not by the number
    assert ids.set_index("record_id").loc["e1", "cluster_size"] == 3
    run = write_run_folder(con, tmp_path / "run")
    pairs = pd.read_parquet(run / "pairs.parquet")
    assert len(pairs) == 3 and (pairs["match_probability"] == 1.0).all()      # the three pairs of the shared number
    assert set(pd.read_parquet(run / "identities.parquet").columns) >= {"source", "record_id", "child_id", "confidence"}


@pytest.fixture(scope="module")
def full_coverage(tmp_path_factory):
    """The test world with every education and council-tax record given its child's number, no errors."""
    folder = tmp_path_factory.mktemp("nhs_full")
    job_path = make_world(folder / "world")
    job = load_job(job_path)
    con = prepared(job_path, folder / "world" / "truth.csv")
    plan = MaskPlan(("education", "council_tax"))
    masked = mask_at(draw(eligible_numbers(con, plan), seed=1), 1.0, plan)
    copies = {s.name: write_source_copy(con, job, s.name, folder / f"{s.name}.parquet",
                                        masked if s.name in plan.sources else None) for s in job.sources}
    return dict(job=write_job_copy(job, copies, folder / "job.yaml"),
                withheld=write_job_copy(job, copies, folder / "withheld.yaml", withhold_nhs=True),
                truth=folder / "world" / "truth.csv")


def test_at_full_coverage_without_errors_nhs_numbers_alone_link_the_nhs_linked_records_exactly(full_coverage):
    con = prepared(full_coverage["job"], full_coverage["truth"])
    nhs_number_identities(con)
    got = nhs_linked_metrics(con, "nhs_identities")
    assert got["nhs_linked_records"] > 500
    assert got["nhs_linked_precision"] == 1.0
    # The one thing a number cannot link: a child given a new NHS number on adoption (the world
    # guarantees one). Recall is 1.0 over every other child and misses only pairs across two numbers.
    true_pairs = con.execute("""
        with r as (select s.nhs_number_std as number, t.person_id from std_records s join truth t using (source, record_id)
                   where s.nhs_number_std is not null),
             people as (select person_id, count(distinct number) as numbers, count(*) as n from r group by person_id),
             same as (select person_id, count(*) as n from r group by person_id, number)
        select (select sum(n * (n - 1) / 2) from people),
               (select sum(n * (n - 1) / 2) from same),
               (select count(*) from people where numbers > 1)
    """).fetchone()
    all_pairs, same_number_pairs, renumbered = true_pairs
    assert renumbered >= 1
    assert got["nhs_linked_recall"] == pytest.approx(same_number_pairs / all_pairs)
    con.execute("""create table one_number_children as
                   select i.* from nhs_identities i join truth t using (source, record_id)
                   where i.nhs_number_std is not null and t.person_id in (
                       select t2.person_id from std_records s join truth t2 using (source, record_id)
                       where s.nhs_number_std is not null group by 1 having count(distinct s.nhs_number_std) = 1)""")
    single = nhs_linked_metrics(con, "one_number_children")
    assert single["nhs_linked_precision"] == 1.0 and single["nhs_linked_recall"] == 1.0


def test_fingerprints_agree_on_the_same_records_and_tell_the_nhs_numbers_apart(full_coverage):
    with_numbers = inputs_fingerprint(prepared(full_coverage["job"]))
    without = inputs_fingerprint(prepared(full_coverage["withheld"]))
    assert with_numbers["inputs_fingerprint"] == without["inputs_fingerprint"]
    assert with_numbers["nhs_fingerprint"] != without["nhs_fingerprint"]
    assert without["nhs_numbers_seen"] == 0 and with_numbers["nhs_numbers_seen"] > 500
    changed = prepared(full_coverage["job"])
    changed.execute("update std_records set forename_std = 'x' where rowid = 7")
    assert inputs_fingerprint(changed)["inputs_fingerprint"] != with_numbers["inputs_fingerprint"]

"""A week of new records on a 20,000-child world, linked incrementally: existing IDs stay, new records
land with their child as well as a full run places records."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.link import link
from linkage.synthetic.world import generate
from linkage.workspace import attached, open_workspace

from ids_world import identities, job_in, versions


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    base = tmp_path_factory.mktemp("week")
    generate(20_000, 3, base / "world")
    versions(base / "world", base, late=0.01)          # about a week of a term's new records
    before = link(job_in(base / "v1", base / "ws"), base / "run1", write_report=False)
    after = link(job_in(base / "v2", base / "ws"), base / "run2", write_report=False, incremental=True)
    return base, before, after


def placement(ids: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per record: its identity holds no other child's record (pure) and every record of its child (whole)."""
    frame = ids.merge(truth, on=["source", "record_id"])
    people_per_id = frame.groupby("child_id").person_id.nunique()
    ids_per_person = frame.groupby("person_id").child_id.nunique()
    return frame.assign(pure=frame.child_id.map(people_per_id) == 1,
                        whole=frame.person_id.map(ids_per_person) == 1)


def test_a_week_of_new_records_keeps_every_existing_childs_id(week):
    base, before, after = week
    assert after.delta.usable and after.delta.new > 1000 and after.delta.deleted == 0
    old, new = identities(base / "run1"), identities(base / "run2")
    con = open_workspace()
    with attached(con, base / "ws" / "workspace.duckdb", read_only=True) as ws:
        current = dict(con.execute(f"SELECT child_id, coalesce(current_id, child_id) FROM {ws}.id_registry").fetchall())
        split_off = {r[0] for r in con.execute(f"SELECT child_id FROM {ws}.id_lineage WHERE event = 'split_from'").fetchall()}
    both = old.merge(new, on=["source", "record_id"], suffixes=("_old", "_new"))
    assert len(both) == len(old)                                   # nothing deleted
    follows = both.child_id_new == both.child_id_old.map(current)
    assert (follows | both.child_id_new.isin(split_off)).all()
    assert after.id_changes.retired == 0
    # New records can join two identities (a merge) or show one was two children (a split); rarely.
    assert after.id_changes.kept >= 0.995 * before.cluster_stats["identities"]


def test_the_new_records_are_placed_as_well_as_a_full_run_places_records(week):
    base, _, _ = week
    truth = pd.read_csv(base / "world" / "truth.csv", dtype=str)
    baseline = placement(identities(base / "run1"), truth)
    now = placement(identities(base / "run2"), truth)
    old_keys = set(zip(baseline.source, baseline.record_id))
    arrived = now[[k not in old_keys for k in zip(now.source, now.record_id)]]
    assert len(arrived) > 1000
    assert arrived.pure.mean() >= baseline.pure.mean() - 0.01
    assert arrived.whole.mean() >= baseline.whole.mean() - 0.03

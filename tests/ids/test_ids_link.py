"""`link` with persistent IDs and `link --incremental`, end to end on a small generated world."""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

import linkage.persist as persist
from cli import main
from linkage.errors import ChildlinkError
from linkage.incremental import Delta
from linkage.link import link
from linkage.model import DEFAULT_MODEL
from linkage.review.store import DecisionStore, PairKey
from linkage.synthetic.world import generate
from linkage.workspace import attached, open_workspace

from ids_world import identities, job_in, partition, versions


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """v1 and v2 of a 400-child world: v2 adds 5% of rows, moves 3% of GP rows, drops 2% of school rows."""
    base = tmp_path_factory.mktemp("ids_world")
    generate(400, 21, base / "world")
    versions(base / "world", base, late=0.05, changed=0.03, deleted=0.02)
    return base


@pytest.fixture(scope="module")
def full(world):
    """v2 linked twice in full into one workspace."""
    job = job_in(world / "v2", world / "ws_full")
    first = link(job, world / "full1", write_report=False)
    second = link(job, world / "full2", write_report=False)
    return job, first, second


@pytest.fixture(scope="module")
def incremental(world):
    """v1 linked in full, then v2 incrementally, into one workspace."""
    job1, job2 = job_in(world / "v1", world / "ws_inc"), job_in(world / "v2", world / "ws_inc")
    before = link(job1, world / "inc1", write_report=False)
    after = link(job2, world / "inc2", write_report=False, incremental=True)
    return job2, before, after


def copy_of_full(world, full, tmp_path):
    """A job over v2 with a copy of the ``full`` workspace (already linked), and that run's folder."""
    shutil.copytree(full[0].workspace_dir, tmp_path / "ws")
    return job_in(world / "v2", tmp_path / "ws", name=tmp_path.name), world / "full2"


def workspace_rows(job, sql: str) -> list[tuple]:
    con = open_workspace()
    with attached(con, job.workspace_dir / "workspace.duckdb", read_only=True) as ws:
        return con.execute(sql.format(ws=ws)).fetchall()


def test_an_unchanged_relink_keeps_every_id_and_writes_identical_outputs(world, full):
    _, first, second = full
    assert (world / "full1" / "identities.csv").read_bytes() == (world / "full2" / "identities.csv").read_bytes()
    assert second.id_changes.kept == first.cluster_stats["identities"]
    assert (second.id_changes.created, second.id_changes.merged, second.id_changes.split) == (0, 0, 0)


def test_a_fresh_workspace_with_the_same_seed_gives_the_same_ids_and_another_seed_others(world, full):
    job, first, _ = full
    again = link(job_in(world / "v2", world / "ws_again"), world / "again", write_report=False)
    other = link(job_in(world / "v2", world / "ws_seed", seed=43), world / "seed43", write_report=False)
    assert identities(world / "again").equals(identities(world / "full1"))
    assert partition(world / "seed43") == partition(world / "full1")
    assert not set(identities(world / "seed43").child_id) & set(identities(world / "full1").child_id)
    assert again.id_changes.created == other.id_changes.created == first.id_changes.created


def test_incremental_linking_gives_the_identities_and_pair_scores_of_a_full_relink(world, full, incremental):
    _, _, after = incremental
    d = after.delta
    assert d.usable and d.new > 0 and d.changed > 0 and d.deleted > 0 and d.pairs_kept > 0
    assert partition(world / "inc2") == partition(world / "full1")
    inc, ref = pd.read_parquet(world / "inc2" / "pairs.parquet"), pd.read_parquet(world / "full1" / "pairs.parquet")
    pd.testing.assert_frame_equal(inc, ref, check_exact=False, rtol=1e-12)
    # Only pairs touching a new or changed record were scored by Splink this run.
    assert after.n_pairs == len(ref) and d.pairs_kept < len(ref)


def test_incremental_linking_keeps_the_existing_childrens_ids(world, incremental):
    job, before, after = incremental
    old, new = identities(world / "inc1"), identities(world / "inc2")
    both = old.merge(new, on=["source", "record_id"], suffixes=("_old", "_new"))
    resolved = dict(workspace_rows(job, "SELECT child_id, coalesce(current_id, child_id) FROM {ws}.id_registry"))
    split_off = {r[0] for r in workspace_rows(job, "SELECT child_id FROM {ws}.id_lineage WHERE event = 'split_from'")}
    # Every record still present carries its old ID, the ID that ID was merged into, or a split-off part's new ID.
    follows = both.child_id_new == both.child_id_old.map(resolved)
    assert (follows | both.child_id_new.isin(split_off)).all()
    assert follows.mean() > 0.99
    c = after.id_changes
    assert c.kept >= 0.97 * before.cluster_stats["identities"] and c.created > 0


def test_the_model_changing_makes_an_incremental_run_link_in_full(world, incremental, tmp_path):
    shutil.copytree(incremental[0].workspace_dir, tmp_path / "ws")
    job = job_in(world / "v2", tmp_path / "ws", name=tmp_path.name)
    model = tmp_path / "model.json"
    model.write_text(json.dumps(json.loads(DEFAULT_MODEL.read_text()), indent=1))   # same model, other bytes
    result = link(job, tmp_path / "run", model_path=model, write_report=False, incremental=True)
    assert not result.delta.usable and "model" in result.delta.reason
    assert partition(tmp_path / "run") == partition(world / "inc2")
    assert result.id_changes.kept == result.cluster_stats["identities"]


def test_the_audit_log_says_who_ran_what_on_which_inputs_without_personal_data(world, incremental):
    job, _, after = incremental
    rows = pd.DataFrame(workspace_rows(job, "SELECT * FROM {ws}.runs ORDER BY run_id"),
                        columns=[r[0] for r in workspace_rows(job, "DESCRIBE {ws}.runs")])
    last = rows[rows.run_id == after.run_id].iloc[0]
    assert list(rows["mode"][:2]) == ["full", "incremental"] and last.user_name
    assert last.records_new == after.delta.new and last.ids_created == after.id_changes.created
    inputs = {i["source"]: i for i in json.loads(last.inputs)}
    education = world / "v2" / "education.csv"
    assert inputs["education"]["sha256"] == hashlib.sha256(education.read_bytes()).hexdigest()
    assert inputs["education"]["rows"] == len(education.read_bytes().splitlines()) - 1
    assert last.model_sha256 == hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()
    names = {r[0] for r in workspace_rows(job, "SELECT DISTINCT surname FROM {ws}.records WHERE length(surname) >= 5 "
                                              "AND surname <> upper(surname) ORDER BY surname LIMIT 50")}
    assert len(names) == 50
    text = rows.astype(str).to_string() + str(workspace_rows(job, "SELECT * FROM {ws}.id_lineage"))
    assert not any(name in text for name in names)


def test_a_run_that_fails_while_saving_leaves_the_workspace_as_it_was(world, full, monkeypatch, tmp_path):
    job, _ = copy_of_full(world, full, tmp_path)
    snapshot = {t: workspace_rows(job, f"SELECT * FROM {{ws}}.{t} ORDER BY ALL")
                for t in ("identities", "id_registry", "runs", "id_lineage", "model")}
    real = persist._write_state

    def write_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(persist, "_write_state", write_then_fail)
    with pytest.raises(OSError):
        link(job_in(world / "v1", tmp_path / "ws", name=tmp_path.name), tmp_path / "run2", write_report=False)
    for table, rows in snapshot.items():
        assert workspace_rows(job, f"SELECT * FROM {{ws}}.{table} ORDER BY ALL") == rows, table


def test_a_review_decision_that_splits_an_identity_keeps_the_id_on_the_larger_part(world, full, tmp_path):
    job, run1 = copy_of_full(world, full, tmp_path)
    ids = identities(run1)
    pairs = pd.read_parquet(run1 / "pairs.parquet")
    child = dict(zip(zip(ids.source, ids.record_id), ids.child_id))
    sizes = ids.child_id.value_counts()
    pairs["child"] = [child[k] for k in zip(pairs.source_l, pairs.record_id_l)]
    inside = pairs[(pairs.child == [child[k] for k in zip(pairs.source_r, pairs.record_id_r)])
                   & (pairs.match_probability >= 0.95) & pairs.child.map(lambda c: sizes[c] >= 4)]
    cut = inside.sort_values(["child", "source_l", "record_id_l", "source_r", "record_id_r"]).iloc[0]
    DecisionStore.for_job(job).decide(PairKey.of(cut.source_l, cut.record_id_l, cut.source_r, cut.record_id_r),
                                      "different", seen_version=0, reviewer="test")
    result = link(job, tmp_path / "run2", write_report=False)
    after = identities(tmp_path / "run2")
    old_records = set(zip(*[ids[ids.child_id == cut.child][c] for c in ("source", "record_id")]))
    parts = after[[k in old_records for k in zip(after.source, after.record_id)]].child_id.value_counts()
    assert len(parts) >= 2 and result.id_changes.split == len(parts) - 1
    assert parts.index[0] == cut.child and parts.iloc[0] > parts.iloc[1]
    lineage = set(workspace_rows(job, "SELECT child_id, event, other_id FROM {ws}.id_lineage "
                                      f"WHERE run_id = {result.run_id}"))
    assert {(p, "split_from", cut.child) for p in parts.index[1:]} <= lineage


def test_the_commands_link_incrementally_and_show_an_ids_history_and_the_audit_log(world, incremental):
    job, _, _ = incremental
    runner = CliRunner()
    out = runner.invoke(main, ["link", str(job.path), "--out", str(world / "cli_run"), "--quiet", "--incremental"])
    assert out.exit_code == 0, out.output
    assert "incremental on run 2: 0 new, 0 changed, 0 deleted" in out.output
    some_id = identities(world / "cli_run").child_id.iloc[0]
    history = runner.invoke(main, ["ids", "history", str(job.path), some_id.lower()])
    assert history.exit_code == 0 and f"{some_id} is current" in history.output and "run 1" in history.output
    log = runner.invoke(main, ["ids", "log", str(job.path)])
    assert log.exit_code == 0 and "childlink link --incremental" in log.output
    missing = runner.invoke(main, ["ids", "history", str(job.path), "CNOSUCHID00"])
    assert missing.exit_code == 2 and "no such child_id" in missing.output


def test_a_merge_keeps_the_larger_identitys_id_and_the_other_resolves_to_it(world, full, tmp_path):
    job, run1 = copy_of_full(world, full, tmp_path)
    ids = identities(run1)
    child = dict(zip(zip(ids.source, ids.record_id), ids.child_id))
    sizes = ids.child_id.value_counts()
    pairs = pd.read_parquet(run1 / "pairs.parquet")
    pairs["a"] = [child[k] for k in zip(pairs.source_l, pairs.record_id_l)]
    pairs["b"] = [child[k] for k in zip(pairs.source_r, pairs.record_id_r)]
    apart = pairs[(pairs.a != pairs.b) & (pairs.a.map(sizes) != pairs.b.map(sizes))]
    join = apart.sort_values(["match_probability", "source_l", "record_id_l"]).iloc[-1]
    larger, smaller = sorted((join.a, join.b), key=lambda c: -sizes[c])
    DecisionStore.for_job(job).decide(PairKey.of(join.source_l, join.record_id_l, join.source_r, join.record_id_r),
                                      "same", seen_version=0, reviewer="test")
    result = link(job, tmp_path / "run2", write_report=False)
    after = dict(zip(zip(*[identities(tmp_path / "run2")[c] for c in ("source", "record_id")]),
                     identities(tmp_path / "run2").child_id))
    assert after[(join.source_l, join.record_id_l)] == after[(join.source_r, join.record_id_r)] == larger
    assert result.id_changes.merged == 1
    out = CliRunner().invoke(main, ["ids", "history", str(job.path), smaller])
    assert out.exit_code == 0, out.output
    assert f"{smaller} was merged; use {larger}" in out.output and f"merged into {larger}" in out.output


def test_an_incremental_run_refuses_to_save_over_a_run_it_did_not_build_on(world, full, tmp_path):
    job, _ = copy_of_full(world, full, tmp_path)
    stale = Delta(base_run=1, usable=True)            # the workspace has had run 2 since
    with pytest.raises(ChildlinkError, match="another run updated the workspace"):
        persist.save_run(open_workspace(), job, started_at=None, model={}, model_path=DEFAULT_MODEL, signature="",
                         delta=stale, n_pairs=0, n_rejects=0, row_counts={})


def test_a_full_run_over_a_stored_one_writes_only_the_changes_yet_stores_what_a_fresh_run_would(world, full,
                                                                                                tmp_path):
    job1, job2 = job_in(world / "v1", tmp_path / "ws", name="v1"), job_in(world / "v2", tmp_path / "ws", name="v2")
    link(job1, tmp_path / "run1", write_report=False)
    link(job2, tmp_path / "run2", write_report=False)
    for sql in ("SELECT source, record_id, content_hash FROM {ws}.records ORDER BY ALL",
                "SELECT * FROM {ws}.pairs ORDER BY ALL"):
        assert workspace_rows(job2, sql) == workspace_rows(full[0], sql)
    new, changed, deleted = workspace_rows(job2, "SELECT records_new, records_changed, records_deleted "
                                                 "FROM {ws}.runs WHERE run_id = 2")[0]
    assert new > 0 and changed > 0 and deleted > 0

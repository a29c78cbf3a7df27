"""Decisions change identities on the next `link`; export as labels; evaluate against them."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from linkage.link import link
from linkage.review.export import export_labels
from linkage.review.store import DecisionStore, PairKey


def identity_of(run, source, record_id) -> str:
    ids = pd.read_parquet(run / "identities.parquet")
    return ids.loc[(ids.source == source) & (ids.record_id == record_id), "child_id"].iloc[0]


@pytest.fixture(scope="module")
def decided(world, make_job, tmp_path_factory):
    """Two decisions on the world: split a linked pair, join a pair the model kept apart; then relink."""
    tmp = tmp_path_factory.mktemp("decided")
    job = make_job(world, tmp / "ws")
    pairs = pd.read_parquet(world / "run" / "pairs.parquet")
    ids = pd.read_parquet(world / "run" / "identities.parquet")
    child = dict(zip(zip(ids.source, ids.record_id), ids.child_id))
    same_child = pairs.apply(lambda p: child[(p.source_l, p.record_id_l)] == child[(p.source_r, p.record_id_r)], axis=1)
    # a linked pair inside an identity of at least three records: the others chain the two together
    sizes = ids.groupby("child_id").size()
    big = pairs[same_child & (pairs.match_probability >= 0.95)].copy()
    big = big[big.apply(lambda p: sizes[child[(p.source_l, p.record_id_l)]] >= 3, axis=1)]
    split = big.sort_values(["match_probability", "record_id_l"]).iloc[-1]
    join = pairs[~same_child & (pairs.match_probability < 0.95)].sort_values("match_probability").iloc[-1]
    store = DecisionStore.for_job(job)
    store.decide(PairKey.of(split.source_l, split.record_id_l, split.source_r, split.record_id_r), "different",
                 seen_version=0, reviewer="Ann", match_probability=split.match_probability)
    store.decide(PairKey.of(join.source_l, join.record_id_l, join.source_r, join.record_id_r), "same",
                 seen_version=0, reviewer="Ann", match_probability=join.match_probability, blind=True)
    store.decide(PairKey.of("gp", "nope", "education", "gone"), "same", seen_version=0, reviewer="Ann")
    result = link(job, tmp / "run2", write_report=True)
    return job, tmp, split, join, result


def test_cannot_link_splits_an_identity_even_when_other_records_chain_it(world, decided):
    _, tmp, split, _, _ = decided
    before = (identity_of(world / "run", split.source_l, split.record_id_l),
              identity_of(world / "run", split.source_r, split.record_id_r))
    after = (identity_of(tmp / "run2", split.source_l, split.record_id_l),
             identity_of(tmp / "run2", split.source_r, split.record_id_r))
    assert before[0] == before[1]
    assert after[0] != after[1]


def test_must_link_joins_records_the_model_kept_apart(world, decided):
    _, tmp, _, join, _ = decided
    assert identity_of(world / "run", join.source_l, join.record_id_l) != \
        identity_of(world / "run", join.source_r, join.record_id_r)
    assert identity_of(tmp / "run2", join.source_l, join.record_id_l) == \
        identity_of(tmp / "run2", join.source_r, join.record_id_r)


def test_the_summary_report_and_run_say_what_the_decisions_changed(decided):
    _, tmp, _, _, result = decided
    stats = result.cluster_stats
    assert stats["review_constraints"] == 2 and stats["decisions_changed_identities"] == 2
    assert stats["review_stale"] == 1          # names records not in the sources: counted, not applied
    assert stats["records_changed_identity"] >= 3
    assert "2 review decision(s) applied, 2 changed identities" in result.summary()
    assert "1 name records no longer in the sources" in result.summary()
    assert "2 changed identities" in (tmp / "run2" / "report.html").read_text(encoding="utf-8")
    applied = pd.read_csv(tmp / "run2" / "review_decisions.csv")
    assert sorted(applied.decision) == ["different", "same"] and applied.changed_identities.all()


def test_a_run_without_decisions_says_nothing_of_review(world, make_job, tmp_path):
    result = link(make_job(world, tmp_path / "empty_ws"), tmp_path / "run", write_report=False)
    assert "review decision" not in result.summary()
    assert not (tmp_path / "run" / "review_decisions.csv").exists()


def test_export_writes_labels_and_a_truth_file_train_can_read(decided):
    job, tmp, split, join, _ = decided
    result = export_labels(job, tmp / "labels.csv", truth_out=tmp / "label_truth.csv")
    labels = pd.read_csv(tmp / "labels.csv")
    assert result.labels == 3 and set(labels.decision) == {"same", "different"}
    assert list(labels.columns[:5]) == ["source_l", "record_id_l", "source_r", "record_id_r", "decision"]
    truth = pd.read_csv(tmp / "label_truth.csv", dtype=str)
    person = dict(zip(zip(truth.source, truth.record_id), truth.person_id))
    assert person[(join.source_l, join.record_id_l)] == person[(join.source_r, join.record_id_r)]
    assert person[(split.source_l, split.record_id_l)] != person[(split.source_r, split.record_id_r)]


def test_evaluate_labels_scores_the_model_and_the_identities(world, decided):
    job, tmp, _, _, _ = decided
    export_labels(job, tmp / "labels_cli.csv")
    out = CliRunner().invoke(main, ["evaluate", str(job.path), "--run", str(world / "run"),
                                    "--labels", str(tmp / "labels_cli.csv")])
    assert out.exit_code == 0, out.output
    # the model linked the pair the officer split and kept apart the pair she joined: both wrong
    assert "identities vs all labels: 1 same / 1 different; accuracy 0.0000" in out.output
    assert "model score vs blind labels: 1 same / 0 different" in out.output
    assert "1 label(s) name records that are not in this run" in out.output
    table = pd.read_csv(world / "run" / "label_evaluation.csv")
    assert set(table.verdict) == {"identities", "model score"}
    applied = CliRunner().invoke(main, ["evaluate", str(job.path), "--run", str(tmp / "run2"),
                                        "--labels", str(tmp / "labels_cli.csv")])
    assert "identities vs all labels: 1 same / 1 different; accuracy 1.0000" in applied.output
    assert "agree with them by construction" in applied.output


def test_evaluate_needs_truth_or_labels_and_rejects_a_bad_label(world, decided, tmp_path):
    job = decided[0]
    out = CliRunner().invoke(main, ["evaluate", str(job.path), "--run", str(world / "run")])
    assert out.exit_code == 2 and "--truth, --labels or both" in out.output
    bad = tmp_path / "bad.csv"
    bad.write_text("source_l,record_id_l,source_r,record_id_r,decision\ngp,1,gp,2,same\ngp,1,gp,3,maybe\n")
    out = CliRunner().invoke(main, ["evaluate", str(job.path), "--run", str(world / "run"), "--labels", str(bad)])
    assert out.exit_code == 2
    assert "row 3, column 'decision'" in out.output and "Traceback" not in out.output

"""The decision store: canonical keys, events, undo, optimistic concurrency, schema version."""

import sqlite3
import threading

import pytest

from linkage.errors import ChildlinkError
from linkage.review.store import DecisionStore, PairKey, StaleDecision

KEY = PairKey.of("gp", "G1", "education", "E1")


@pytest.fixture
def store(tmp_path):
    return DecisionStore(tmp_path / "ws" / "review.sqlite")


def test_pair_key_is_the_same_whichever_way_round():
    assert PairKey.of("gp", "G1", "education", "E1") == PairKey.of("education", "E1", "gp", "G1")
    assert KEY.source_a == "education"
    with pytest.raises(ValueError):
        PairKey.of("gp", "G1", "gp", "G1")


def test_a_decision_is_stored_with_who_when_and_the_scores(store):
    state = store.decide(KEY, "same", seen_version=0, reviewer="  Ann   Smith ", match_probability=0.8,
                         match_weight=2.0, note="same school photo", blind=True)
    assert (state.decision, state.version, state.reviewer) == ("same", 1, "Ann Smith")
    row = store.current().iloc[0]
    assert (row.match_probability, row.match_weight, row.note, bool(row.blind)) == (0.8, 2.0, "same school photo", True)
    assert row.decided_at.endswith("+00:00")


def test_a_stale_version_is_refused_and_nothing_is_lost(store):
    store.decide(KEY, "same", seen_version=0, reviewer="Ann")
    with pytest.raises(StaleDecision) as err:
        store.decide(KEY, "different", seen_version=0, reviewer="Ben")
    assert "Ann" in str(err.value) and "same child" in str(err.value)
    assert store.state(KEY).decision == "same"
    assert len(store.history(KEY)) == 1


def test_undo_is_an_event_that_reverts_to_the_decision_before(store):
    store.decide(KEY, "same", seen_version=0, reviewer="Ann")
    store.decide(KEY, "different", seen_version=1, reviewer="Ann")
    assert store.undo(KEY, seen_version=2, reviewer="Ann").decision == "same"
    assert store.undo(KEY, seen_version=3, reviewer="Ann").decision is None
    with pytest.raises(ValueError):
        store.undo(KEY, seen_version=4, reviewer="Ann")
    assert [e.action for e in store.history(KEY)] == ["same", "different", "undo", "undo"]
    assert store.state(KEY).version == 4


def test_concurrent_writers_with_the_same_version_one_wins(store):
    results = []

    def decide(name):
        try:
            store.decide(KEY, "same" if name == "Ann" else "different", seen_version=0, reviewer=name)
            results.append(name)
        except StaleDecision:
            results.append("refused")

    threads = [threading.Thread(target=decide, args=(n,)) for n in ("Ann", "Ben", "Cat", "Dan")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count("refused") == 3
    assert store.state(KEY).version == 1


def test_decisions_survive_reopening_and_the_database_is_in_wal_mode(tmp_path):
    path = tmp_path / "review.sqlite"
    DecisionStore(path).decide(KEY, "not_sure", seen_version=0, reviewer="Ann")
    assert DecisionStore(path, create=False).state(KEY).decision == "not_sure"
    with sqlite3.connect(path) as con:
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "review.sqlite"
    DecisionStore(path)
    with sqlite3.connect(path) as con:
        con.execute("update schema_version set version = 99")
    with pytest.raises(ChildlinkError, match="schema version 99"):
        DecisionStore(path)


def test_a_missing_store_is_a_clear_error_when_not_creating(tmp_path):
    with pytest.raises(ChildlinkError, match="no review decisions yet"):
        DecisionStore(tmp_path / "review.sqlite", create=False)


def test_a_decision_needs_a_reviewer_and_a_known_value(store):
    with pytest.raises(ValueError):
        store.decide(KEY, "same", seen_version=0, reviewer="   ")
    with pytest.raises(ValueError):
        store.decide(KEY, "maybe", seen_version=0, reviewer="Ann")
    assert store.state(KEY).version == 0

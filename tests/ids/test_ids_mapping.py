"""Mapping each run's identities onto the registry's IDs: gains, merges, splits, retirements, minting."""

from __future__ import annotations

import re

import pytest

from linkage.errors import ChildlinkError
from linkage.ids import assign_child_ids, id_key, load_registry, mint_one, mint_sql, resolve
from linkage.workspace import attached, last_run_id, open_workspace, transaction

KEY = id_key("330", 42)
ID_PATTERN = re.compile(r"^C[0-9A-HJKMNP-TV-Z]{10}$")


class Runs:
    """Successive runs over one workspace file, each given as groups of record IDs (one group = one identity)."""

    def __init__(self, path, key: str = KEY):
        self.path, self.key = path, key
        self.changes = None

    def run(self, *groups: str) -> dict[str, str]:
        """``groups`` like "a1 a2 a3"; returns record -> child_id."""
        con = open_workspace()
        rows = [(min(g.split()), rec) for g in groups for rec in g.split()]
        con.execute("CREATE TABLE link_input (rec_key BIGINT, source VARCHAR, record_id VARCHAR)")
        con.execute("CREATE TABLE clusters (rec_key BIGINT, identity BIGINT, confidence DOUBLE, cluster_size INT, "
                    "needs_review BOOLEAN, review_reason VARCHAR)")
        keys = {rec: k for k, rec in enumerate(sorted(r for _, r in rows), start=1)}
        for first, rec in rows:     # an identity is labelled by its smallest rec_key, as cluster() does
            con.execute("INSERT INTO link_input VALUES (?, 'gp', ?)", [keys[rec], rec])
            con.execute("INSERT INTO clusters VALUES (?, ?, 1.0, 1, false, NULL)", [keys[rec], keys[first]])
        with attached(con, self.path) as ws:
            run_id = last_run_id(con, ws) + 1
            load_registry(con, ws)
            self.changes = assign_child_ids(con, self.key, run_id)
            with transaction(con):
                con.execute(f"CREATE OR REPLACE TABLE {ws}.identities AS SELECT source, record_id, child_id FROM identities")
                con.execute(f"DELETE FROM {ws}.id_registry")
                con.execute(f"INSERT INTO {ws}.id_registry SELECT * FROM _registry")
                con.execute(f"INSERT INTO {ws}.id_lineage SELECT * FROM _lineage_new")
                con.execute(f"INSERT INTO {ws}.runs (run_id) VALUES ({run_id})")
        return dict(con.execute("SELECT record_id, child_id FROM identities").fetchall())

    def resolve(self, child_id: str):
        con = open_workspace()
        with attached(con, self.path, read_only=True) as ws:
            return resolve(con, ws, child_id)

    def lineage(self, run_id: int) -> set[tuple]:
        con = open_workspace()
        with attached(con, self.path, read_only=True) as ws:
            return set(con.execute(f"SELECT child_id, event, other_id, records FROM {ws}.id_lineage "
                                   "WHERE run_id = ?", [run_id]).fetchall())


@pytest.fixture
def runs(tmp_path) -> Runs:
    return Runs(tmp_path / "workspace.duckdb")


def test_first_run_mints_one_opaque_id_per_identity(runs):
    ids = runs.run("a1 a2", "b1", "c1 c2 c3")
    assert ids["a1"] == ids["a2"] and ids["c1"] == ids["c2"] == ids["c3"]
    assert len({ids["a1"], ids["b1"], ids["c1"]}) == 3
    assert all(ID_PATTERN.match(i) for i in ids.values())
    assert runs.changes.created == 3 and runs.changes.kept == 0
    assert {(e[1], e[3]) for e in runs.lineage(1)} == {("created", 2), ("created", 1), ("created", 3)}


def test_an_unchanged_run_keeps_every_id_and_records_no_event(runs):
    first = runs.run("a1 a2", "b1", "c1 c2 c3")
    assert runs.run("a1 a2", "b1", "c1 c2 c3") == first
    assert runs.lineage(2) == set() and runs.changes.kept == 3 and runs.changes.created == 0


def test_an_identity_that_gains_records_keeps_its_id(runs):
    first = runs.run("a1 a2", "b1")
    second = runs.run("a1 a2 a3", "b1", "n1")
    assert second["a3"] == first["a1"] and second["b1"] == first["b1"]
    assert second["n1"] not in first.values()
    assert (first["a1"], "gained", None, 1) in runs.lineage(2)


def test_a_merge_keeps_the_larger_identitys_id_and_the_other_becomes_an_alias(runs):
    first = runs.run("a1 a2", "b1 b2 b3")          # b is larger although a is older
    second = runs.run("a1 a2 b1 b2 b3")
    assert set(second.values()) == {first["b1"]}
    assert runs.changes.merged == 1
    alias = runs.resolve(first["a1"])
    assert alias.status == "merged" and alias.current_id == first["b1"] and alias.records == 5
    assert {(first["b1"], "absorbed", first["a1"], 2), (first["a1"], "merged_into", first["b1"], 2)} <= runs.lineage(2)


def test_a_merge_of_equal_identities_keeps_the_older_id(runs):
    first = runs.run("a1 a2")
    second = runs.run("a1 a2", "b1 b2")
    third = runs.run("a1 a2 b1 b2")
    assert second["b1"] != first["a1"]
    assert set(third.values()) == {first["a1"]}


def test_a_split_keeps_the_id_on_the_part_with_most_previous_records(runs):
    first = runs.run("a1 a2 a3 a4 a5")
    second = runs.run("a1 a2", "a3 a4 a5")
    assert second["a3"] == first["a1"]
    assert second["a1"] != first["a1"] and ID_PATTERN.match(second["a1"])
    assert runs.changes.split == 1 and runs.changes.kept == 1
    assert {(second["a1"], "split_from", first["a1"], 2), (first["a1"], "split_off", second["a1"], 2)} \
        <= runs.lineage(2)


def test_an_identity_whose_records_are_all_gone_is_retired_and_says_so(runs):
    first = runs.run("a1 a2", "b1")
    runs.run("b1")
    gone = runs.resolve(first["a1"])
    assert gone.status == "retired" and gone.current_id is None
    assert "retired" in gone.describe()
    assert runs.changes.retired == 1


def test_an_alias_of_an_alias_resolves_to_the_current_id(runs):
    first = runs.run("a1", "b1 b2", "c1 c2 c3 c4")
    runs.run("a1 b1 b2", "c1 c2 c3 c4")               # a merged into b
    runs.run("a1 b1 b2 c1 c2 c3 c4 c5")               # b (3 records) merged into c (4)
    assert runs.resolve(first["a1"]).current_id == first["c1"]
    assert runs.resolve(first["b1"]).current_id == first["c1"]
    assert runs.resolve(first["c1"]).status == "active"


def test_ids_are_never_reused(runs):
    issued = set()
    for groups in (["a1", "b1"], ["c1"], ["d1", "e1"], ["a1"]):     # a1 comes back after being retired
        ids = runs.run(*groups)
        fresh = {i for i in ids.values()} - issued
        assert not (fresh & issued)
        issued |= set(ids.values())
    assert len(issued) == 6                       # a1 returning is a new child: its old ID stays retired


def test_unknown_ids_are_an_error(runs):
    runs.run("a1")
    with pytest.raises(ChildlinkError, match="no such child_id"):
        runs.resolve("CNOTANID000")


def test_the_same_key_mints_the_same_ids_and_another_key_others(tmp_path):
    one = Runs(tmp_path / "one.duckdb").run("a1 a2", "b1")
    two = Runs(tmp_path / "two.duckdb").run("a1 a2", "b1")
    other = Runs(tmp_path / "other.duckdb", key=id_key("330", 43)).run("a1 a2", "b1")
    assert one == two
    assert not set(one.values()) & set(other.values())


def test_sql_minting_matches_its_python_twin_and_skips_an_id_already_issued(tmp_path):
    con = open_workspace()
    got = con.execute(f"SELECT {mint_sql(KEY, 's')} FROM range(1, 200) t(s) ORDER BY s").fetchall()
    assert [g[0] for g in got] == [mint_one(KEY, s) for s in range(1, 200)]
    # Serial 1's ID already issued (as if minted under another serial): the next run must skip it.
    runs = Runs(tmp_path / "ws.duckdb")
    with attached(con, runs.path) as ws:
        con.execute(f"INSERT INTO {ws}.id_registry VALUES (?, 0, 'retired', NULL, 0, 0, 0)", [mint_one(KEY, 1)])
    ids = runs.run("a1", "b1")
    assert set(ids.values()) == {mint_one(KEY, 2), mint_one(KEY, 3)}

"""A damaged, foreign or newer workspace (workspace.duckdb) or decision store (review.sqlite) is
refused through the CLI with one clear line naming the file, and the file is left byte for byte
as it was: never migrated, repaired or overwritten."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from fault_support import assert_one_clear_line, job_file, link_a_world, snapshot
from linkage.review.store import STORE_NAME, DecisionStore, PairKey
from linkage.workspace import SCHEMA_VERSION


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A world linked once, with two review decisions in its store."""
    base = tmp_path_factory.mktemp("integrity")
    world = link_a_world(base, seed=13)
    pairs = pd.read_parquet(base / "out" / "pairs.parquet").sort_values("match_weight").tail(2)
    store = DecisionStore(base / "ws" / STORE_NAME)
    for row, decision in zip(pairs.itertuples(), ("same", "different")):
        store.decide(PairKey.of(row.source_l, row.record_id_l, row.source_r, row.record_id_r), decision,
                     seen_version=0, reviewer="officer")
    con = sqlite3.connect(base / "ws" / STORE_NAME)   # fold the WAL into the file, as a closed server does
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return world, base


@pytest.fixture()
def copy(first_run, tmp_path):
    """(job, workspace folder) : a copy of the first run's workspace for one test."""
    world, base = first_run
    shutil.copytree(base / "ws", tmp_path / "ws")
    for leftover in (tmp_path / "ws").glob(f"{STORE_NAME}-*"):
        leftover.unlink()
    return job_file(world, tmp_path / "ws", f"job_{tmp_path.name}"), tmp_path / "ws"


def assert_each_refused(commands: list[list[str]], path: Path, damage: str, state: Callable[[], object]) -> None:
    """Each CLI command is refused with one clear line naming ``path`` (saying "newer" for a newer
    schema) and leaves ``state()`` (what must not be migrated, repaired or overwritten) as it was."""
    before = state()
    runner = CliRunner()
    for args in commands:
        line = assert_one_clear_line(runner.invoke(main, args), names=path)
        if damage == "newer schema version":
            assert "newer than this childlink" in line
        assert state() == before, args


def _garbled_tail(data: bytes) -> bytes:
    half = len(data) // 2
    return data[:half] + os.urandom(len(data) - half)


# Damage any database file can suffer (a disk fault, a half-finished copy), for both kinds of file.
BYTE_DAMAGE = {
    "truncated to half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "random bytes": lambda p: p.write_bytes(os.urandom(p.stat().st_size)),
    "second half random": lambda p: p.write_bytes(_garbled_tail(p.read_bytes())),
}


def _foreign_duckdb(path: Path) -> None:
    path.unlink()
    con = duckdb.connect(str(path))
    con.execute("create table notes as select 'minutes of the meeting' as text")
    con.close()


def _newer_workspace(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("update meta set value = ? where key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()


WORKSPACE_DAMAGE = {
    **BYTE_DAMAGE,
    "truncated to 4 KB": lambda p: p.write_bytes(p.read_bytes()[:4096]),
    "another DuckDB database": _foreign_duckdb,
    "newer schema version": _newer_workspace,
}


@pytest.mark.parametrize("damage", WORKSPACE_DAMAGE)
def test_a_bad_workspace_is_refused_and_left_as_it_is(copy, tmp_path, damage):
    job, workspace = copy
    path = workspace / "workspace.duckdb"
    WORKSPACE_DAMAGE[damage](path)
    # link looks at the workspace before its work (a damaged block deeper in is met when it saves)
    assert_each_refused([["ids", "log", str(job)], ["link", str(job), "--out", str(tmp_path / "out"), "--quiet"]],
                        path, damage, state=lambda: snapshot(workspace))


def _newer_store(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("update schema_version set version = 2")
    con.execute("alter table events rename to decisions_v2")   # what a later schema might do
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _foreign_sqlite(path: Path) -> None:
    path.unlink()
    con = sqlite3.connect(path)
    con.execute("create table notes (text)")
    con.commit()
    con.close()


STORE_DAMAGE = {
    **BYTE_DAMAGE,
    "another SQLite database": _foreign_sqlite,
    "newer schema version": _newer_store,
}


@pytest.mark.parametrize("damage", STORE_DAMAGE)
def test_a_bad_review_store_is_refused_and_left_as_it_is(copy, tmp_path, damage):
    job, workspace = copy
    path = workspace / STORE_NAME
    STORE_DAMAGE[damage](path)
    assert_each_refused([["review", "export", str(job), "--out", str(tmp_path / "labels.csv")],
                         ["link", str(job), "--out", str(tmp_path / "out"), "--quiet"]],
                        path, damage, state=path.read_bytes)
    assert not (tmp_path / "labels.csv").exists() and not (tmp_path / "out" / "identities.csv").exists()


def test_link_refuses_a_bad_workspace_before_doing_its_work(copy, tmp_path, monkeypatch):
    """Found before reading any source: at national scale, not after an hour of scoring."""
    import linkage.link

    job, workspace = copy
    _newer_workspace(workspace / "workspace.duckdb")
    monkeypatch.setattr(linkage.link, "prepare", lambda *a, **k: pytest.fail("the run started its work"))
    line = assert_one_clear_line(CliRunner().invoke(main, ["link", str(job), "--out", str(tmp_path / "out")]),
                                 names=workspace / "workspace.duckdb")
    assert "newer" in line

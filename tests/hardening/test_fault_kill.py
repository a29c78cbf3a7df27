"""A run killed with SIGKILL part-way (scoring, saving the workspace, writing outputs, recording a
review decision) loses nothing: the previous outputs and the workspace stay readable and as they
were, no temporary file is left behind once the next run has written, and the next run succeeds.

The kills are real: ``childlink link`` runs in its own process with ``CHILDLINK_FAULT_AT`` set,
and ``linkage.faults.checkpoint`` SIGKILLs it at that point (no clean-up code runs).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest

from linkage.faults import FAULT_ENV
from linkage.review.store import STORE_NAME, DecisionStore, PairKey

from fault_support import ROOT, copy_of_run, generate_world, job_file, run_cli, snapshot

KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A generated world linked once (the 'previous run'): its job, workspace and outputs."""
    base = tmp_path_factory.mktemp("kill")
    world = generate_world(base / "world")
    job = job_file(world, base / "ws", "job")
    first = link(job, base / "out")
    assert first.returncode == 0, first.stderr
    return world, base


@pytest.fixture()
def linked(first_run, tmp_path):
    """A copy of the first run's workspace and outputs for one test, with a job file that uses it."""
    return copy_of_run(*first_run, tmp_path)


def link(job, out, fault: str | None = None) -> subprocess.CompletedProcess:
    return run_cli("link", str(job), "--out", str(out), "--quiet", "--chunks", "2",
                   env={FAULT_ENV: fault} if fault else {"CHILDLINK_FAULT_AT": ""})


def workspace_tables(workspace) -> dict[str, list]:
    """The workspace's identities, registry and runs, read as a later command would read them."""
    con = duckdb.connect(str(workspace / "workspace.duckdb"), read_only=True)
    try:
        return {"identities": con.execute("select * from identities order by all").fetchall(),
                "id_registry": con.execute("select * from id_registry order by all").fetchall(),
                "runs": con.execute("select run_id, records, identities from runs order by run_id").fetchall()}
    finally:
        con.close()


def no_temporaries(folder) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith("tmp_")]


def test_runs_killed_before_saving_the_workspace_change_nothing(linked):
    job, workspace, out = linked
    outputs, files, tables = snapshot(out), snapshot(workspace), workspace_tables(workspace)
    killed = link(job, out, "score")
    assert killed.returncode == KILLED, killed.stderr
    assert snapshot(out) == outputs                     # previous outputs byte for byte
    assert snapshot(workspace) == files                 # the workspace file was not even opened
    killed = link(job, out, "workspace-save")           # every write of the save done, no COMMIT
    assert killed.returncode == KILLED, killed.stderr
    assert snapshot(out) == outputs
    assert workspace_tables(workspace) == tables        # nothing of the killed run is visible
    after = link(job, out)
    assert after.returncode == 0, after.stderr
    assert [run[0] for run in workspace_tables(workspace)["runs"]] == [1, 2]
    assert no_temporaries(out) and no_temporaries(workspace)
    now = snapshot(out)
    assert now.keys() == outputs.keys()
    for name in ("identities.csv", "identities.parquet", "pairs.parquet", "rejects.csv"):
        assert now[name] == outputs[name]               # same data, same child IDs, same pairs


def test_a_run_killed_while_writing_outputs_leaves_every_previous_output(linked):
    job, workspace, out = linked
    outputs, tables = snapshot(out), workspace_tables(workspace)
    killed = link(job, out, "write")
    assert killed.returncode == KILLED
    files = snapshot(out)
    leftovers = [name for name in files if name.endswith(".tmp")]
    assert leftovers, "the kill should come after some of the new files were written"
    assert {name: h for name, h in files.items() if name not in leftovers} == outputs
    # The run had saved the workspace before writing its outputs (IDs are registered before they
    # are published): it reads back whole, same identities and registry, one run further on.
    now = workspace_tables(workspace)
    assert now["identities"] == tables["identities"] and now["id_registry"] == tables["id_registry"]
    assert [run[0] for run in now["runs"]] == [1, 2]
    after = link(job, out)
    assert after.returncode == 0, after.stderr
    assert no_temporaries(out)                          # the dead run's temporaries are gone
    files = snapshot(out)
    assert files.keys() == outputs.keys()
    assert files["identities.csv"] == outputs["identities.csv"]


DECIDE = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from linkage.review.store import DecisionStore, PairKey
    store = DecisionStore(sys.argv[2], create=False)
    store.decide(PairKey.of(*sys.argv[3:7]), "same", seen_version=0, reviewer="officer b")
    print("committed")
""")


def test_a_review_decision_killed_before_commit_is_not_half_saved(linked):
    job, workspace, out = linked
    pairs = pd.read_parquet(out / "pairs.parquet").sort_values("match_weight").tail(2)
    (first, second) = [PairKey.of(r.source_l, r.record_id_l, r.source_r, r.record_id_r) for r in pairs.itertuples()]
    store = DecisionStore(workspace / STORE_NAME)
    store.decide(first, "different", seen_version=0, reviewer="officer a")
    before = store.current()
    outputs = snapshot(out)

    killed = subprocess.run([sys.executable, "-c", DECIDE, str(ROOT), str(workspace / STORE_NAME), *second.params()],
                            env={FAULT_ENV: "review-decision", "PATH": ""}, capture_output=True, text=True)
    assert killed.returncode == KILLED and "committed" not in killed.stdout, killed.stderr

    con = sqlite3.connect(workspace / STORE_NAME)
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()
    pd.testing.assert_frame_equal(DecisionStore(workspace / STORE_NAME).current(), before)
    assert snapshot(out) == outputs
    # The killed decision left no half-taken version: deciding it again from version 0 works.
    assert store.decide(second, "same", seen_version=0, reviewer="officer b").version == 1
    after = link(job, out)
    assert after.returncode == 0, after.stderr
    applied = pd.read_csv(out / "review_decisions.csv")
    assert sorted(applied["decision"]) == ["different", "same"]

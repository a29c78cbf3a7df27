"""The workspace file: schema version and migrations, refusal of newer files, locking, atomic saves."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import linkage.workspace as workspace
from linkage.errors import ChildlinkError
from linkage.workspace import SCHEMA_VERSION, attached, has_table, open_workspace, schema_version, transaction


def test_a_new_workspace_is_created_at_the_current_schema(tmp_path):
    con = open_workspace()
    with attached(con, tmp_path / "state" / "workspace.duckdb") as ws:
        assert schema_version(con, ws) == SCHEMA_VERSION
        for table in ("meta", "runs", "model", "id_registry", "id_lineage"):
            assert has_table(con, ws, table)


def test_a_workspace_from_a_newer_childlink_is_refused(tmp_path):
    path = tmp_path / "workspace.duckdb"
    con = open_workspace()
    with attached(con, path) as ws:
        con.execute(f"UPDATE {ws}.meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    for read_only in (False, True):
        with pytest.raises(ChildlinkError, match="newer than this childlink"):
            with attached(con, path, read_only=read_only):
                pass


def test_an_older_workspace_is_migrated_and_keeps_its_data(tmp_path, monkeypatch):
    path = tmp_path / "workspace.duckdb"
    con = open_workspace()
    with attached(con, path) as ws:
        con.execute(f"INSERT INTO {ws}.id_lineage VALUES (1, 'CAAAAAAAAAA', 'created', NULL, 2)")

    def add_note(con, ws):      # a made-up version 2: lineage rows get a note
        con.execute(f"ALTER TABLE {ws}.id_lineage ADD COLUMN note VARCHAR")

    monkeypatch.setattr(workspace, "MIGRATIONS", {**workspace.MIGRATIONS, SCHEMA_VERSION: add_note})
    monkeypatch.setattr(workspace, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with attached(con, path, read_only=True) as ws:      # even a reader migrates first
        assert schema_version(con, ws) == SCHEMA_VERSION + 1
        assert con.execute(f"SELECT child_id, note FROM {ws}.id_lineage").fetchall() == [("CAAAAAAAAAA", None)]


def test_reading_a_missing_or_foreign_workspace_is_a_clear_error(tmp_path):
    con = open_workspace()
    with pytest.raises(ChildlinkError, match="no workspace yet"):
        with attached(con, tmp_path / "missing.duckdb", read_only=True):
            pass
    foreign = tmp_path / "notes.duckdb"
    foreign.write_text("these are not the droids you are looking for\n" * 100)
    with pytest.raises(ChildlinkError, match="not a childlink workspace"):
        with attached(con, foreign):
            pass


def _run(code: str, path) -> subprocess.Popen:
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(workspace.Path(workspace.__file__).parent.parent)!r})
        from linkage.workspace import attached, open_workspace, transaction
        con = open_workspace()
    """) + textwrap.dedent(code)
    return subprocess.Popen([sys.executable, "-c", script, str(path)])


def test_a_run_killed_while_saving_leaves_the_previous_state_whole(tmp_path):
    path = tmp_path / "workspace.duckdb"
    con = open_workspace()
    with attached(con, path) as ws:
        con.execute(f"CREATE TABLE {ws}.identities AS SELECT 'gp' AS source, 'r1' AS record_id, 'CAAAAAAAAAA' AS child_id")
    killed = _run("""
        with attached(con, sys.argv[1]) as ws:
            con.execute("BEGIN TRANSACTION")
            con.execute(f"CREATE OR REPLACE TABLE {ws}.identities AS SELECT 'gp' AS source, 'r2' AS record_id, 'C' AS child_id")
            con.execute(f"INSERT INTO {ws}.runs (run_id) VALUES (1)")
            os._exit(9)            # killed before COMMIT
    """, path)
    assert killed.wait(60) == 9
    with attached(con, path, read_only=True) as ws:
        assert con.execute(f"SELECT record_id, child_id FROM {ws}.identities").fetchall() == [("r1", "CAAAAAAAAAA")]
        assert con.execute(f"SELECT count(*) FROM {ws}.runs").fetchall() == [(0,)]


def test_a_failed_save_rolls_back(tmp_path):
    con = open_workspace()
    with attached(con, tmp_path / "workspace.duckdb") as ws:
        with pytest.raises(RuntimeError):
            with transaction(con):
                con.execute(f"INSERT INTO {ws}.runs (run_id) VALUES (1)")
                raise RuntimeError("disk full")
        assert con.execute(f"SELECT count(*) FROM {ws}.runs").fetchall() == [(0,)]


def test_a_second_run_waits_for_the_first_to_release_the_workspace(tmp_path):
    path = tmp_path / "workspace.duckdb"
    con = open_workspace()
    with attached(con, path):
        pass
    holder = _run("""
        with attached(con, sys.argv[1]) as ws:
            open(sys.argv[1] + ".held", "w").close()
            time.sleep(2)
    """, path)
    held = path.with_name(path.name + ".held")
    deadline = time.monotonic() + 60
    while not held.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(ChildlinkError, match="in use by another childlink run"):
        with attached(con, path, wait=0.3):
            pass
    start = time.monotonic()
    with attached(con, path, wait=60) as ws:           # waits for the holder, then proceeds
        assert schema_version(con, ws) == SCHEMA_VERSION
    assert time.monotonic() - start > 0.2
    assert holder.wait(60) == 0


def test_the_workspace_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "state" / "workspace.duckdb"
    with attached(open_workspace(), path):
        pass
    assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0


def test_duckdb_is_capped_below_the_machine_and_spills_to_a_private_folder(monkeypatch):
    from linkage.workspace import MEMORY_LIMIT_ENV, open_workspace

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    limit, spill = open_workspace().execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall()[0]
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    number, unit = limit.split()
    assert float(number) * {"MiB": 2**20, "GiB": 2**30}[unit] < 0.5 * physical
    assert Path(spill).is_dir() and Path(spill).stat().st_mode & 0o077 == 0    # nobody else reads spilled records
    assert Path.cwd() not in Path(spill).parents


def test_the_memory_limit_can_be_set_and_a_bad_one_is_one_clear_error(monkeypatch):
    from linkage.workspace import MEMORY_LIMIT_ENV, open_workspace

    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1500MB")
    assert open_workspace().execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "1.3 GiB"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ChildlinkError, match=MEMORY_LIMIT_ENV):
        open_workspace()

"""linkage.outputs under faults, in-process: staged outputs go in together or not at all, temporaries
of dead processes are cleared, outputs are owner-only, file-system errors are one ChildlinkError."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from linkage.errors import ChildlinkError
from linkage.outputs import (atomic_path, check_writable, discard_output, staged_outputs, write_csv, write_parquet,
                             write_text)


def test_staged_files_replace_the_old_ones_only_when_the_block_succeeds(tmp_path):
    write_text(tmp_path / "a.txt", "old a")
    write_text(tmp_path / "gone.txt", "old")
    with pytest.raises(RuntimeError):
        with staged_outputs():
            write_text(tmp_path / "a.txt", "new a")
            write_text(tmp_path / "b.txt", "new b")
            discard_output(tmp_path / "gone.txt")
            assert (tmp_path / "a.txt").read_text() == "old a"     # nothing in place yet
            raise RuntimeError("the run failed half-way")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "gone.txt"]   # no temporaries either
    assert (tmp_path / "a.txt").read_text() == "old a"
    with staged_outputs():
        write_text(tmp_path / "a.txt", "new a")
        with staged_outputs():                                      # a nested block joins the outer one
            write_text(tmp_path / "b.txt", "new b")
        assert not (tmp_path / "b.txt").exists()
        discard_output(tmp_path / "gone.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "new a"


def test_a_dead_processes_temporaries_are_removed_a_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".identities.csv.{dead_pid}.abc123.tmp"
    live = tmp_path / f".identities.csv.{os.getppid()}.def456.tmp"    # another run, still writing
    other = tmp_path / f".pairs.parquet.{dead_pid}.ghi789.tmp"        # another file's: left for its writer
    for path in (stale, live, other):
        path.write_text("children's data")
    write_csv(tmp_path / "identities.csv", pd.DataFrame({"a": [1]}))
    assert not stale.exists() and live.exists() and other.exists()


def test_outputs_are_owner_only_whoever_writes_them(tmp_path):
    write_csv(tmp_path / "a.csv", pd.DataFrame({"a": [1]}))
    write_parquet(tmp_path / "a.parquet", pd.DataFrame({"a": [1]}))
    with atomic_path(tmp_path / "b.parquet") as tmp:     # DuckDB makes the file anew
        duckdb.sql(f"copy (select 1 as a) to '{tmp}' (format parquet)")
    for name in ("a.csv", "a.parquet", "b.parquet"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_a_failing_writer_is_one_childlink_error_naming_the_file(tmp_path):
    with pytest.raises(ChildlinkError, match="b.parquet: cannot write output"):
        with atomic_path(tmp_path / "b.parquet") as tmp:   # DuckDB's own IOException
            duckdb.sql(f"copy (select 1 as a) to '{tmp / 'not-a-folder' / 'x'}' (format parquet)")
    with pytest.raises(ChildlinkError, match=r"a.csv: cannot write output \(No space left on device\)"):
        with atomic_path(tmp_path / "a.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []


def test_check_writable_names_a_folder_that_cannot_be_made(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ChildlinkError, match="cannot write here"):
        check_writable(tmp_path / "file" / "out")
    assert check_writable(tmp_path / "new" / "out").is_dir()
    assert list((tmp_path / "new" / "out").iterdir()) == []

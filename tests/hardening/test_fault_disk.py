"""A full disk or a read-only output folder gives one clear message (exit 2, one line naming the
path, no traceback) and leaves the previous outputs as they were.

Real faults where the machine allows them: a read-only folder (chmod for a normal user, a read-only
bind mount in a private namespace for root), a tiny tmpfs that fills up. Everywhere: a real ENOSPC
from the kernel, by making one output's temporary file a link to /dev/full, so that each kind of
writer (pandas CSV, pyarrow Parquet, DuckDB COPY, the HTML report) meets a full disk.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from fault_support import (assert_one_clear_line, cli_run_in_namespace, copy_of_run, job_file, link_a_world,
                           namespaces_available, run_cli, run_cli_in_namespace, snapshot)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("disk")
    return link_a_world(base, seed=11), base


@pytest.fixture()
def linked(first_run, tmp_path):
    """A copy of the first run's workspace and outputs, and a job file that uses them."""
    return copy_of_run(*first_run, tmp_path)


def invoke_link(job: Path, out: Path):
    return CliRunner().invoke(main, ["link", str(job), "--out", str(out), "--quiet"])


@pytest.mark.parametrize("victim", ["identities.csv", "identities.parquet", "pairs.parquet", "report.html"])
def test_a_full_disk_while_writing_an_output_is_one_clear_line(linked, monkeypatch, victim):
    job, workspace, out = linked
    before = snapshot(out)
    real_mkstemp = tempfile.mkstemp

    def mkstemp_on_a_full_disk(*args, prefix="", dir=None, **kwargs):
        fd, path = real_mkstemp(*args, prefix=prefix, dir=dir, **kwargs)
        if prefix.startswith(f".{victim}."):    # this output's temporary: every write gets ENOSPC
            os.close(fd)
            os.unlink(path)
            os.symlink("/dev/full", path)
            fd = os.open(path, os.O_WRONLY)
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp_on_a_full_disk)
    result = invoke_link(job, out)
    line = assert_one_clear_line(result, names=out / victim)
    assert os.strerror(errno.ENOSPC) in line
    assert snapshot(out) == before                      # every previous output, and no temporary left


def test_a_read_only_output_folder_is_refused_before_any_work(linked, monkeypatch):
    """Simulated (root ignores file modes): the folder refuses new files with EROFS."""
    job, workspace, out = linked
    before, state = snapshot(out), snapshot(workspace)
    real_mkstemp = tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == out:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    line = assert_one_clear_line(invoke_link(job, out), names=out)
    assert os.strerror(errno.EROFS) in line
    assert snapshot(out) == before
    assert snapshot(workspace) == state                 # refused before the run touched its workspace


def test_a_really_read_only_output_folder(linked):
    job, workspace, out = linked
    before, state = snapshot(out), snapshot(workspace)
    if os.geteuid() != 0:
        out.chmod(0o555)
        try:
            result = run_cli("link", str(job), "--out", str(out), "--quiet")
        finally:
            out.chmod(0o755)
    elif namespaces_available():
        result = run_cli_in_namespace(f"mount --bind {out} {out} && mount -o remount,bind,ro {out}",
                                      "link", str(job), "--out", str(out), "--quiet")
    else:
        pytest.skip("running as root without user namespaces: no way to make a folder read-only")
    assert_one_clear_line(result, names=out)
    assert snapshot(out) == before and snapshot(workspace) == state


@pytest.mark.skipif(not namespaces_available(), reason="needs a private mount namespace for a tiny tmpfs")
def test_a_really_full_disk(linked, tmp_path):
    """Outputs on a 1.4 MB tmpfs: the first run's files fit, the second run's do not (its new files
    are written beside the old ones until all are done). The whole scenario runs inside the namespace."""
    job, workspace, out = linked
    disk, log = tmp_path / "disk", tmp_path / "log"
    disk.mkdir()
    log.mkdir()
    run = f"{disk}/run"
    script = (f"mount -t tmpfs -o size=1400k tmpfs {disk} && "
              f"cp -r {out} {run} && sha256sum {run}/* > {log}/before && "
              f"{{ $CHILDLINK link {job} --out {run} --quiet 2> {log}/stderr; echo $? > {log}/code; }}; "
              f"sha256sum {run}/* > {log}/after; ls -A {run} > {log}/files; true")
    line = assert_one_clear_line(cli_run_in_namespace(script, log), names=run)
    assert os.strerror(errno.ENOSPC) in line
    assert (log / "after").read_text() == (log / "before").read_text()
    assert not [name for name in (log / "files").read_text().split() if name.endswith(".tmp")]


@pytest.mark.skipif(not namespaces_available(), reason="needs a private mount namespace for a tiny tmpfs")
def test_a_full_disk_while_saving_the_workspace(first_run, tmp_path):
    """The workspace on a 1 MB tmpfs: the save's commit fails; once there is room, the next run works."""
    world, _ = first_run
    disk, log = tmp_path / "disk", tmp_path / "log"
    disk.mkdir()
    log.mkdir()
    job = job_file(world, disk / "ws", "job_full_workspace")
    link = f"$CHILDLINK link {job} --out {tmp_path / 'out'} --quiet"
    script = (f"mount -t tmpfs -o size=1000k tmpfs {disk} && "
              f"{{ {link} 2> {log}/stderr; echo $? > {log}/code; }}; "
              f"mount -o remount,size=50m {disk} && {link} > /dev/null && $CHILDLINK ids log {job} > {log}/audit")
    line = assert_one_clear_line(cli_run_in_namespace(script, log), names=disk / "ws" / "workspace.duckdb")
    assert os.strerror(errno.ENOSPC) in line
    audit = (log / "audit").read_text()
    assert "run 1:" in audit and "run 2:" not in audit   # the failed run left no audit row

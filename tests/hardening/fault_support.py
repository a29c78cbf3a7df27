"""Helpers for the fault, determinism and spreadsheet-safety tests: small worlds, the CLI in a
subprocess (as a user runs it), snapshots of folders, and a throw-away tmpfs when the kernel
allows one without root (a user namespace)."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def generate_world(folder: Path, *, children: int = 300, seed: int = 7) -> Path:
    """A generated world (five sources, CME cases, truth and job.yaml) in ``folder``."""
    from linkage.synthetic.rule_truth import generate_with_truth

    generate_with_truth(children, seed, folder)
    return folder


def link_a_world(base: Path, *, seed: int) -> Path:
    """A generated world in ``base/world`` linked once in-process (job ``base/job.yaml``, workspace
    ``base/ws``, outputs ``base/out``): the 'previous run' of a fault test. Returns the world."""
    from click.testing import CliRunner

    from cli import main

    world = generate_world(base / "world", seed=seed)
    job = job_file(world, base / "ws", "job")
    result = CliRunner().invoke(main, ["link", str(job), "--out", str(base / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    return world


def copy_of_run(world: Path, base: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(job, workspace, outputs): a copy in ``tmp_path`` of the workspace and outputs of the run
    in ``base``, with a job file that uses the copy, so one test cannot spoil another's."""
    shutil.copytree(base / "ws", tmp_path / "ws")
    shutil.copytree(base / "out", tmp_path / "out")
    return job_file(world, tmp_path / "ws", f"job_{tmp_path.name}"), tmp_path / "ws", tmp_path / "out"


def job_file(world: Path, workspace: Path, name: str, folder: Path | None = None) -> Path:
    """A copy of the world's job file (absolute paths) whose workspace is ``workspace``, written
    as ``<folder>/<name>.yaml`` (folder: beside the world)."""
    raw = yaml.safe_load((world / "job.yaml").read_text())
    raw["sources"] = [{**s, "path": str(world / s["path"])} for s in raw["sources"]]
    for key in ("postcode_lookup", "cme_cases"):
        if raw.get(key):
            raw[key] = str(world / raw[key])
    raw["linkage"] = {**(raw.get("linkage") or {}), "workspace": str(workspace)}
    path = (folder or world.parent) / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw))
    return path


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``childlink ARGS`` in a fresh Python process; stdout and stderr captured as text."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (hidden files included)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_clear_line(result, *, names: str | Path) -> str:
    """Exit 2, a single ``error:`` line on stderr naming ``names``, no traceback."""
    code = result.returncode if hasattr(result, "returncode") else result.exit_code   # subprocess or CliRunner
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    error_lines = [line for line in lines if line.startswith("error:")]
    assert code == 2, (code, result.stderr[-2000:])
    assert len(error_lines) == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert str(names) in error_lines[0], error_lines[0]
    return error_lines[0]


def namespaces_available() -> bool:
    """Whether ``unshare`` can give this user a private mount namespace (to mount a tmpfs)."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    return probe.returncode == 0


def run_in_namespace(script: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """The shell ``script`` inside a private mount namespace (mounts made there vanish with it);
    ``$CHILDLINK`` in the script runs the CLI."""
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "CHILDLINK": f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'cli.py'))}"}
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          env=env, capture_output=True, text=True, timeout=timeout)


def cli_run_in_namespace(script: str, log: Path) -> subprocess.CompletedProcess:
    """Runs the shell ``script`` in a private mount namespace; the script records one CLI run's exit
    code in ``log/code`` and its stderr in ``log/stderr``. Returns that CLI run, for
    ``assert_one_clear_line`` to judge."""
    outer = run_in_namespace(script)
    assert outer.returncode == 0, outer.stderr
    return subprocess.CompletedProcess(script, int((log / "code").read_text()), stdout=outer.stdout,
                                       stderr=(log / "stderr").read_text())


def run_cli_in_namespace(setup: str, *args: str) -> subprocess.CompletedProcess:
    """``childlink ARGS`` in a private mount namespace, after the shell commands ``setup`` (e.g. bind
    a folder read-only)."""
    return run_in_namespace(f"{setup} && exec $CHILDLINK {' '.join(shlex.quote(a) for a in args)}")

"""Same inputs, seed and model give byte-identical outputs.

Two ``link`` runs (with ``--truth`` and chunked scoring), two ``trace`` runs and two ``validate``
runs on the same world write into different output folders, each with a fresh workspace, in
separate processes with different hash seeds (so set and dict order cannot leak into a file).
Every file must be byte-identical, with ONE exclusion:

- ``report.html`` (link): the "Run time" table (phase names and seconds between ``<h2>Run time</h2>``
  and the table's ``</table>``) is wall-clock time. It is replaced by a placeholder before comparing;
  the rest of the report, charts included, must match byte for byte.

Nothing else is excluded: child IDs (minted from the job's home LA and seed, not from the clock or
the workspace), Parquet files (pyarrow and DuckDB write no timestamps), CSVs and trace.html.
"""

from __future__ import annotations

import re
from pathlib import Path

from fault_support import generate_world, job_file, run_cli

RUN_TIME_TABLE = re.compile(r"<h2>Run time</h2>.*?</table>", re.DOTALL)


def normalised(path: Path) -> bytes:
    """The file's bytes, with the link report's run-time table replaced by a placeholder."""
    data = path.read_bytes()
    if path.name == "report.html":
        text, n = RUN_TIME_TABLE.subn("<h2>Run time</h2>(excluded)", data.decode("utf-8"))
        assert n == 1, "the report's run-time table was not found: update the exclusion"
        return text.encode("utf-8")
    return data


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): normalised(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_of_each_command_write_byte_identical_files(tmp_path):
    """Each command twice on one world: folders ``a/`` and ``b/``, fresh workspaces ``ws_a``, ``ws_b``.
    (One test, so that parallel workers do not each build the runs.)"""
    world = generate_world(tmp_path / "world", seed=17)
    for side, hash_seed in (("a", "1"), ("b", "2")):
        job = str(job_file(world, tmp_path / f"ws_{side}", "job", folder=tmp_path / f"job_{side}"))  # same name
        out = tmp_path / side
        for args in (["link", job, "--out", str(out / "link"), "--truth", str(world / "truth.csv"),
                      "--chunks", "2", "--quiet"],
                     ["trace", job, "--out", str(out / "trace"), "--run", str(out / "link")],
                     ["validate", job, "--out", str(out / "validate")]):
            result = run_cli(*args, env={"PYTHONHASHSEED": hash_seed})
            assert result.returncode == 0, (args[0], result.stderr[-2000:])
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert {"link/identities.csv", "link/identities.parquet", "link/pairs.parquet", "link/rejects.csv",
            "link/evaluation.csv", "link/report.html", "trace/cme_trace.csv", "trace/trace.html",
            "validate/quality.csv"} <= a.keys()
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []

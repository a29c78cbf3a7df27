"""Shared helpers for the NHS-number what-if tests: a small generated world and its prepared records."""

from __future__ import annotations

from pathlib import Path

import duckdb

from linkage.evaluate.truth import read_truth
from linkage.job import load_job
from linkage.prepare import prepare
from linkage.synthetic.rule_truth import generate_with_truth
from linkage.workspace import open_workspace

CHILDREN = 250     # >= 200 children: the generator guarantees an adoption (a child whose NHS number changes)
SEED = 5


def make_world(folder: Path) -> Path:
    """Generate the test world into ``folder``; returns the job file."""
    generate_with_truth(CHILDREN, SEED, folder)
    return folder / "job.yaml"


def prepared(job_path: Path, truth: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A workspace holding the job's records and std_records (and the truth table when given)."""
    con = open_workspace()
    prepare(load_job(job_path), con)
    if truth is not None:
        read_truth(con, truth)
    return con

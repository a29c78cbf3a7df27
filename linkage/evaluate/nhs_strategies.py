"""The three ways a pilot could link children once services record NHS numbers.

``deterministic``  records sharing a valid NHS number are one child; a record without one stays
                   alone (what "just adopt the identifier" gives). A tiny clustering in DuckDB.
``probabilistic``  the linkage model on the same records with every NHS number withheld.
``hybrid``         the linkage model as it is, with the NHS number as one piece of evidence.

The model strategies run ``linkage.trace.run.trace_job`` (which links first, with the default or
the job's model); the deterministic one writes a run folder (identities and pairs, as ``childlink
link`` would) and traces it with the same function. Nothing here re-implements linkage or tracing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..job import Job, load_job
from ..outputs import atomic_path
from ..trace.run import trace_job
from ..workspace import open_workspace

STRATEGIES = ("deterministic", "probabilistic", "hybrid")
# Columns left out of the inputs fingerprint: the NHS number (which is what differs on purpose
# between the strategies) and the row number (a copy is numbered from 1 like any file).
_NHS_COLUMNS = ("nhs_number", "nhs_number_std")
_NOT_FINGERPRINTED = _NHS_COLUMNS + ("row_number", "dq_flags")


@dataclass
class StrategyRun:
    """Where one strategy's identities and trace are, and what it was given."""
    strategy: str
    identities: Path        # identities.parquet (source, record_id, child_id, confidence)
    trace_dir: Path         # cme_trace.csv, not_in_education.csv ...
    inputs: dict            # inputs_fingerprint, nhs_fingerprint, nhs_numbers_seen


def inputs_fingerprint(con: duckdb.DuckDBPyConnection, records: str = "std_records") -> dict:
    """Fingerprints of the records a strategy linked: everything but the NHS number, and the NHS numbers.

    Order-free (an XOR of row hashes), so two strategies given the same records in any order
    agree; ``nhs_numbers_seen`` counts the valid NHS numbers the strategy could use.
    """
    columns = [row[0] for row in con.execute(f"describe {records}").fetchall()]
    kept = ", ".join(f'"{c}"' for c in columns if c not in _NOT_FINGERPRINTED)
    flags = "list_filter(dq_flags, lambda f: f <> 'invalid_nhs_number')"   # the NHS flag belongs to the NHS part
    n, rows, nhs, seen = con.execute(f"""
        select count(*), coalesce(bit_xor(hash({kept}, {flags})), 0),
               coalesce(bit_xor(hash(source, record_id, nhs_number_std)) filter (where nhs_number_std is not null), 0),
               count(nhs_number_std)
        from {records}""").fetchone()
    return {"inputs_fingerprint": f"{n}:{int(rows):016x}", "nhs_fingerprint": f"{seen}:{int(nhs):016x}",
            "nhs_numbers_seen": int(seen)}


def run_model_strategy(strategy: str, job_path: Path, folder: Path, *,
                       model_path: Path | None = None) -> tuple[StrategyRun, duckdb.DuckDBPyConnection]:
    """Link and trace the job at ``job_path`` with the model; the open workspace comes back too,
    holding the records exactly as linked (``std_records``) for the deterministic strategy."""
    job = load_job(job_path)
    con = open_workspace()
    try:
        trace_job(job, folder, model_path=model_path, con=con)
        run = StrategyRun(strategy, folder / "link" / "identities.parquet", folder, inputs_fingerprint(con))
    except BaseException:
        con.close()
        raise
    return run, con


def run_deterministic(job: Job, con: duckdb.DuckDBPyConnection, folder: Path) -> StrategyRun:
    """Cluster the records in ``con`` on their NHS number alone, write a run folder and trace it."""
    nhs_number_identities(con)
    run_dir = write_run_folder(con, folder / "run")
    trace_con = open_workspace()
    try:
        trace_job(job, folder / "trace", run_dir=run_dir, con=trace_con)
    finally:
        trace_con.close()
    return StrategyRun("deterministic", run_dir / "identities.parquet", folder / "trace", inputs_fingerprint(con))


def nhs_number_identities(con: duckdb.DuckDBPyConnection, records: str = "std_records",
                          out: str = "nhs_identities") -> str:
    """One identity per valid NHS number; every record without one is an identity of its own.

    Identities are numbered in the order of their first record (by source, record_id), so the
    numbering is deterministic and says nothing about the numbers themselves.
    """
    con.execute(f"""
        create or replace table {out} as
        with keyed as (
            select source, record_id, nhs_number_std,
                   row_number() over (order by source, record_id) as position
            from {records}),
        grouped as (
            select *, min(position) over (partition by coalesce(nhs_number_std, 'record ' || position)) as first_position
            from keyed)
        select source, record_id,
               'N' || lpad(cast(dense_rank() over (order by first_position) as varchar), 8, '0') as child_id,
               1.0 as confidence,
               count(*) over (partition by first_position) as cluster_size,
               false as needs_review, cast(null as varchar) as review_reason,
               nhs_number_std
        from grouped
        order by source, record_id
    """)
    return out


def write_run_folder(con: duckdb.DuckDBPyConnection, run_dir: Path, identities: str = "nhs_identities") -> Path:
    """identities.parquet and pairs.parquet of the deterministic identities, shaped as a link run's."""
    run_dir.mkdir(parents=True, exist_ok=True)
    queries = {
        "identities.parquet": f"""select source, record_id, child_id, confidence, cluster_size, needs_review,
                                         review_reason from {identities} order by source, record_id""",
        # Every pair of records sharing a number, certain by construction.
        "pairs.parquet": f"""select l.source as source_l, l.record_id as record_id_l, r.source as source_r,
                                    r.record_id as record_id_r, cast(null as double) as match_weight,
                                    1.0 as match_probability
                             from {identities} l join {identities} r
                               on l.nhs_number_std = r.nhs_number_std
                              and (l.source < r.source or (l.source = r.source and l.record_id < r.record_id))
                             order by all""",
    }
    for name, query in queries.items():
        with atomic_path(run_dir / name) as tmp:
            con.execute(f"copy ({query}) to '{tmp.as_posix()}' (format parquet)")
    return run_dir

"""A linkage run end to end: sources -> standardise -> block -> score -> cluster -> outputs.

``link`` is what ``childlink link`` calls. It writes the contract's four outputs
(identities, pairs, rejects, report) atomically into the output folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from .blocking import load_rule_set
from .cluster import ClusterSettings, cluster
from .job import Job
from .model import DEFAULT_MODEL, create_model_input, load_model, with_prior_for, with_rule_set
from .outputs import write_csv, write_parquet
from .prepare import Prepared, prepare, sorted_rejects
from .score import COMPARISON_NAMES, score_pairs
from .workspace import open_workspace

Progress = Callable[[str, int, int], None]   # (phase, done, total)


@dataclass
class LinkResult:
    out_dir: Path
    prepared: Prepared
    model: dict
    model_path: Path
    n_pairs: int
    cluster_stats: dict
    timings: dict[str, float] = field(default_factory=dict)
    evaluation: object | None = None     # linkage.evaluate.run.Evaluation when truth was given

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.prepared.con

    def summary(self) -> str:
        n_rec = self.prepared.n_records
        s = self.cluster_stats
        return (f"{n_rec} records, {len(self.prepared.rejects)} rejects, {self.n_pairs} pairs scored, "
                f"{s['identities']} identities ({s['identities_needing_review']} need review); "
                f"outputs in {self.out_dir} ({sum(self.timings.values()):.1f}s)")


def assign_child_ids(con: duckdb.DuckDBPyConnection, clusters: str = "clusters",
                     records: str = "link_input", out: str = "identities") -> str:
    """One child_id per identity, numbered in the order of each identity's first record.

    Deterministic for identical input. (Persistent IDs across changing data are the job of
    the ID registry, not of this numbering.)
    """
    con.execute(f"""
        create or replace table {out} as
        select r.source, r.record_id,
               'C' || lpad(cast(dense_rank() over (order by c.identity) as varchar), 8, '0') as child_id,
               round(c.confidence, 6) as confidence, c.cluster_size, c.needs_review, c.review_reason, r.rec_key
        from {clusters} c join {records} r using (rec_key)
        order by r.rec_key
    """)
    return out


def _write_outputs(con, out_dir: Path, rejects: pd.DataFrame) -> None:
    identities = con.execute("""
        select source, record_id, child_id, confidence, cluster_size, needs_review, review_reason
        from identities order by source, record_id""").fetchdf()
    write_parquet(out_dir / "identities.parquet", identities)
    write_csv(out_dir / "identities.csv", identities)
    levels = ", ".join(f"p.gamma_{n}, p.mw_{n}" for n in COMPARISON_NAMES)
    pairs = con.execute(f"""
        select l.source as source_l, l.record_id as record_id_l, r.source as source_r, r.record_id as record_id_r,
               p.match_weight, p.match_probability, p.match_key, {levels}
        from pairs p join link_input l on l.rec_key = p.rec_key_l join link_input r on r.rec_key = p.rec_key_r
        order by p.rec_key_l, p.rec_key_r
    """).fetchdf()
    write_parquet(out_dir / "pairs.parquet", pairs)
    write_csv(out_dir / "rejects.csv", sorted_rejects(rejects))


def link(job: Job, out_dir: str | Path, *, model_path: str | Path | None = None, chunks: int = 1,
         con: duckdb.DuckDBPyConnection | None = None, progress: Progress | None = None,
         write_report: bool = True, truth: str | Path | None = None) -> LinkResult:
    """Link every record of ``job`` into identities and write the outputs to ``out_dir``.

    With ``truth`` (evaluation only: it is read after linking and never informs it), the run
    is also scored against it and the figures go into the report and ``evaluation.csv``.
    """
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    con = con or open_workspace()
    prepared = prepare(job, con)
    table = create_model_input(con, job.reference_date)
    lap("read and standardise")

    model_path = Path(model_path or job.linkage.model or DEFAULT_MODEL)
    model = with_rule_set(load_model(model_path), load_rule_set(job.linkage.blocking_rules))
    model = with_prior_for(con, table, model)
    n_pairs = score_pairs(con, table, model, chunks=chunks,
                          progress=(lambda d, t: progress("score", d, t)) if progress else None)
    lap("score")

    stats = cluster(con, ClusterSettings(match_threshold=job.linkage.match_threshold,
                                         review_band=job.linkage.review_band,
                                         reference_date=job.reference_date.isoformat()))
    assign_child_ids(con)
    lap("cluster")

    _write_outputs(con, out_dir, prepared.rejects)
    result = LinkResult(out_dir=out_dir, prepared=prepared, model=model, model_path=model_path,
                        n_pairs=n_pairs, cluster_stats=stats, timings=timings)
    lap("write outputs")
    if truth is not None:
        from .evaluate.run import evaluate_identities

        result.evaluation = evaluate_identities(con, "identities", Path(truth), job.reference_date)
        write_csv(out_dir / "evaluation.csv", result.evaluation.table())
        lap("evaluate")
    if write_report:
        from .report import write_link_report

        write_link_report(result, out_dir / "report.html")
        lap("report")
    return result

"""A linkage run end to end: sources -> standardise -> block -> score -> cluster -> outputs.

``link`` is what ``childlink link`` calls. It writes the contract's four outputs
(identities, pairs, rejects, report) atomically into the output folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from .blocking import load_rule_set
from .cluster import ClusterSettings, cluster
from .errors import ChildlinkError
from .faults import checkpoint
from .job import Job
from .model import DEFAULT_MODEL, create_model_input, load_model, with_prior_for, with_rule_set
from .outputs import atomic_path, check_writable, discard_output, staged_outputs, write_csv, write_parquet
from .prepare import Prepared, prepare, sorted_rejects
from .review.apply import decision_effect, describe_effect, load_decisions
from .score import COMPARISON_NAMES, auto_chunks, pair_columns, score_pairs
from .ids import IdChanges
from .incremental import Delta, prepare_changed, run_signature, score_changed_pairs
from .persist import save_run
from .progress import PhaseTimer, Progress
from .workspace import check_job_state, open_workspace, workspace_file

BACKENDS = ("duckdb", "spark")                # where blocked pairs are scored


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
    run_id: int = 0                      # the run's number in the job's workspace
    id_changes: IdChanges | None = None  # how the identities map onto the previous run's IDs
    delta: Delta | None = None           # what changed since the last run (incremental runs)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.prepared.con

    def summary(self) -> str:
        n_rec = self.prepared.n_records
        s = self.cluster_stats
        review = describe_effect(s)
        return (f"{n_rec} records, {len(self.prepared.rejects)} rejects, {self.n_pairs} pairs scored, "
                f"{s['identities']} identities ({s['identities_needing_review']} need review); "
                + (f"{review}; " if review else "")
                + (f"{self.delta.summary()}; " if self.delta else "")
                + (f"{self.id_changes.summary()} (run {self.run_id}); " if self.id_changes else "")
                + f"outputs in {self.out_dir} ({sum(self.timings.values()):.1f}s)")


def _write_outputs(con, out_dir: Path, rejects: pd.DataFrame) -> None:
    identities = con.execute("""
        select source, record_id, child_id, confidence, cluster_size, needs_review, review_reason
        from identities order by source, record_id""").fetchdf()
    write_parquet(out_dir / "identities.parquet", identities)
    write_csv(out_dir / "identities.csv", identities)
    checkpoint("write")   # tests: a run killed half-way through its outputs
    levels = ", ".join(f"p.gamma_{n}, p.mw_{n}" for n in COMPARISON_NAMES)
    # Pairs grow faster than records (17 million for 1.3 million records): DuckDB writes them
    # straight to Parquet, with no copy in Python memory.
    with atomic_path(out_dir / "pairs.parquet") as tmp:
        con.execute(f"""copy (
            select l.source as source_l, l.record_id as record_id_l, r.source as source_r,
                   r.record_id as record_id_r, p.match_weight, p.match_probability, p.match_key, {levels}
            from pairs p join link_input l on l.rec_key = p.rec_key_l join link_input r on r.rec_key = p.rec_key_r
            order by p.rec_key_l, p.rec_key_r
        ) to '{str(tmp).replace("'", "''")}' (format parquet, use_tmp_file false)""")
    write_csv(out_dir / "rejects.csv", sorted_rejects(rejects))


@staged_outputs()   # the run's files replace the previous run's together, at the end
def link(job: Job, out_dir: str | Path, *, model_path: str | Path | None = None, chunks: int | None = None,
         con: duckdb.DuckDBPyConnection | None = None, progress: Progress | None = None,
         write_report: bool = True, truth: str | Path | None = None, incremental: bool = False,
         backend: str = "duckdb") -> LinkResult:
    """Link every record of ``job`` into identities and write the outputs to ``out_dir``.

    Identities get persistent child IDs from the job's workspace, where the run's state is saved
    (``linkage.persist``). With ``incremental``, only records new or changed since the workspace's
    last run are standardised and scored (``linkage.incremental``); the identities are those a full
    run would give.

    ``chunks`` (slices per side when scoring) defaults to one per 1,500,000 records (``score.auto_chunks``).
    ``backend="spark"`` scores the pairs on Spark (``linkage.spark``) instead of DuckDB.

    With ``truth`` (evaluation only: it is read after linking and never informs it), the run
    is also scored against it and the figures go into the report and ``evaluation.csv``.
    """
    out_dir = Path(out_dir)
    timer = PhaseTimer(progress)
    started_at = dt.datetime.now()
    if backend not in BACKENDS:
        raise ChildlinkError(f"unknown backend '{backend}' (choose from {', '.join(BACKENDS)})")
    if backend == "spark" and incremental:
        raise ChildlinkError("--incremental runs on DuckDB only; leave out --backend spark")
    check_writable(out_dir)   # before the work and the workspace update, not after
    check_job_state(job)
    timer.start("read and standardise")
    con = con or open_workspace()
    model_path = Path(model_path or job.linkage.model or DEFAULT_MODEL)
    rule_set = load_rule_set(job.linkage.blocking_rules)
    model = with_rule_set(load_model(model_path), rule_set)
    signature = run_signature(job, model_path, rule_set)
    delta = None
    if incremental:
        prepared, delta = prepare_changed(job, con, workspace_file(job), signature)
    else:
        prepared = prepare(job, con)
    table = create_model_input(con, job.reference_date)

    timer.start("score")
    model = with_prior_for(con, table, model)
    score_progress = timer.counter("score")
    if backend == "spark":   # only scoring moves to Spark; everything else stays in DuckDB
        from .spark import score_pairs_spark

        n_pairs = score_pairs_spark(con, table, model, rule_set, workspace_dir=job.workspace_dir,
                                    pair_columns=pair_columns(), progress=score_progress)
    else:
        score = score_changed_pairs if delta is not None and delta.usable else score_pairs
        n_pairs = score(con, table, model, chunks=chunks or auto_chunks(prepared.n_records),
                        progress=score_progress)

    timer.start("cluster")
    settings = ClusterSettings(match_threshold=job.linkage.match_threshold, review_band=job.linkage.review_band,
                               reference_date=job.reference_date.isoformat())
    # Officers' review decisions (if any) are must-link / cannot-link constraints; clustering once
    # without them as well tells how many changed identities.
    decisions, review_stats = load_decisions(con, job)
    if decisions:
        cluster(con, settings, out="clusters_model_only")
    stats = {**cluster(con, settings, decisions=decisions), **review_stats}
    applied = None
    if decisions:
        effect, applied = decision_effect(con, decisions, "clusters_model_only", "clusters")
        stats.update(effect)
    timer.start("identifiers and workspace")
    saved = save_run(con, job, started_at=started_at, model=model, model_path=model_path, signature=signature,
                     delta=delta, n_pairs=n_pairs, n_rejects=len(prepared.rejects), row_counts=prepared.row_counts)

    timer.start("write outputs")
    _write_outputs(con, out_dir, prepared.rejects)
    if applied is not None:
        write_csv(out_dir / "review_decisions.csv", applied)
    else:   # a previous run's list would claim decisions this run did not apply
        discard_output(out_dir / "review_decisions.csv")
    result = LinkResult(out_dir=out_dir, prepared=prepared, model=model, model_path=model_path,
                        n_pairs=n_pairs, cluster_stats=stats, timings=timer.timings, run_id=saved.run_id,
                        id_changes=saved.id_changes, delta=delta)
    if truth is not None:
        timer.start("evaluate")
        from .evaluate.run import evaluate_identities

        result.evaluation = evaluate_identities(con, "identities", Path(truth), job.reference_date)
        write_csv(out_dir / "evaluation.csv", result.evaluation.table())
    if write_report:
        timer.start("report")
        from .report import write_link_report

        write_link_report(result, out_dir / "report.html")
    timer.stop()
    return result

"""``childlink evaluate nhs-adoption``: how linkage and CME tracing improve as services record NHS numbers.

For each seed and coverage level the chosen sources are copied with exactly that share of their
records carrying an NHS number (``nhs_masking``), and the three strategies (``nhs_strategies``) link
and trace the same copies. Each is scored against the truth (``nhs_metrics``); the spread over seeds
is the spread of which records got a number. ``source_value`` adds what each source is worth to
CME tracing. Outputs in ``out_dir``:

nhs_adoption.csv           one row per seed, coverage and strategy: every figure, the masking counts
                           and the fingerprints of the inputs each strategy linked
nhs_adoption_masking.csv   per seed, coverage and chosen source: records, eligible, covered, mistyped
nhs_adoption_sources.csv   CME trace accuracy without each source (when measured)
nhs_adoption.html          charts, the tables behind them and a plain-English reading

The masked copies are personal data: they live in a work folder inside ``out_dir`` that is deleted
at the end unless ``keep_work`` is set.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import ChildlinkError
from ..job import Job, load_job
from ..outputs import write_csv
from ..prepare import prepare
from ..progress import PhaseTimer, Progress
from ..workspace import open_workspace
from .nhs_masking import (MaskPlan, draw, eligible_numbers, mask_at, masking_counts, write_job_copy,
                          write_source_copy, resolve_plan)
from .nhs_metrics import (check_truth_folder, linkage_metrics, load_identities, nhs_linked_metrics,
                          trace_metrics)
from .nhs_reading import plain_english
from .nhs_strategies import STRATEGIES, StrategyRun, run_deterministic, run_model_strategy
from .nhs_summary import full_coverage_context, summarise
from .source_value import source_marginal_value
from .truth import read_truth

WORK_FOLDER = ".nhs_adoption_work"
DEFAULT_COVERAGE = (0.0, 0.25, 0.5, 0.75, 0.95, 1.0)


@dataclass(frozen=True)
class AdoptionSettings:
    """What to evaluate: the masking plan, coverage levels, seeds and what else to run."""
    plan: MaskPlan
    coverage: tuple[float, ...] = DEFAULT_COVERAGE
    seeds: tuple[int, ...] = (1, 2, 3)
    source_value: bool = True           # also drop each source in turn and re-measure the trace
    keep_work: bool = False             # keep the masked copies and every run's outputs
    model_path: Path | None = None      # the hybrid's (and probabilistic's) model; None = the job's / default


@dataclass
class AdoptionResult:
    """Everything the what-if measured, and the files it wrote."""
    out_dir: Path
    settings: AdoptionSettings
    runs: pd.DataFrame                  # one row per seed, coverage and strategy
    summary: pd.DataFrame               # mean, low, high per strategy, coverage and figure
    masking: pd.DataFrame
    sources: pd.DataFrame | None
    context: dict
    reading: str
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def summary_text(self) -> str:
        """A few lines for the terminal: counts and shares only."""
        n = len(self.settings.coverage) * len(self.settings.seeds)
        return (f"{n} masked copies x {len(STRATEGIES)} strategies evaluated in {self.seconds:.0f}s; "
                f"outputs in {self.out_dir}\n{self.reading}")


def check_coverage(levels: tuple[float, ...]) -> tuple[float, ...]:
    """Coverage levels as sorted distinct shares in [0, 1]."""
    if not levels:
        raise ChildlinkError("give at least one coverage level")
    bad = [c for c in levels if not 0.0 <= c <= 1.0]
    if bad:
        raise ChildlinkError(f"coverage levels are shares between 0 and 1; got {bad[0]}")
    return tuple(sorted(set(float(c) for c in levels)))


def evaluate_nhs_adoption(job: Job, truth: str | Path, out_dir: str | Path, settings: AdoptionSettings,
                          progress: Progress | None = None) -> AdoptionResult:
    """Run the what-if for ``job`` and write its outputs to ``out_dir``."""
    start = time.perf_counter()
    truth, out_dir = Path(truth), Path(out_dir)
    check_truth_folder(truth)
    if not settings.seeds:
        raise ChildlinkError("give at least one seed")
    settings = replace(settings, plan=resolve_plan(job, settings.plan), coverage=check_coverage(settings.coverage),
                       seeds=tuple(dict.fromkeys(settings.seeds)))
    work = _fresh_work_folder(out_dir)
    timer = PhaseTimer(progress)
    try:
        timer.start("prepare and probabilistic run")
        with _Runner(job, truth, work, settings, progress) as runner:
            timer.stop()   # the levels and the source values report their own progress
            runs, masking = runner.all_levels(settings.coverage)
            context = runner.context
        sources = source_marginal_value(job, truth, work / "sources", model_path=settings.model_path,
                                        progress=progress) if settings.source_value else None
    finally:
        if not settings.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    timer.start("write outputs")
    summary = summarise(runs)
    reading = plain_english(summary, sources, context)
    result = AdoptionResult(out_dir, settings, runs, summary, masking, sources, context, reading)
    result.files = _write_outputs(result)
    timer.stop()
    result.seconds = time.perf_counter() - start
    return result


def _fresh_work_folder(out_dir: Path) -> Path:
    work = out_dir / WORK_FOLDER
    if work.exists():
        shutil.rmtree(work)          # our own folder from an earlier run: its copies are stale
    work.mkdir(parents=True)
    return work


class _Runner:
    """The evaluation loop: one masked copy per seed and coverage, three strategies on each."""

    def __init__(self, job: Job, truth: Path, work: Path, settings: AdoptionSettings, progress: Progress | None):
        self.job, self.truth, self.work, self.settings, self.progress = job, truth, work, settings, progress
        self.reference_date: dt.date = job.reference_date
        self.con = open_workspace()
        try:
            prepare(job, self.con)
            # The truth chooses each record's number and nothing else: only NHS numbers reach the copies.
            read_truth(self.con, truth)
            self.eligible = eligible_numbers(self.con, settings.plan)
            self.context = full_coverage_context(self.con, settings.plan, self.eligible, truth)
            self.base = self._write_base_copies()
            self.probabilistic = self._run_probabilistic()
        except BaseException:
            self.con.close()
            raise

    def __enter__(self) -> "_Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.con.close()

    def _write_base_copies(self) -> dict[str, Path]:
        """Every source copied once; the chosen ones with no NHS numbers (the masked copies replace them)."""
        empty = self.eligible.iloc[0:0].assign(nhs_number=None)
        return {spec.name: write_source_copy(self.con, self.job, spec.name, self.work / "base" / f"{spec.name}.parquet",
                                             numbers=empty if spec.name in self.settings.plan.sources else None)
                for spec in self.job.sources}

    def _run_probabilistic(self) -> tuple[StrategyRun, dict]:
        """The model without NHS numbers. Withholding every NHS number leaves the same records at every
        seed and coverage, so it runs once; every level's rows carry the inputs fingerprints that show it."""
        folder = self.work / "probabilistic"
        job_path = write_job_copy(self.job, self.base, folder / "job.yaml", withhold_nhs=True,
                                  workspace=folder / ".childlink")
        run, con = run_model_strategy("probabilistic", job_path, folder / "trace", model_path=self.settings.model_path)
        try:
            load_identities(con, run.identities, "ids_probabilistic")
            scores = linkage_metrics(con, "ids_probabilistic", self.truth, self.reference_date)
        finally:
            con.close()
        return run, scores | trace_metrics(run.trace_dir, run.identities, self.truth)

    def all_levels(self, coverage: tuple[float, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Every seed and coverage level: the scores (one row per strategy) and the masking counts."""
        rows, masking = [], []
        total, done = len(coverage) * len(self.settings.seeds), 0
        if self.progress:
            self.progress("NHS-number what-if", done, total)
        for seed in self.settings.seeds:
            seed_draw = draw(self.eligible, seed)
            for level in coverage:
                masked = mask_at(seed_draw, level, self.settings.plan)
                counts = masking_counts(self.con, self.settings.plan, self.eligible, masked)
                masking.append(counts.assign(seed=seed, coverage=level))
                rows += self._one_level(seed, level, masked, counts)
                done += 1
                if self.progress:
                    self.progress("NHS-number what-if", done, total)
        runs = pd.DataFrame(rows).sort_values(["seed", "coverage", "strategy"], ignore_index=True)
        masking_frame = pd.concat(masking, ignore_index=True)[
            ["seed", "coverage", "source", "records", "eligible", "covered", "mistyped", "undetected"]]
        return runs, masking_frame

    def _one_level(self, seed: int, level: float, masked: pd.DataFrame, counts: pd.DataFrame) -> list[dict]:
        folder = self.work / f"seed{seed}" / f"coverage{level:.3f}"
        sources = dict(self.base)
        for source in self.settings.plan.sources:
            sources[source] = write_source_copy(self.con, self.job, source, folder / f"{source}.parquet", masked)
        job_path = write_job_copy(self.job, sources, folder / "job.yaml", workspace=folder / ".childlink")
        hybrid, con = run_model_strategy("hybrid", job_path, folder / "hybrid", model_path=self.settings.model_path)
        try:
            deterministic = run_deterministic(load_job(job_path), con, folder / "deterministic")
            read_truth(con, self.truth)      # scoring only: read after every strategy has run
            rows = [self._score(con, hybrid), self._score(con, deterministic), self._score_probabilistic(con)]
        finally:
            con.close()
        if not self.settings.keep_work:
            shutil.rmtree(folder, ignore_errors=True)   # runs are large; the figures are all we keep
        masking = {"covered_records": int(counts["covered"].sum()), "eligible_records": int(counts["eligible"].sum()),
                   "mistyped_records": int(counts["mistyped"].sum()),
                   "undetected_records": int(counts["undetected"].sum())}
        return [{"seed": seed, "coverage": level} | row | masking for row in rows]

    def _score(self, con: duckdb.DuckDBPyConnection, run: StrategyRun) -> dict:
        table = load_identities(con, run.identities, f"ids_{run.strategy}")
        scores = linkage_metrics(con, table, self.truth, self.reference_date)
        scores |= nhs_linked_metrics(con, table)
        scores |= trace_metrics(run.trace_dir, run.identities, self.truth)
        return {"strategy": run.strategy} | scores | run.inputs

    def _score_probabilistic(self, con: duckdb.DuckDBPyConnection) -> dict:
        """The one probabilistic run, scored on this level's NHS-linked records."""
        run, scores = self.probabilistic
        table = load_identities(con, run.identities, "ids_probabilistic")
        return {"strategy": run.strategy} | scores | nhs_linked_metrics(con, table) | run.inputs


def _write_outputs(result: AdoptionResult) -> list[Path]:
    from ..report.nhs_adoption_report import write_nhs_adoption_report   # charts: load late

    out = result.out_dir
    files = [write_csv(out / "nhs_adoption.csv", result.runs),
             write_csv(out / "nhs_adoption_masking.csv", result.masking)]
    if result.sources is not None:
        files.append(write_csv(out / "nhs_adoption_sources.csv", result.sources))
    files.append(write_nhs_adoption_report(result, out / "nhs_adoption.html"))
    return files

"""Sources -> standardised records: the first two stages of every command.

``prepare`` reads every source of a job into the canonical ``records`` table (with rejects),
then standardises it into ``std_records``. ``validate`` runs it and summarises data quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from .job import Job
from .outputs import write_csv
from .progress import PhaseTimer, Progress
from .quality import QualitySummary, quality_summary
from .sources import load_sources, read_cme_cases, read_postcode_lookup
from .standardise import standardise_records


@dataclass
class Prepared:
    con: duckdb.DuckDBPyConnection
    job: Job
    rejects: pd.DataFrame
    row_counts: dict[str, int]
    has_cme_cases: bool
    has_postcode_lookup: bool

    @property
    def n_records(self) -> int:
        return self.con.execute("select count(*) from std_records").fetchall()[0][0]


def prepare(job: Job, con: duckdb.DuckDBPyConnection, *, progress: Progress | None = None) -> Prepared:
    """Load and standardise all sources of ``job`` into ``con`` (tables records, std_records).

    ``progress`` hears each phase as it starts and ends (``linkage.progress``).
    """
    timer = PhaseTimer(progress)
    timer.start("read sources")
    loaded = load_sources(con, job)
    timer.start("standardise")
    standardise_records(
        con, reference_date=job.reference_date,
        date_formats={s.name: s.date_format for s in job.sources},
    )
    timer.start("read CME cases and postcode lookup")
    cases = read_cme_cases(con, job)
    lookup = read_postcode_lookup(con, job)
    timer.stop()
    return Prepared(con=con, job=job, rejects=loaded.rejects, row_counts=loaded.row_counts,
                    has_cme_cases=cases is not None, has_postcode_lookup=lookup is not None)


def validate(job: Job, con: duckdb.DuckDBPyConnection, out_dir: str | Path | None = None, *,
             progress: Progress | None = None) -> QualitySummary:
    """Prepare the job's sources and summarise their data quality (no linking).

    With ``out_dir``, also write ``rejects.csv`` (every unusable row with its reason) and
    ``quality.csv`` (the summary as a table). ``progress`` hears each phase (``linkage.progress``).
    """
    prepared = prepare(job, con, progress=progress)
    timer = PhaseTimer(progress)
    timer.start("quality summary")
    summary = quality_summary(con, rejects=prepared.rejects, row_counts=prepared.row_counts)
    if out_dir is not None:
        timer.start("write rejects and quality")
        write_csv(Path(out_dir) / "rejects.csv", sorted_rejects(prepared.rejects))
        write_csv(Path(out_dir) / "quality.csv", summary.table())
    timer.stop()
    return summary


def sorted_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects in file order, as written to rejects.csv."""
    return rejects.sort_values(["source", "row_number"], kind="stable").reset_index(drop=True)

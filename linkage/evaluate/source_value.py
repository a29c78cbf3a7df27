"""What each source is worth to CME tracing: drop it, link and trace again, compare.

The job is linked and traced as it is (the hybrid strategy: the model as it is) and then once
without each source in turn. A source's marginal value is how much trace accuracy, and the share of
not-in-education children found, fall without it. The source holding the CME case records cannot
be dropped (the cases would point at nothing); it is listed with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..job import Job, load_job
from ..progress import Progress
from ..trace.run import trace_job
from ..workspace import open_workspace
from .nhs_masking import write_job_without
from .nhs_metrics import trace_metrics

ALL_SOURCES = "(none: all sources)"


def source_marginal_value(job: Job, truth: Path, work: Path, *, model_path: Path | None = None,
                          progress: Progress | None = None) -> pd.DataFrame:
    """One row per source (and one with every source): trace accuracy without it and what it adds.

    Columns: dropped, source_type, cme_trace_accuracy, not_in_education_found, accuracy_lost,
    found_lost (both in shares: with every source minus without it), note.
    """
    if progress:
        progress("source value", 0, len(job.sources) + 1)
    baseline, case_sources = _trace_without(job, None, work, model_path, truth)
    rows = [{"dropped": ALL_SOURCES, "source_type": "", **baseline, "note": ""}]
    for i, spec in enumerate(job.sources):
        if progress:
            progress("source value", i + 1, len(job.sources) + 1)
        if spec.name in case_sources:
            rows.append({"dropped": spec.name, "source_type": spec.type,
                         "note": "holds the CME case records, so it cannot be dropped"})
            continue
        scores, _ = _trace_without(job, spec.name, work, model_path, truth)
        rows.append({"dropped": spec.name, "source_type": spec.type, **scores, "note": ""})
    if progress:
        progress("source value", len(job.sources) + 1, len(job.sources) + 1)
    table = pd.DataFrame(rows)
    table["accuracy_lost"] = baseline["cme_trace_accuracy"] - table["cme_trace_accuracy"]
    table["found_lost"] = baseline["not_in_education_found"] - table["not_in_education_found"]
    return table[["dropped", "source_type", "cme_trace_accuracy", "not_in_education_found", "accuracy_lost",
                  "found_lost", "note"]]


def _trace_without(job: Job, dropped: str | None, work: Path, model_path: Path | None,
                   truth: Path) -> tuple[dict, set[str]]:
    """Trace the job without ``dropped`` (None: with every source); its scores and the case sources."""
    folder = work / (f"without_{dropped}" if dropped else "all_sources")
    job_path = write_job_without(job, dropped, folder / "job.yaml", workspace=folder / ".childlink")
    con = open_workspace()
    try:
        trace_job(load_job(job_path), folder / "trace", model_path=model_path, con=con)
        case_sources = {row[0] for row in con.execute("select distinct source from cme_cases").fetchall()}
    finally:
        con.close()
    scores = trace_metrics(folder / "trace", folder / "trace" / "link" / "identities.parquet", truth)
    return {k: scores[k] for k in ("cme_trace_accuracy", "not_in_education_found")}, case_sources

"""``childlink trace``: link (or reuse a link run), trace every CME case, write the officer's outputs.

Outputs in ``out_dir`` (contract §4 plus extensions):

cme_trace.csv                               one row per case, in risk order
cme_timeline.csv                            every dated event of each case's linked records
not_in_education.csv                        children of school age in the area with no school place
not_in_education_check.csv                  children the rules would list whom a pupil on roll may be: check first
arrived_from_abroad_not_in_education.csv    those of them who arrived from abroad
starting_school_without_place.csv           children due to start school next September with no place
trace.html                                  the officer's report
link/                                       the link run's outputs, when no run folder was given
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..errors import ChildlinkError
from ..job import Job
from ..outputs import staged_outputs
from ..progress import PhaseTimer, Progress, within
from ..workspace import open_workspace
from .exports import write_trace_csvs
from .linked import IDENTITIES, PAIRS, POSSIBLE_MATCHES, identities_from_link, identities_from_run
from .worklist import TraceTables, trace_linked


@dataclass
class TraceResult:
    out_dir: Path
    tables: TraceTables
    files: list[Path]
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One paragraph for the terminal: counts only, no personal data."""
        counts = self.tables.cases["destination"].value_counts().sort_index()
        by_destination = ", ".join(f"{n} {d}" for d, n in counts.items()) or "none"
        return (f"{len(self.tables.cases)} CME case(s) traced ({by_destination}); "
                f"{len(self.tables.not_in_education)} child(ren) not in education "
                f"({len(self.tables.arrivals)} arrived from abroad), "
                f"{len(self.tables.check_first)} more to check first (a pupil on roll may be the same child), "
                f"{len(self.tables.starting_school)} starting school without a place; "
                f"outputs in {self.out_dir} ({sum(self.timings.values()):.1f}s)")


@staged_outputs()   # the trace's files (and its link run's) replace the previous ones together
def trace_job(job: Job, out_dir: str | Path, *, run_dir: str | Path | None = None,
              model_path: str | Path | None = None, con: duckdb.DuckDBPyConnection | None = None,
              progress: Progress | None = None) -> TraceResult:
    """Trace ``job``'s CME cases and list its children not in education; write everything to ``out_dir``.

    Without ``run_dir`` the job is linked first (outputs in ``out_dir/link``, ``model_path`` as for
    ``childlink link``); with it, the job's sources are read again and the run's identities and
    pairs reused (the run must come from the same data). ``progress`` hears each phase, those of
    the link run as "link: <phase>" (``linkage.progress``).
    """
    if job.postcode_lookup is None:
        raise ChildlinkError("tracing needs the job's postcode_lookup, to tell home addresses from others",
                             file=str(job.path), column="postcode_lookup")
    out_dir = Path(out_dir)
    timer = PhaseTimer(progress)
    first = "link" if run_dir is None else "read sources and run"
    timer.start(first)
    con = _linked_workspace(job, out_dir, run_dir, model_path, con, within(progress, first))

    timer.start("trace")
    tables = trace_linked(con, home_la=job.home_la, reference_date=job.reference_date,
                          match_threshold=job.linkage.match_threshold, identities=IDENTITIES, pairs=PAIRS,
                          possible_matches=POSSIBLE_MATCHES, review_low=job.linkage.review_band[0])

    timer.start("write outputs")
    from ..report.trace_report import write_trace_report   # the report pulls in chart libraries: load late

    files = write_trace_csvs(out_dir, tables)
    files.append(write_trace_report(tables, out_dir / "trace.html", job_name=job.path.name, home_la=job.home_la,
                                    reference_date=job.reference_date,
                                    match_threshold=job.linkage.match_threshold))
    timer.stop()
    return TraceResult(out_dir=out_dir, tables=tables, files=files, timings=timer.timings)


def _linked_workspace(job: Job, out_dir: Path, run_dir, model_path, con,
                      progress: Progress | None) -> duckdb.DuckDBPyConnection:
    """A workspace holding std_records, cme_cases, postcode_lookup and the trace's identity tables."""
    if run_dir is None:
        from ..link import link   # linking pulls in Splink: only when it is needed

        result = link(job, out_dir / "link", model_path=model_path, con=con, progress=progress)
        identities_from_link(result.con, review_low=job.linkage.review_band[0])
        return result.con
    from ..prepare import prepare

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ChildlinkError("run folder not found", file=str(run_dir))
    con = con or open_workspace()
    prepare(job, con, progress=progress)
    identities_from_run(con, run_dir, review_low=job.linkage.review_band[0])
    return con

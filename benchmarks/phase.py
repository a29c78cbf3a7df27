"""Run one pipeline phase of the benchmark in a process of its own and print its figures as JSON.

``run.py`` starts one process per phase so that each phase's peak memory is its own (a
process's peak resident set size only ever grows) and so that import and start-up costs count,
as they do for a user running the command.

    python benchmarks/phase.py PHASE JOB WORK [--backend duckdb|spark] [--chunks N]

PHASE is validate, train, link or trace; WORK is the folder for the phase's outputs (the model
trained by ``train`` is ``WORK/model.json``, the link run ``WORK/link``, the trace ``WORK/trace``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MB (Linux reports KB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def validate(job, work: Path, args) -> dict:
    from linkage.prepare import validate as run_validate
    from linkage.workspace import open_workspace

    con = open_workspace()
    run_validate(job, con)
    return {"records": con.execute("select count(*) from std_records").fetchall()[0][0]}


def train(job, work: Path, args) -> dict:
    from linkage.train import train_job

    result = train_job(job, work / "model.json")
    return {"fell_back": result.fell_back, "problems": len(result.problems)}


def link(job, work: Path, args) -> dict:
    from linkage.link import link as run_link

    model = work / "model.json"
    extra = {"backend": args.backend} if args.backend != "duckdb" else {}
    result = run_link(job, work / "link", model_path=model if model.is_file() else None,
                      chunks=args.chunks or None, **extra)
    return {"records": result.prepared.n_records, "pairs": result.n_pairs, "steps": result.timings,
            "identities": result.cluster_stats["identities"]}


def trace(job, work: Path, args) -> dict:
    from linkage.trace.run import trace_job

    result = trace_job(job, work / "trace", run_dir=work / "link")
    return {"steps": dict(getattr(result, "timings", {}) or {})}


PHASES = {"validate": validate, "train": train, "link": link, "trace": trace}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=sorted(PHASES))
    parser.add_argument("job")
    parser.add_argument("work")
    parser.add_argument("--backend", default="duckdb", choices=["duckdb", "spark"])
    parser.add_argument("--chunks", type=int, default=0, help="scoring slices per side (0: chosen by link)")
    args = parser.parse_args(argv)
    from linkage.job import load_job

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    figures = PHASES[args.phase](load_job(args.job), work, args)
    figures.update(phase=args.phase, seconds_in_process=time.perf_counter() - start, peak_rss_mb=peak_rss_mb())
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()

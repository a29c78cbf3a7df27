"""The childlink benchmark suite: generate worlds, run the pipeline, record time and memory.

    python benchmarks/run.py            # 10k, 100k, 250k and 700k children
    python benchmarks/run.py --quick    # 10k and 100k (a few minutes)
    python benchmarks/run.py --sizes 10000,50000 --backend spark

For each world size it generates a synthetic world once (kept in the cache folder and reused),
then runs validate, train, link and trace, each in a fresh process (``phase.py``), and appends
one row per phase and per step of the link phase to ``results.csv``: wall seconds, peak
memory, records, pairs scored and pairs per second. ``chart.py`` draws the results.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PHASES = ("validate", "train", "link", "trace")
FULL_SIZES = (10_000, 100_000, 250_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
SEED = 1
RESULT_COLUMNS = ("run_at", "machine", "backend", "children", "records", "phase", "step", "seconds",
                  "peak_rss_mb", "pairs", "pairs_per_second")


def _childlink(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def world_for(children: int, cache: Path) -> Path:
    """The job file of a world of ``children`` children, generated into ``cache`` unless already there."""
    folder = cache / f"world_{children}_seed{SEED}"
    done = folder / ".complete"
    if not done.is_file():
        if folder.exists():
            shutil.rmtree(folder)
        print(f"  generating a world of {children:,} children ...", flush=True)
        _childlink("sample", "generate", "--children", str(children), "--seed", str(SEED), "--out", str(folder))
        done.write_text("generated\n")
    return folder / "job.yaml"


def run_phase(phase: str, job: Path, work: Path, backend: str, chunks: int) -> dict:
    """Run one phase in a fresh process; its figures plus the wall time seen from outside."""
    cmd = [sys.executable, str(HERE / "phase.py"), phase, str(job), str(work), "--backend", backend,
           "--chunks", str(chunks)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"phase {phase} failed (exit {done.returncode})")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_seconds"] = wall
    return figures


def rows_for(figures: dict, *, children: int, records: int, backend: str, run_at: str) -> list[dict]:
    """Result rows for one phase: the phase itself, then each of its steps."""
    pairs = figures.get("pairs")
    base = {"run_at": run_at, "machine": f"{platform.machine()} {os.cpu_count()} cores", "backend": backend,
            "children": children, "records": records, "phase": figures["phase"]}
    rows = [{**base, "step": "", "seconds": round(figures["wall_seconds"], 2),
             "peak_rss_mb": round(figures["peak_rss_mb"]), "pairs": pairs if pairs is not None else "",
             "pairs_per_second": ""}]
    for step, seconds in (figures.get("steps") or {}).items():
        per_second = round(pairs / seconds) if pairs and step == "score" and seconds > 0 else ""
        rows.append({**base, "step": step, "seconds": round(seconds, 2), "peak_rss_mb": "",
                     "pairs": pairs if step == "score" else "", "pairs_per_second": per_second})
    return rows


def bench_size(children: int, cache: Path, backend: str, chunks: int, run_at: str) -> list[dict]:
    job = world_for(children, cache)
    work = cache / f"work_{children}_{backend}"
    if work.exists():
        shutil.rmtree(work)
    # A fresh workspace each time: a previous run's IDs would make link a follow-up run.
    shutil.rmtree(job.parent / ".childlink", ignore_errors=True)
    results, records = [], 0
    for phase in PHASES:
        figures = run_phase(phase, job, work, backend, chunks)
        records = figures.get("records", records)
        results.append(figures)
        print(f"  {children:>9,} children  {phase:<9} {figures['wall_seconds']:7.1f} s  "
              f"{figures['peak_rss_mb']:7.0f} MB", flush=True)
    rows = [r for f in results for r in rows_for(f, children=children, records=records, backend=backend,
                                                  run_at=run_at)]
    total = sum(f["wall_seconds"] for f in results)
    peak = max(f["peak_rss_mb"] for f in results)
    rows.append({"run_at": run_at, "machine": rows[0]["machine"], "backend": backend, "children": children,
                 "records": records, "phase": "end to end", "step": "", "seconds": round(total, 2),
                 "peak_rss_mb": round(peak), "pairs": "", "pairs_per_second": ""})
    print(f"  {children:>9,} children  end to end {total:6.1f} s  peak {peak:,.0f} MB", flush=True)
    return rows


def write_results(rows: list[dict], path: Path, *, replace: bool) -> None:
    """Write (or add to) the results CSV; rows of the same backend and size are replaced."""
    kept: list[dict] = []
    if path.is_file() and not replace:
        with path.open(newline="", encoding="utf-8") as f:
            fresh = {(r["backend"], str(r["children"])) for r in rows}
            kept = [r for r in csv.DictReader(f) if (r["backend"], r["children"]) not in fresh]
    ordered = sorted(kept + rows, key=lambda r: (r["backend"], int(r["children"])))
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        writer.writerows(ordered)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the childlink benchmark suite.")
    parser.add_argument("--quick", action="store_true", help="10k and 100k children only")
    parser.add_argument("--sizes", help="comma-separated numbers of children (overrides --quick)")
    parser.add_argument("--backend", default="duckdb", choices=["duckdb", "spark"])
    parser.add_argument("--chunks", type=int, default=0, help="link --chunks (0: link chooses from the records)")
    parser.add_argument("--cache", default=str(HERE / ".cache"), help="folder for generated worlds and runs")
    parser.add_argument("--results", default=str(HERE / "results.csv"))
    parser.add_argument("--replace", action="store_true", help="start results.csv afresh")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (QUICK_SIZES if args.quick else FULL_SIZES)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    run_at = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    for children in sizes:
        rows = bench_size(children, cache, args.backend, args.chunks, run_at)
        write_results(rows, Path(args.results), replace=args.replace and children == sizes[0])
    from chart import write_chart   # benchmarks/chart.py, beside this file

    write_chart(Path(args.results), HERE / "chart.svg")
    print(f"results in {args.results}; chart in {HERE / 'chart.svg'}")


if __name__ == "__main__":
    main()

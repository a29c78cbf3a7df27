"""Performance check (not a test): incremental vs full linking, and `find`, on a 100,000-child world.

Run: cd /work/main && PYTHONPATH=.:tests/ids python tests/ids/perf_ids_incremental.py [FOLDER]
Generates the world in FOLDER (default /tmp/childlink_perf_ids; reused when present), writes v1
(1% of rows held back) and v2 (all rows), links v1 in full, then from copies of that workspace
times v2 linked incrementally and v2 linked in full; checks both give the same identities, the
same child IDs and the same pair scores; then times `find` for 20 children from the school roll.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import duckdb

from ids_world import job_in, partition, versions
from linkage.find import find_child
from linkage.link import link
from linkage.synthetic.world import generate


def timed_link(job, out: Path, incremental: bool):
    start = time.perf_counter()
    result = link(job, out, write_report=False, incremental=incremental)
    seconds = time.perf_counter() - start
    phases = ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
    print(f"  {out.name}: {seconds:.1f}s ({phases})\n    {result.summary()}")
    return seconds


def main() -> None:
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/childlink_perf_ids")
    if not (base / "world" / "job.yaml").is_file():
        generate(100_000, 7, base / "world")
    versions(base / "world", base, late=0.01)
    for ws in ("ws", "ws_full"):
        shutil.rmtree(base / ws, ignore_errors=True)
    timed_link(job_in(base / "v1", base / "ws"), base / "run_v1", False)
    shutil.copytree(base / "ws", base / "ws_full")
    incremental = timed_link(job_in(base / "v2", base / "ws"), base / "run_v2_incremental", True)
    full = timed_link(job_in(base / "v2", base / "ws_full"), base / "run_v2_full", False)
    same = partition(base / "run_v2_incremental") == partition(base / "run_v2_full")
    same_ids = ((base / "run_v2_incremental" / "identities.csv").read_bytes()
                == (base / "run_v2_full" / "identities.csv").read_bytes())
    con = duckdb.connect()
    gap = con.execute(f"""
        SELECT count(*), max(abs(a.match_probability - b.match_probability))
        FROM read_parquet('{base / "run_v2_incremental" / "pairs.parquet"}') a
        FULL JOIN read_parquet('{base / "run_v2_full" / "pairs.parquet"}') b
        USING (source_l, record_id_l, source_r, record_id_r)""").fetchall()[0]
    print(f"incremental {incremental:.1f}s vs full {full:.1f}s; same identities: {same}, same IDs: {same_ids}; "
          f"pairs {gap[0]:,}, largest probability difference {gap[1]}")

    job = job_in(base / "v2", base / "ws")
    children = con.execute(f"""
        SELECT forename, surname, dob, postcode FROM read_csv('{base / "v2" / "education.csv"}', all_varchar=true,
               ignore_errors=true)
        WHERE forename IS NOT NULL AND surname IS NOT NULL AND dob ~ '^\\d{{4}}-\\d\\d-\\d\\d$'
        ORDER BY hash(forename || surname) LIMIT 20""").fetchall()
    times = []
    for forename, surname, dob, postcode in children:
        result = find_child(job, forename=forename, surname=surname, dob=dob, postcode=postcode)
        times.append(result.seconds)
    times.sort()
    print(f"find over {len(times)} children: median {times[len(times) // 2]:.3f}s, slowest {times[-1]:.3f}s")


if __name__ == "__main__":
    main()

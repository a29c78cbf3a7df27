"""Scratch performance check (not a test): the whole trace layer after linking, 1,000 cases.

Run: cd /work/main && PYTHONPATH=. python tests/trace/perf_trace_run.py
Reuses the rules' synthetic world (100,000 identities, ~640,000 records) and adds what a link
run gives: a link confidence per record (about 1 in 10 below the threshold) and the scored pairs
touching case records. Times ``trace_linked`` plus writing the CSVs and trace.html.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import duckdb

from linkage.report.trace_report import write_trace_report
from linkage.trace.exports import write_trace_csvs
from linkage.trace.worklist import trace_linked
from perf_trace_rules import N_IDENTITIES, R, build_world


def add_link_outputs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TABLE identities AS
        SELECT *, CASE WHEN random() < 0.1 THEN 0.5 + random() * 0.45 ELSE 0.95 + random() * 0.05 END AS confidence
        FROM identities""")
    con.execute("""CREATE TABLE trace_pairs AS
        SELECT c.source AS source_l, c.record_id AS record_id_l, i.source AS source_r, i.record_id AS record_id_r,
               0.5 + random() * 0.5 AS match_probability
        FROM cme_cases c
        JOIN identities ci ON ci.source = c.source AND ci.record_id = c.record_id
        JOIN identities i ON i.identity_id = ci.identity_id AND i.record_id <> c.record_id""")


def main() -> None:
    con = duckdb.connect()
    build_world(con)
    add_link_outputs(con)
    n_records = con.execute("SELECT count(*) FROM std_records").fetchone()[0]
    print(f"world: {n_records:,} records, {N_IDENTITIES:,} identities")
    start = time.perf_counter()
    tables = trace_linked(con, identities="identities", pairs="trace_pairs", home_la="330", reference_date=R,
                          match_threshold=0.95)
    traced = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        write_trace_csvs(folder, tables)
        write_trace_report(tables, Path(folder) / "trace.html", job_name="perf", home_la="330", reference_date=R,
                           match_threshold=0.95)
        size = (Path(folder) / "trace.html").stat().st_size
    total = time.perf_counter() - start
    print(f"trace: {traced:.2f} s; with CSVs and trace.html ({size / 1e6:.1f} MB): {total:.2f} s")
    print(f"{len(tables.cases):,} cases {tables.cases.destination.value_counts().to_dict()}; "
          f"{int(tables.cases.needs_review.sum())} need review; {len(tables.timeline):,} timeline events; "
          f"{len(tables.not_in_education):,} not in education, {len(tables.arrivals):,} arrivals, "
          f"{len(tables.starting_school):,} starting school")


if __name__ == "__main__":
    main()

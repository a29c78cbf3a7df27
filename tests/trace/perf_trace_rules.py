"""Scratch performance check (not a test): 100k identities, ~600k records, 1,000 CME cases.

Run: cd /work/main && PYTHONPATH=. python tests/trace/perf_trace_rules.py
The world is random but seeded; only its size matters here.
"""

from __future__ import annotations

import datetime as dt
import time

import duckdb

from linkage.schema import CANONICAL_FIELDS, EVENT_DATE_FIELDS, KEY_COLUMNS
from linkage.trace import case_destinations, not_in_education, starting_school_without_place

N_IDENTITIES = 100_000
N_CASES = 1_000
R = dt.date(2026, 11, 1)


def build_world(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SELECT setseed(0.42)")
    date_cols = set(EVENT_DATE_FIELDS) | {"dob_date"}
    columns = list(KEY_COLUMNS) + list(CANONICAL_FIELDS) + ["dob_date", "postcode_std", "postcode_district"]
    con.execute(f"""CREATE TABLE people AS
        SELECT i AS pid, DATE '2008-01-01' + CAST(floor(random() * 6000) AS INTEGER) AS dob,
               (['B12', 'B13', 'B14', 'CV1', 'ZZ9'])[1 + CAST(floor(random() * 5) AS INTEGER)] AS district,
               DATE '2021-01-01' + CAST(floor(random() * 2000) AS INTEGER) AS t0
        FROM range({N_IDENTITIES}) t(i)""")
    # Six kinds of record per person, some optional, so about 6 records each on average.
    con.execute("""CREATE TABLE raw AS
        SELECT pid, kind, k FROM people, (SELECT unnest(['education', 'gp', 'council_tax', 'social_care',
                                                          'border', 'border', 'gp', 'council_tax']) AS kind,
                                                   generate_subscripts(['a','b','c','d','e','f','g','h'], 1) AS k)
        WHERE random() < 0.8""")
    select = []
    for c in columns:
        expr = {
            "source": "kind", "source_type": "kind", "record_id": "CAST(pid AS VARCHAR) || '-' || k",
            "row_number": "row_number() OVER ()", "dob_date": "dob",
            "postcode_std": "district || ' 1AA'", "postcode_district": "district",
            "entry_date": "CASE WHEN kind = 'education' THEN t0 END",
            "leaving_date": "CASE WHEN kind = 'education' AND random() < 0.5 THEN t0 + 300 END",
            "registration_date": "CASE WHEN kind = 'gp' THEN t0 - 100 END",
            "deregistration_date": "CASE WHEN kind = 'gp' AND random() < 0.3 THEN t0 + 200 END",
            "deregistration_reason": "CASE WHEN kind = 'gp' THEN (['embarkation', 'moved'])[1 + (pid % 2)] END",
            "occupancy_start": "CASE WHEN kind = 'council_tax' THEN t0 - 50 END",
            "occupancy_end": "CASE WHEN kind = 'council_tax' AND random() < 0.3 THEN t0 + 400 END",
            "episode_start": "CASE WHEN kind = 'social_care' THEN t0 END",
            "episode_type": "CASE WHEN kind = 'social_care' THEN 'CIN' END",
            "direction": "CASE WHEN kind = 'border' THEN (['IN', 'OUT'])[1 + CAST(k > 5 AS INTEGER)] END",
            "travel_date": "CASE WHEN kind = 'border' THEN t0 + CAST(k * 30 AS INTEGER) END",
        }.get(c, "NULL")
        cast = "DATE" if c in date_cols else "BIGINT" if c == "row_number" else "VARCHAR"
        select.append(f"CAST({expr} AS {cast}) AS \"{c}\"")
    con.execute(f"CREATE TABLE std_records AS SELECT {', '.join(select)} FROM raw JOIN people USING (pid)")
    con.execute("""CREATE TABLE identities AS
        SELECT source, record_id, split_part(record_id, '-', 1) AS identity_id FROM std_records""")
    con.execute(f"""CREATE TABLE cme_cases AS
        SELECT 'C' || lpad(CAST(row_number() OVER (ORDER BY record_id) AS VARCHAR), 5, '0') AS case_id,
               source, record_id, leaving_date + 10 AS referral_date
        FROM std_records WHERE source_type = 'education' AND leaving_date IS NOT NULL
        ORDER BY record_id LIMIT {N_CASES}""")
    con.execute("""CREATE TABLE postcode_lookup AS
        SELECT * FROM (VALUES ('B12', '330'), ('B13', '330'), ('B14', '330'), ('CV1', '331'))
               t(postcode_district, la_code)""")


def main() -> None:
    con = duckdb.connect()
    start = time.perf_counter()
    build_world(con)
    n_records = con.execute("SELECT count(*) FROM std_records").fetchone()[0]
    print(f"world: {n_records:,} records, {N_IDENTITIES:,} identities, built in {time.perf_counter() - start:.1f} s")
    for name, run in (("case_destinations", case_destinations), ("not_in_education", not_in_education),
                      ("starting_school_without_place", starting_school_without_place)):
        start = time.perf_counter()
        frame = run(con, home_la="330", reference_date=R)
        elapsed = time.perf_counter() - start
        summary = frame["destination"].value_counts().to_dict() if "destination" in frame else len(frame)
        print(f"{name}: {elapsed:.2f} s, {len(frame):,} rows, {summary}")


if __name__ == "__main__":
    main()

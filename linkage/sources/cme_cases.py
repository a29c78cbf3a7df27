"""The optional CME cases file: which records are of children referred as missing education.

Cases are few and each one matters, so any problem is a ChildlinkError naming the row and
column rather than a reject: a case silently dropped would be a child nobody traces.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ..job import Job
from ..standardise.dates import date_sql
from .reader import fail_on_rows, fail_on_unreadable_rows, missing_mask, read_fields
from .sql_values import evaluate_sql

CME_CASES_TABLE = "cme_cases"
CME_FIELDS = ("case_id", "source", "record_id", "referral_date")
LABEL = "CME cases"


def read_cme_cases(con: duckdb.DuckDBPyConnection, job: Job) -> str | None:
    """Create table ``cme_cases`` (case_id, source, record_id, referral_date DATE); None if the job has none."""
    if job.cme_cases is None:
        return None
    path = job.cme_cases
    rows = read_fields(path, label=LABEL, fields=CME_FIELDS, required=CME_FIELDS)
    fail_on_unreadable_rows(rows, label=LABEL, path=path)
    numbers = rows.row_numbers
    for field in CME_FIELDS:
        fail_on_rows(missing_mask(rows.values[field]), numbers, "is empty; every case needs a value here",
                     label=LABEL, path=path, column=field)
    frame = pd.DataFrame({f: rows.values[f].to_pandas().astype("string").reset_index(drop=True)
                          for f in ("case_id", "source", "record_id")})
    job_sources = [s.name for s in job.sources]
    fail_on_rows(~frame["source"].isin(job_sources).to_numpy(), numbers,
                 f"names a source that is not in the job (the job's sources: {', '.join(job_sources)})",
                 label=LABEL, path=path, column="source")
    fail_on_rows(frame["case_id"].duplicated().to_numpy(), numbers, "repeats a case_id of an earlier row",
                 label=LABEL, path=path, column="case_id")
    # Read as source dates are (ISO or UK day-first), so a referral date means what a record's date means.
    referral = evaluate_sql(con, rows.values["referral_date"], date_sql)
    frame["referral_date"] = referral.to_pandas(date_as_object=True)
    fail_on_rows(missing_mask(referral), numbers,
                 "is not a valid date (expected YYYY-MM-DD or DD/MM/YYYY)",
                 label=LABEL, path=path, column="referral_date")
    con.register("_childlink_cme_cases", frame)
    try:
        con.execute(f"""CREATE OR REPLACE TABLE {CME_CASES_TABLE} AS
                        SELECT CAST(case_id AS VARCHAR) AS case_id, CAST(source AS VARCHAR) AS source,
                               CAST(record_id AS VARCHAR) AS record_id, CAST(referral_date AS DATE) AS referral_date
                        FROM _childlink_cme_cases""")
    finally:
        con.unregister("_childlink_cme_cases")
    return CME_CASES_TABLE

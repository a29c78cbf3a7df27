"""The job's postcode lookup: postcode district (or full postcode) -> DfE LA code.

Keys are stored exactly as standardisation writes a record's postcode (``postcode_std``,
'SW1A 1AA') or its district (``postcode_district``, 'SW1A'), so the trace compares them as they
are. A key that does not parse is an error naming its row: a lookup row silently dropped would
leave every address in it unresolved. LA codes are 3-digit text. A district listed under two LAs
is kept twice: real districts straddle boundaries and the trace rules decide what that means.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ChildlinkError
from ..job import Job
from ..standardise.postcodes import postcode_district_sql, postcode_sql
from .columns import normalised_name
from .reader import fail_on_rows, fail_on_unreadable_rows, missing_mask, open_table_file, read_fields
from .sql_values import evaluate_sql

POSTCODE_LOOKUP_TABLE = "postcode_lookup"
KEY_FIELDS = ("postcode_district", "postcode")
LABEL = "postcode lookup"
UNPARSEABLE_KEY = {"postcode_district": "is not a postcode district (expected a form such as LS1 or SW1A)",
                   "postcode": "is not a UK postcode (expected a form such as SW1A 1AA)"}


def read_postcode_lookup(con: duckdb.DuckDBPyConnection, job: Job) -> str | None:
    """Create table ``postcode_lookup`` (postcode_district or postcode, la_code); None if the job has none."""
    if job.postcode_lookup is None:
        return None
    path = job.postcode_lookup
    table_file = open_table_file(path, LABEL)
    key = _key_field(table_file.header, path)
    rows = read_fields(path, label=LABEL, fields=(key, "la_code"), required=(key, "la_code"),
                       table_file=table_file)
    fail_on_unreadable_rows(rows, label=LABEL, path=path)
    for field in (key, "la_code"):
        fail_on_rows(missing_mask(rows.values[field]), rows.row_numbers, "is empty",
                     label=LABEL, path=path, column=field)
    keys = evaluate_sql(con, rows.values[key], _key_sql(key))
    fail_on_rows(missing_mask(keys), rows.row_numbers, UNPARSEABLE_KEY[key], label=LABEL, path=path, column=key)
    la_code = pc.utf8_lpad(rows.values["la_code"], width=3, padding="0")   # '92' -> '092'; never truncates
    fail_on_rows(~pc.match_substring_regex(la_code, r"^\d{3}$").to_numpy(zero_copy_only=False),
                 rows.row_numbers, "is not a 3-digit DfE LA code", label=LABEL, path=path, column="la_code")
    con.register("_childlink_postcode_lookup", pa.table({key: keys, "la_code": la_code}))
    try:
        con.execute(f"""CREATE OR REPLACE TABLE {POSTCODE_LOOKUP_TABLE} AS
                        SELECT DISTINCT CAST({key} AS VARCHAR) AS {key}, CAST(la_code AS VARCHAR) AS la_code
                        FROM _childlink_postcode_lookup ORDER BY {key}, la_code""")
    finally:
        con.unregister("_childlink_postcode_lookup")
    return POSTCODE_LOOKUP_TABLE


def _key_field(header: list[str], path) -> str:
    names = {normalised_name(name) for name in header}
    for key in KEY_FIELDS:
        if normalised_name(key) in names:
            return key
    raise ChildlinkError(f"{LABEL}: needs a 'postcode_district' or a 'postcode' column, and 'la_code'",
                         file=str(path), column="postcode_district")


def _key_sql(key: str):
    """SQL normalising a lookup key as standardisation normalises a record's postcode (NULL: unparseable)."""
    if key == "postcode":
        return postcode_sql
    # A district is a postcode's outward code: read it with a placeholder inward code, so that it
    # parses exactly as the district of a record's full postcode does ('ls1' -> 'LS1').
    return lambda text: postcode_district_sql(postcode_sql(f"({text} || ' 0AA')"))

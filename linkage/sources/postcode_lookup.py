"""The job's postcode lookup: postcode district (or full postcode) -> DfE LA code.

Keys are normalised the way standardisation writes postcodes (upper case; full postcodes as
'SW1A 1AA'), LA codes are 3-digit text. A district listed under two LAs is kept twice: real
districts straddle boundaries and the trace rules decide what that means.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ChildlinkError
from ..job import Job
from .columns import normalised_name
from .reader import fail_on_rows, fail_on_unreadable_rows, missing_mask, open_table_file, read_fields

POSTCODE_LOOKUP_TABLE = "postcode_lookup"
KEY_FIELDS = ("postcode_district", "postcode")
LABEL = "postcode lookup"


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
    la_code = pc.utf8_lpad(rows.values["la_code"], width=3, padding="0")   # '92' -> '092'; never truncates
    fail_on_rows(~pc.match_substring_regex(la_code, r"^\d{3}$").to_numpy(zero_copy_only=False),
                 rows.row_numbers, "is not a 3-digit DfE LA code", label=LABEL, path=path, column="la_code")
    frame = pd.DataFrame({key: _normalise_key(rows.values[key], key).to_pandas().astype("string"),
                          "la_code": la_code.to_pandas().astype("string")})
    con.register("_childlink_postcode_lookup", frame)
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


def _normalise_key(values: pa.ChunkedArray, key: str) -> pa.ChunkedArray:
    compact = pc.replace_substring_regex(pc.utf8_upper(values), pattern=r"\s+", replacement="")
    if key == "postcode":
        # 'sw1a1aa' -> 'SW1A 1AA': the inward code is always the last three characters.
        return pc.replace_substring_regex(compact, pattern=r"^(.+)(.{3})$", replacement=r"\1 \2")
    return compact

"""Postcode → LA, for deciding whether an address is in the home LA (contract §3, §4).

The job's lookup is either ``postcode_district, la_code`` or ``postcode, la_code`` (full
postcodes). Both are compared on the upper-case, no-space form. The lookup is reduced to one
row per key, ``_trace_postcode_la(key, la_code, is_home)``:

* a key listed under several LAs (a district that straddles a boundary) resolves to the home
  LA when home is one of them, otherwise to the smallest LA code. Only home / not home matters
  to the rules, and a shared district keeps the child the home LA's responsibility;
* rows with an empty key or LA code are ignored; LA codes are padded to 3 digits ("1" → "001").
"""

from __future__ import annotations

import duckdb

from ..errors import ChildlinkError
from .tables import TEMP_PREFIX, quote_table, require_columns

LOOKUP_TABLE = f"{TEMP_PREFIX}postcode_la"


def build_postcode_lookup(con: duckdb.DuckDBPyConnection, lookup: str, home_la: str) -> str:
    """Create ``_trace_postcode_la`` and return the SQL expression giving a std_records row's key.

    The returned expression refers to the std_records row as ``s``; it is NULL when the record
    has no parseable postcode (``postcode_std`` NULL), so such a record never resolves.
    """
    present = require_columns(con, lookup, ("la_code",))
    if "postcode" in present:
        key_column, record_key = "postcode", "upper(replace(s.postcode_std, ' ', ''))"
    elif "postcode_district" in present:
        key_column = "postcode_district"
        record_key = "CASE WHEN s.postcode_std IS NOT NULL THEN upper(replace(s.postcode_district, ' ', '')) END"
    else:
        raise ChildlinkError("postcode lookup needs a 'postcode_district' or a 'postcode' column",
                             file=lookup, column="postcode_district")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {LOOKUP_TABLE} AS
        WITH cleaned AS (
            SELECT upper(replace(trim(CAST({key_column} AS VARCHAR)), ' ', '')) AS key,
                   -- pad short codes only: lpad would also cut longer ones
                   CASE WHEN length(trim(CAST(la_code AS VARCHAR))) < 3
                        THEN lpad(trim(CAST(la_code AS VARCHAR)), 3, '0')
                        ELSE trim(CAST(la_code AS VARCHAR)) END AS la_code
            FROM {quote_table(lookup)}
        )
        SELECT key,
               CASE WHEN bool_or(la_code = '{home_la}') THEN '{home_la}' ELSE min(la_code) END AS la_code,
               bool_or(la_code = '{home_la}') AS is_home
        FROM cleaned
        WHERE key <> '' AND la_code <> ''
        GROUP BY key
    """)
    return record_key

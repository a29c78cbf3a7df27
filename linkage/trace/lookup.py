"""Postcode → LA, for deciding whether an address is in the home LA (contract §3, §4).

The job's lookup is either ``postcode_district, la_code`` or ``postcode, la_code`` (full
postcodes). The loader (``linkage.sources.postcode_lookup``) stores its keys exactly as
standardisation writes ``postcode_district`` and ``postcode_std``, and its LA codes as 3-digit
text, so here keys are only compared, never cleaned. The lookup is reduced to one row per key,
``_trace_postcode_la(key, la_code, is_home)``: a key listed under several LAs (a district that
straddles a boundary) resolves to the home LA when home is one of them, otherwise to the
smallest LA code. Only home / not home matters to the rules, and a shared district keeps the
child the home LA's responsibility.

A trace builds this table once (``postcode_areas``) and every step reads it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import duckdb

from ..errors import ChildlinkError
from ..standardise.sqltext import quote_table
from .tables import TEMP_PREFIX, require_columns

LOOKUP_TABLE = f"{TEMP_PREFIX}postcode_la"

# The lookup's key column -> the std_records column holding a record's key in the same form.
RECORD_KEY = {"postcode": "postcode_std", "postcode_district": "postcode_district"}


@dataclass(frozen=True)
class PostcodeAreas:
    """Proof that ``_trace_postcode_la`` exists, and how a record finds its row in it."""
    record_key: str     # the std_records column the lookup's keys match

    def join_sql(self, record: str) -> str:
        """A LEFT JOIN giving the std_records row ``record`` the columns ``pl.la_code`` and
        ``pl.is_home`` (NULL when its postcode does not resolve, or it has none)."""
        return f"LEFT JOIN {LOOKUP_TABLE} pl ON pl.key = {record}.{self.record_key}"


@contextlib.contextmanager
def postcode_areas(con: duckdb.DuckDBPyConnection, lookup: str, home_la: str) -> Iterator[PostcodeAreas]:
    """Build ``_trace_postcode_la`` from the job's lookup table for the block; drop it afterwards.

    ``home_la`` must already be checked (``tables.check_home_la``): it is written into the SQL.
    """
    key_column = _key_column(con, lookup)
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {LOOKUP_TABLE} AS
            SELECT CAST({key_column} AS VARCHAR) AS key,
                   CASE WHEN bool_or(la_code = '{home_la}') THEN '{home_la}' ELSE min(la_code) END AS la_code,
                   bool_or(la_code = '{home_la}') AS is_home
            FROM (SELECT {key_column}, CAST(la_code AS VARCHAR) AS la_code FROM {quote_table(lookup)})
            GROUP BY {key_column}
        """)
        yield PostcodeAreas(record_key=RECORD_KEY[key_column])
    finally:
        con.execute(f"DROP TABLE IF EXISTS {LOOKUP_TABLE}")


def _key_column(con: duckdb.DuckDBPyConnection, lookup: str) -> str:
    present = require_columns(con, lookup, ("la_code",))
    for column in ("postcode", "postcode_district"):
        if column in present:
            return column
    raise ChildlinkError("postcode lookup needs a 'postcode_district' or a 'postcode' column",
                         file=lookup, column="postcode_district")

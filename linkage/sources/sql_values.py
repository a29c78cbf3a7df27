"""Reading input text exactly as standardisation will: its SQL expressions, run over a column.

The loader must check a few inputs up front (CME referral dates, the postcode lookup's keys).
Running standardisation's own SQL on them, rather than a second parser, means a value is
accepted here exactly when it means the same thing downstream.
"""

from __future__ import annotations

from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa

_VIEW = "_childlink_values_to_read"


def evaluate_sql(con: duckdb.DuckDBPyConnection, values: pa.ChunkedArray,
                 expression: Callable[[str], str]) -> pa.ChunkedArray:
    """``expression(column)`` (SQL over a text column) for every value, in the order given."""
    table = pa.table({"position": pa.array(np.arange(len(values), dtype=np.int64)), "value": values})
    con.register(_VIEW, table)
    try:
        result = con.sql(f"SELECT {expression('value')} AS result FROM {_VIEW} ORDER BY position")
        return result.to_arrow_table().column("result")
    finally:
        con.unregister(_VIEW)

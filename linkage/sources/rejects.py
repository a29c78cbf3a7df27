"""Rejected rows: the input rows that cannot become records, and why (contract §2, ``rejects.csv``).

Every data row of a source ends up in exactly one of ``records`` and the rejects, so the reasons
here are the complete list of ways a row can be refused. Bad field values (dates, identifiers) are
NOT reasons: standardisation flags them and the record is still used.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

REJECT_COLUMNS = ("source", "record_id", "row_number", "reason")

MISSING_RECORD_ID = "missing record_id"
EMPTY_ROW = "empty row"                       # a blank line, or a row of empty fields (e.g. ",,,")
DUPLICATE_RECORD_ID = "duplicate record_id"   # followed by " (first seen at row N)"
UNREADABLE_ROW = "unreadable row"             # followed by ": expected N fields, found M"
NUL_BYTE = UNREADABLE_ROW + ": it holds a NUL byte (a damaged export)"


def wrong_field_count(expected: int, found: int) -> str:
    return f"{UNREADABLE_ROW}: expected {expected} fields, found {found}"


def duplicate_of(first_rows: pd.Series) -> pd.Series:
    """Reasons for duplicate record_ids, given the row where each id was first seen (vectorised)."""
    return DUPLICATE_RECORD_ID + " (first seen at row " + first_rows.astype("int64").astype(str) + ")"


# The reasons that carry row-specific detail after their fixed start.
_DETAILED_REASON = re.compile("^(" + "|".join(map(re.escape, (DUPLICATE_RECORD_ID, UNREADABLE_ROW))) + ").*$",
                              re.DOTALL)


def reason_categories(reasons: pd.Series) -> pd.Series:
    """Each reason without its row-specific detail, for counting rejects by kind (vectorised)."""
    return reasons.str.replace(_DETAILED_REASON, r"\1", regex=True)


def empty_rejects() -> pd.DataFrame:
    return reject_frame("", [], np.array([], dtype=np.int64), [])


def reject_frame(source: str, record_ids, row_numbers, reasons) -> pd.DataFrame:
    """A rejects frame in contract column order; ``record_ids`` may hold None where unknown."""
    frame = pd.DataFrame({
        "source": pd.Series([source] * len(row_numbers), dtype="string"),
        "record_id": pd.Series(list(record_ids), dtype="string"),
        "row_number": pd.Series(np.asarray(row_numbers, dtype=np.int64), dtype="int64"),
        "reason": pd.Series(list(reasons), dtype="string"),
    })
    return frame[list(REJECT_COLUMNS)]

"""Cleaning field text: trim, turn blanks and placeholders into NULL, tidy enumerated values.

All functions work on whole Arrow columns at once (vectorised), never row by row. Everything
that is not missing is kept exactly as written: a value such as ``=HYPERLINK(...)`` is data, and
only output writers make it spreadsheet-safe.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import pyarrow as pa
import pyarrow.compute as pc

MISSING_VALUES_FILE = Path(__file__).with_name("missing_values.csv")

TextColumn = pa.Array | pa.ChunkedArray


@lru_cache(maxsize=1)
def missing_placeholders() -> pa.Array:
    """Lower-case placeholders that mean "no value" (from missing_values.csv)."""
    with MISSING_VALUES_FILE.open(encoding="utf-8", newline="") as handle:
        values = [row["value"].strip().lower() for row in csv.DictReader(handle)]
    return pa.array(sorted(set(values)), pa.string())


def clean_text(values: TextColumn) -> pa.ChunkedArray:
    """Trim Unicode whitespace and Excel's leading apostrophe; NULL for empty text and
    placeholders (case-insensitive).

    A leading apostrophe is how Excel (and exports meant for it) mark a cell as text so that
    '0123 keeps its zero and '2015-03-01 stays as written; it is not part of the value, so
    '9434765919 is read as 9434765919. Only the first one is removed.
    """
    trimmed = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_trim_whitespace(values), "^'", ""))
    placeholder = pc.is_in(pc.utf8_lower(trimmed), value_set=missing_placeholders())
    missing = pc.or_(pc.equal(trimmed, ""), placeholder)
    cleaned = pc.if_else(missing, pa.scalar(None, pa.string()), trimmed)
    return cleaned if isinstance(cleaned, pa.ChunkedArray) else pa.chunked_array([cleaned])


def canonical_choice(values: TextColumn, allowed: Sequence[str]) -> pa.ChunkedArray:
    """Spell values of an enumerated field as the contract does ('OUT', 'gone_away').

    A value equal to an allowed one ignoring case, spaces and hyphens is replaced by the allowed
    spelling; anything else is left exactly as it was, for the quality summary to count.
    """
    key = pc.replace_substring_regex(pc.utf8_lower(values), pattern=r"[\s\-]+", replacement="_")
    index = pc.index_in(key, value_set=pa.array([a.lower() for a in allowed], pa.string()))
    spelled = pc.take(pa.array(list(allowed), pa.string()), index)
    chosen = pc.coalesce(spelled, values)
    return chosen if isinstance(chosen, pa.ChunkedArray) else pa.chunked_array([chosen])

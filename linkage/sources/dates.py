"""Parsing the few dates the readers must check themselves (CME referral dates).

Source dates are parsed by standardisation; here only inputs that must be right up front.
Accepted: ISO ``YYYY-MM-DD`` or UK ``DD/MM/YYYY`` (day and month may be one digit).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

ISO_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
UK_PATTERN = r"^\d{1,2}/\d{1,2}/\d{4}$"


def parse_iso_or_uk(values: pa.ChunkedArray) -> pd.Series:
    """Dates (datetime64) for ISO or UK text; NaT where missing, malformed or impossible (31/02)."""
    text = values.to_pandas().astype("string").reset_index(drop=True)
    iso = pd.to_datetime(text.where(text.str.fullmatch(ISO_PATTERN).fillna(False)),
                         format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(text.where(text.str.fullmatch(UK_PATTERN).fillna(False)),
                        format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk)

"""Dates as SQL: parse text dates in DuckDB, per source, with a job format or by detection.

Detection accepts ISO ``YYYY-MM-DD`` and UK ``D/M/YYYY`` (separators '/', '-' or '.'), each
optionally followed by a time; the two never clash because the year comes first in one and
last in the other. A job's ``date_format`` wins for its source, with ISO as a fallback.
Impossible dates (31/02) and years before 1900 (a two-digit year read as year 20) give NULL,
which standardisation flags as a bad date.

Excel serial numbers: a date cell saved from a column formatted as a number arrives as its
serial ('42064' is 2015-03-01). A bare whole number from 10000 to 99999 is read as a serial of
Excel's 1900 date system (the default of every current Excel): 1927-05-18 to 2173-10-13, which
spans every child's date and no other date form accepted here is 5 digits long, so nothing else
is misread. Any other bare number ('42064.5', '4206', '20150301') is NULL, flagged as a bad date.
(A workbook on the old Mac 1904 date system would be read 4 years early: a known limit.)
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from ..errors import ChildlinkError
from .sqltext import literal

EARLIEST_YEAR = 1900

# Four-digit years from 1900 on; earlier years are taken as keying errors, not dates.
_YEAR = r"(19\d{2}|[2-9]\d{3})"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
_ISO = r"^" + _YEAR + r"-(\d{1,2})-(\d{1,2})" + _TIME + "$"
_UK = r"^(\d{1,2})[/.-](\d{1,2})[/.-]" + _YEAR + _TIME + "$"
_EXCEL_SERIAL = r"^[1-9]\d{4}$"
_EXCEL_DAY_ZERO = "1899-12-30"      # serial 1 is 1900-01-01 and Excel counts a 29 Feb 1900 that never was
_ISO_ORDER = r"\1-\2-\3"
_UK_TO_ISO_ORDER = r"\3-\2-\1"


def _when_matches(text: str, pattern: str, replacement: str) -> str:
    """A CASE branch rewriting a matching text as 'YYYY-M-D'."""
    return (f"WHEN regexp_full_match({text}, {literal(pattern)}) "
            f"THEN regexp_replace({text}, {literal(pattern)}, {literal(replacement)})")


def _iso_date(text: str) -> str:
    return f"TRY_CAST((CASE {_when_matches(text, _ISO, _ISO_ORDER)} END) AS DATE)"


def _excel_serial_date(text: str) -> str:
    """The date of a 5-digit Excel serial number (see the module docstring), else NULL."""
    return (f"(CASE WHEN regexp_full_match({text}, {literal(_EXCEL_SERIAL)}) "
            f"THEN DATE '{_EXCEL_DAY_ZERO}' + CAST({text} AS INTEGER) END)")


def _detected_date(text: str) -> str:
    branches = _when_matches(text, _ISO, _ISO_ORDER) + " " + _when_matches(text, _UK, _UK_TO_ISO_ORDER)
    return f"COALESCE(TRY_CAST((CASE {branches} END) AS DATE), {_excel_serial_date(text)})"


def _formatted_date(text: str, date_format: str) -> str:
    parsed = f"CAST(try_strptime({text}, {literal(date_format)}) AS DATE)"
    plausible = f"CASE WHEN year({parsed}) >= {EARLIEST_YEAR} THEN {parsed} END"
    return f"COALESCE({plausible}, {_iso_date(text)}, {_excel_serial_date(text)})"


def date_sql(text: str, date_formats: Mapping[str, str | None] | None = None,
             source_column: str = "source") -> str:
    """SQL for the DATE written in the text expression ``text`` (NULL when it cannot be parsed).

    ``date_formats`` maps a value of ``source_column`` to a strptime format (None = detect).
    """
    by_source = {s: f for s, f in (date_formats or {}).items() if f}
    if not by_source:
        return _detected_date(text)
    branches = " ".join(f"WHEN {literal(s)} THEN {_formatted_date(text, f)}"
                        for s, f in sorted(by_source.items()))
    return f"(CASE {source_column} {branches} ELSE {_detected_date(text)} END)"


def check_date_formats(con: duckdb.DuckDBPyConnection,
                       date_formats: Mapping[str, str | None] | None) -> None:
    """Raise ChildlinkError for a job date format DuckDB cannot use, naming the source."""
    for source, date_format in (date_formats or {}).items():
        if date_format is None:
            continue
        if not isinstance(date_format, str) or "%" not in date_format:
            raise ChildlinkError(f"date_format for source '{source}' is not a strptime format "
                                 "such as %d/%m/%Y", column="date_format")
        try:
            con.execute("SELECT try_strptime('2000-01-01', ?)", [date_format]).fetchall()
        except duckdb.Error:
            raise ChildlinkError(f"date_format for source '{source}' is not understood "
                                 "(use strptime codes such as %d/%m/%Y)",
                                 column="date_format") from None

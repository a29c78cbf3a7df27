"""Dates as integer day numbers (days since 1970-01-01), the generator's one date currency.

Integers make the world's arithmetic (spells, gaps, comparisons, ``merge_asof``) plain numpy.
``OPEN`` marks a date that has not happened (an open enrolment, a live registration); it sorts
after every real date and is written out as an empty field.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

OPEN = 10_000_000            # far beyond any real date; "not yet" / "still open"
_EPOCH = dt.date(1970, 1, 1)


def day(date: dt.date) -> int:
    """Day number of a date."""
    return (date - _EPOCH).days


def years_before(date: dt.date, years: int) -> dt.date:
    """The same calendar date ``years`` earlier (29 February becomes 28 February)."""
    try:
        return date.replace(year=date.year - years)
    except ValueError:
        return date.replace(year=date.year - years, day=28)


def split(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day arrays of day numbers."""
    d64 = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, dom


def compose(year: np.ndarray, month: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Day numbers of (valid) year/month/day arrays."""
    months = (np.asarray(year, np.int64) - 1970) * 12 + np.asarray(month, np.int64) - 1
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + np.asarray(dom, np.int64) - 1


def month_length(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Days in each month."""
    first = compose(year, month, np.ones_like(np.asarray(year)))
    nxt = compose(np.where(month == 12, year + 1, year), np.where(month == 12, 1, month + 1),
                  np.ones_like(np.asarray(year)))
    return nxt - first


def iso(days: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` strings; empty where the date is OPEN."""
    days = np.asarray(days, dtype=np.int64)
    text = np.datetime_as_string(np.where(days >= OPEN, 0, days).astype("datetime64[D]"), unit="D")
    return np.where(days >= OPEN, "", text).astype(object)


def uk(days: np.ndarray) -> np.ndarray:
    """``DD/MM/YYYY`` strings; empty where the date is OPEN."""
    text = pd.Series(iso(days), dtype=object).astype(str)
    uk_text = text.str.slice(8, 10) + "/" + text.str.slice(5, 7) + "/" + text.str.slice(0, 4)
    return np.where(text == "", "", uk_text).astype(object)


def uniform(rng: np.random.Generator, low, high) -> np.ndarray:
    """Random day numbers (or day counts) in [low, high], element-wise; high < low gives low."""
    low = np.asarray(low, dtype=np.int64)
    high = np.maximum(np.asarray(high, dtype=np.int64), low)
    return low + np.floor(rng.random(np.broadcast(low, high).shape) * (high - low + 1)).astype(np.int64)


def reception_year(dob: np.ndarray) -> np.ndarray:
    """Calendar year in whose September a child starts Reception (age 4 on 31 August)."""
    year, month, _ = split(dob)
    return year + 4 + (month >= 9)


def academic_year(days: np.ndarray) -> np.ndarray:
    """Calendar year in which the academic year containing the date began (September)."""
    year, month, _ = split(days)
    return year - (month < 9)


def year_group(dob: np.ndarray, at: np.ndarray) -> np.ndarray:
    """National curriculum year at a date: 0 = Reception, 1 = Year 1, ..., negative = pre-school."""
    return academic_year(at) - reception_year(dob)

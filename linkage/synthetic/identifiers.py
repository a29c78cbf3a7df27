"""Synthetic identifiers: NHS numbers, UPNs, UPRNs and passport numbers, all vectorised.

The check-digit and check-letter arithmetic is the project's own (``linkage.standardise``),
so generated identifiers are valid by exactly the rule the linkage applies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ChildlinkError
from ..standardise.identifiers import nhs_check_digits, upn_check_letters, UPN_LETTERS

NHS_TEST_PREFIX = 999_000_000        # synthetic NHS numbers use the never-issued 999 range
_NHS_TEST_STEMS = 1_000_000
# Worlds too big for the 999 range (about 909,000 valid numbers) draw from 990-999 instead: the
# whole 9xx block is "not to be issued" (UK_DATA.md, NHS number ranges). Smaller worlds keep the
# 999 range so that existing seeds give the same numbers as before.
NHS_WIDE_PREFIX = 990_000_000
_NHS_WIDE_STEMS = 10_000_000


def nhs_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct valid 10-digit NHS numbers in the never-issued 999 (or 990-999) range, as text."""
    if count == 0:
        return np.array([], dtype=object)
    # About 1 stem in 11 has no valid check digit, so draw a margin and keep the first valid ones.
    draw = int(count * 1.2) + 100
    prefix, stems_available = ((NHS_TEST_PREFIX, _NHS_TEST_STEMS) if draw <= _NHS_TEST_STEMS
                               else (NHS_WIDE_PREFIX, _NHS_WIDE_STEMS))
    stems = prefix + rng.choice(stems_available, size=min(draw, stems_available), replace=False)
    checks = nhs_check_digits(stems)
    keep = checks >= 0
    if keep.sum() < count:
        raise ChildlinkError(f"cannot make {count} distinct test-range NHS numbers; use fewer children")
    numbers = (stems[keep] * 10 + checks[keep])[:count]
    return pd.Series(numbers).astype(str).to_numpy(dtype=object)


def mistype_digit(rng: np.random.Generator, values: np.ndarray, first: int, last: int) -> np.ndarray:
    """Each value with one digit at a position in [first, last] replaced by a different digit.

    A single substitution is always caught by the NHS mod-11 and the UPN mod-23 checks, so
    the result is an invalid identifier that still looks plausible.
    """
    values = pd.Series(values, dtype=object).astype(str)
    if values.empty:
        return values.to_numpy(dtype=object)
    pos = rng.integers(first, last + 1, size=len(values))
    codes = np.frombuffer("".join(values).encode("ascii"), dtype=np.uint8).reshape(len(values), -1).copy()
    rows = np.arange(len(values))
    current = codes[rows, pos] - ord("0")
    replacement = (current + rng.integers(1, 10, size=len(values))) % 10
    codes[rows, pos] = replacement + ord("0")
    return np.array(codes.view(f"S{codes.shape[1]}").ravel().astype(str), dtype=object)


def upns(la_code: np.ndarray, estab: np.ndarray, year2: np.ndarray, serial: np.ndarray,
         temporary: np.ndarray | None = None, temp_letter: np.ndarray | None = None) -> np.ndarray:
    """UPNs from their parts (UK_DATA.md §2): check letter + LA + establishment + year + serial.

    A temporary UPN has a 2-digit serial and a final letter instead of the 3-digit serial.
    """
    la = pd.Series(la_code, dtype=object).astype(str).str.zfill(3)
    est = pd.Series(np.asarray(estab, dtype=np.int64)).astype(str).str.zfill(4)
    yr = pd.Series(np.asarray(year2, dtype=np.int64) % 100).astype(str).str.zfill(2)
    ser = np.asarray(serial, dtype=np.int64)
    permanent = pd.Series(ser % 1000).astype(str).str.zfill(3)
    if temporary is not None:
        temp = pd.Series(ser % 100).astype(str).str.zfill(2) + pd.Series(temp_letter, dtype=object).astype(str)
        tail = permanent.where(~pd.Series(np.asarray(temporary, bool)), temp)
    else:
        tail = permanent
    body = (la + est + yr + tail).to_numpy(dtype=str)
    return np.char.add(upn_check_letters(body), body).astype(object)


def temporary_letters(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random final letters for temporary UPNs (the check-letter alphabet)."""
    return np.array(list(UPN_LETTERS), dtype=object)[rng.integers(0, len(UPN_LETTERS), size=count)]


def uprns(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct UPRNs of 9 to 12 digits (integers), as older and newer LLPGs issue them."""
    lengths = rng.choice([9, 10, 11, 12], p=[0.15, 0.25, 0.45, 0.15], size=count)
    values = np.zeros(count, dtype=np.int64)
    for digits in (9, 10, 11, 12):          # four length bands, each drawn without repeats
        idx = np.flatnonzero(lengths == digits)
        low = 10 ** (digits - 1)
        values[idx] = low + rng.choice(9 * low, size=idx.size, replace=False)
    return values


def passport_numbers(rng: np.random.Generator, nationality: np.ndarray) -> np.ndarray:
    """Distinct passport numbers: 9 digits for GBR, two letters and 7 digits otherwise."""
    count = len(nationality)
    digits = pd.Series(100_000_000 + rng.choice(900_000_000, size=count, replace=False)).astype(str)
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"), dtype=object)
    prefix = letters[rng.integers(0, len(letters), count)] + letters[rng.integers(0, len(letters), count)]
    foreign = pd.Series(prefix) + pd.Series(rng.choice(10_000_000, size=count, replace=False)).astype(str).str.zfill(7)
    is_gbr = pd.Series(nationality, dtype=object) == "GBR"
    return digits.where(is_gbr, foreign).to_numpy(dtype=object)

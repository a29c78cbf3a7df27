"""Identifiers: NHS number, UPN and UPRN checks, in Python, numpy and DuckDB SQL.

The three forms of each check implement the same rule (UK_DATA.md §1, §2, §6) and are tested
against each other: Python for single values, numpy for the synthetic generator, SQL for the
set-based standardisation.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .reference import read_reference
from .sqltext import literal, literal_array

# ---------------------------------------------------------------- NHS number (mod 11)
NHS_WEIGHTS = np.arange(10, 1, -1)          # 10, 9, ..., 2 on digits 1..9
# Spaces (any ASCII white space) and hyphens; the SQL uses the same character class.
_NHS_SEPARATORS_CLASS = r"[ \t\n\r\f\v-]"
_NHS_SEPARATORS = re.compile(_NHS_SEPARATORS_CLASS)
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_NINE_DIGITS = re.compile(r"[0-9]{9}")


def nhs_check_digit(stem9: str) -> int | None:
    """Check digit for a 9-digit stem, or None when the stem has no valid one (remainder 10)."""
    if not isinstance(stem9, str) or not _NINE_DIGITS.fullmatch(stem9):
        return None
    total = sum(int(d) * w for d, w in zip(stem9, NHS_WEIGHTS.tolist()))
    check = (11 - total % 11) % 11           # 11 -> 0
    return None if check == 10 else check


def normalise_nhs_number(s: str | None) -> str | None:
    """Remove spaces and hyphens ('943 476 5919' -> '9434765919')."""
    return None if s is None else _NHS_SEPARATORS.sub("", str(s))


def nhs_number_is_valid(s: str | None) -> bool:
    """True for 10 digits (spaces/hyphens allowed) whose last digit is the mod-11 check digit."""
    n = normalise_nhs_number(s)
    return bool(n and _TEN_DIGITS.fullmatch(n)) and nhs_check_digit(n[:9]) == int(n[9])


def nhs_check_digits(stems: np.ndarray) -> np.ndarray:
    """Vectorised nhs_check_digit for integer stems 0..999,999,999; -1 where none is valid."""
    stems = np.asarray(stems, dtype=np.int64)
    if stems.size and (stems.min() < 0 or stems.max() > 999_999_999):
        raise ValueError("NHS number stems must be integers from 0 to 999,999,999")
    digits = (stems[..., None] // 10 ** np.arange(8, -1, -1, dtype=np.int64)) % 10
    check = (11 - (digits @ NHS_WEIGHTS) % 11) % 11
    return np.where(check == 10, -1, check)


# An NHS number Excel wrote in scientific notation ('9.43477E+09') has lost its last digits: it
# is not 10 digits after cleaning, so it is flagged invalid_nhs_number and never used, rather than
# guessed back into a number that may be someone else's. Forms that still hold every digit
# ('9.434765919E+09', '9434765919.0') are treated the same: one rule, and the flag tells the LA
# to fix the export's column format.
def nhs_clean_sql(text: str) -> str:
    """SQL: the text without spaces and hyphens."""
    return f"regexp_replace({text}, {literal(_NHS_SEPARATORS_CLASS)}, '', 'g')"


def nhs_valid_sql(clean: str) -> str:
    """SQL: TRUE when the cleaned text (see nhs_clean_sql) is a valid NHS number."""
    total = " + ".join(f"(ascii(substr({clean}, {i}, 1)) - 48) * {11 - i}" for i in range(1, 10))
    return (f"(regexp_full_match({clean}, '[0-9]{{10}}') "
            f"AND (11 - ({total}) % 11) % 11 = ascii(substr({clean}, 10, 1)) - 48)")


# ---------------------------------------------------------------- UPN (mod 23 check letter)
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"     # A-Z without I, O, S: values 0..22
UPN_PATTERN = r"^[A-HJ-NP-RT-Z][0-9]{12}$|^[A-HJ-NP-RT-Z][0-9]{11}[A-HJ-NP-RT-Z]$"
_UPN = re.compile(UPN_PATTERN)
_UPN_BODY = re.compile(r"[0-9]{11}[0-9A-HJ-NP-RT-Z]")
_WHITESPACE_CLASS = r"[ \t\n\r\f\v]"
_WHITESPACE = re.compile(_WHITESPACE_CLASS)
_UPN_WEIGHTS = np.arange(2, 14)             # character positions 2..13


@lru_cache(maxsize=1)
def valid_la_codes() -> frozenset[str]:
    """DfE LA codes allowed in UPN characters 2-4 (data/la_codes.csv, incl. pseudo and Welsh)."""
    return frozenset(row["la_code"] for row in read_reference("la_codes.csv"))


def _upn_char_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else UPN_LETTERS.index(ch)


def upn_check_letter(body12: str) -> str:
    """Check letter for UPN characters 2-13 (11 digits then a digit or a temporary-UPN letter)."""
    if not isinstance(body12, str) or not _UPN_BODY.fullmatch(body12):
        raise ValueError("a UPN body is 11 digits followed by a digit or a letter (not I, O, S)")
    total = sum(_upn_char_value(ch) * pos for pos, ch in enumerate(body12, start=2))
    return UPN_LETTERS[total % 23]


# A UPN is ASCII, so only a-z are upper-cased: Unicode case rules differ between Python and
# DuckDB ('ß' -> 'SS' or 'ẞ'), and the two forms of the rule must agree on any text.
_ASCII_LOWER, _ASCII_UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TO_ASCII_UPPER = str.maketrans(_ASCII_LOWER, _ASCII_UPPER)


def normalise_upn(s: str | None) -> str | None:
    """Upper-case (a-z only) without whitespace."""
    return None if s is None else _WHITESPACE.sub("", str(s)).translate(_TO_ASCII_UPPER)


def upn_is_valid(s: str | None) -> bool:
    """True for a well-formed UPN with the right check letter and a known LA code."""
    u = normalise_upn(s)
    return bool(u and _UPN.fullmatch(u)) and upn_check_letter(u[1:]) == u[0] and u[1:4] in valid_la_codes()


def upn_is_temporary(s: str | None) -> bool:
    """True for a valid UPN that ends in a letter (a school's temporary UPN)."""
    return upn_is_valid(s) and normalise_upn(s)[-1].isalpha()


@lru_cache(maxsize=1)
def _upn_value_table() -> np.ndarray:
    table = np.full(256, -1, dtype=np.int64)
    table[ord("0"):ord("9") + 1] = np.arange(10)
    for value, letter in enumerate(UPN_LETTERS):
        table[ord(letter)] = value
    return table


def upn_check_letters(bodies: np.ndarray) -> np.ndarray:
    """Vectorised upn_check_letter over an array of 12-character bodies; array of letters."""
    bodies = np.asarray(bodies, dtype=str)
    raw = np.char.encode(bodies, "ascii").astype("S12") if bodies.size else np.empty(0, "S12")
    lengths = np.char.str_len(bodies)
    codes = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 12)
    values = _upn_value_table()[codes]
    digits_ok = (values[:, :11] >= 0) & (values[:, :11] <= 9)
    if bodies.size and (np.any(lengths != 12) or not digits_ok.all() or np.any(values[:, 11] < 0)):
        raise ValueError("a UPN body is 11 digits followed by a digit or a letter (not I, O, S)")
    letters = np.array(list(UPN_LETTERS))
    return letters[(values @ _UPN_WEIGHTS) % 23].reshape(bodies.shape)


def upn_clean_sql(text: str) -> str:
    """SQL: the text upper-cased (a-z only) without whitespace."""
    return (f"translate(regexp_replace({text}, {literal(_WHITESPACE_CLASS)}, '', 'g'), "
            f"{literal(_ASCII_LOWER)}, {literal(_ASCII_UPPER)})")


def upn_valid_sql(clean: str) -> str:
    """SQL: TRUE when the cleaned text (see upn_clean_sql) is a valid UPN."""
    def value(pos: int) -> str:
        ch = f"substr({clean}, {pos}, 1)"
        # ascii() never fails, so the sum is safe to compute before the pattern is known good.
        letter_value = f"strpos({literal(UPN_LETTERS)}, {ch}) - 1"
        return f"(CASE WHEN {ch} BETWEEN '0' AND '9' THEN ascii({ch}) - 48 ELSE {letter_value} END)"
    total = " + ".join(f"{value(pos)} * {pos}" for pos in range(2, 14))
    return (f"(regexp_full_match({clean}, {literal(UPN_PATTERN)}) "
            f"AND list_contains({literal_array(sorted(valid_la_codes()))}, substr({clean}, 2, 3)) "
            f"AND substr({literal(UPN_LETTERS)}, ({total}) % 23 + 1, 1) = substr({clean}, 1, 1))")


# ---------------------------------------------------------------- UPRN
MAX_UPRN = 999_999_999_999                   # up to 12 digits
_DIGITS = re.compile(r"[0-9]+")


def uprn_value(s: str | None) -> int | None:
    """UPRN by integer value ('000000199356' -> 199356); None unless 1..999,999,999,999."""
    if s is None:
        return None
    text = str(s).strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_UPRN else None


def uprn_sql(text: str) -> str:
    """SQL: the BIGINT UPRN of the trimmed text expression, NULL when not a valid UPRN."""
    significant = f"ltrim({text}, '0')"
    return (f"(CASE WHEN regexp_full_match({text}, '[0-9]+') "
            f"AND length({significant}) BETWEEN 1 AND 12 THEN CAST({significant} AS BIGINT) END)")

"""Sex codes: M/F from the codings sources use (data/sex_codes.csv).

M/F/U, male/female and the social care coding 1 male, 2 female, 0 not recorded, 9
indeterminate. Codes that mean "not known" give NULL; anything unrecognised also gives NULL
but is flagged ``bad_sex``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .reference import read_reference
from .sqltext import literal, literal_array


@lru_cache(maxsize=1)
def sex_codes() -> dict[str, str | None]:
    """Upper-case code -> 'M', 'F' or None (a recognised 'not known' code)."""
    return {row["code"]: (row["sex"] or None) for row in read_reference("sex_codes.csv")}


_WHITESPACE_RUN = re.compile(r"[ \t\n\r\f\v]+")
# Codes are ASCII, so only a-z are upper-cased: Python and DuckDB upper-case other letters
# differently ('ﬁ' -> 'FI' in Python only), and the two forms of the rule must agree.
_ASCII_LOWER, _ASCII_UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TO_ASCII_UPPER = str.maketrans(_ASCII_LOWER, _ASCII_UPPER)


def _key(s: str) -> str:
    """Upper case, white space runs as one space, trimmed (as _key_sql)."""
    return _WHITESPACE_RUN.sub(" ", str(s)).strip(" ").translate(_TO_ASCII_UPPER)


def parse_sex(s: str | None) -> str | None:
    """'M', 'F' or None for a recorded sex ('female' -> 'F', '1' -> 'M', 'U' -> None)."""
    return None if s is None else sex_codes().get(_key(s))


def sex_is_recognised(s: str | None) -> bool:
    """False for a non-empty value that is not a known sex code (the ``bad_sex`` flag)."""
    return s is None or not _key(s) or _key(s) in sex_codes()


def _key_sql(text: str) -> str:
    # trim(x, ' '): DuckDB's trim(x) also strips Unicode spaces, which _key keeps.
    collapsed = f"trim(regexp_replace({text}, '[ \\t\\n\\r\\f\\v]+', ' ', 'g'), ' ')"
    return f"translate({collapsed}, {literal(_ASCII_LOWER)}, {literal(_ASCII_UPPER)})"


def sex_sql(text: str) -> str:
    """SQL: 'M', 'F' or NULL for the text expression."""
    branches = " ".join(f"WHEN {literal(code)} THEN {literal(sex) if sex else 'NULL'}"
                        for code, sex in sorted(sex_codes().items()))
    return f"(CASE {_key_sql(text)} {branches} END)"


def sex_unrecognised_sql(text: str) -> str:
    """SQL: TRUE when the (non-NULL) text is not a known sex code."""
    codes = literal_array(sorted(sex_codes()))
    # Blank text is missing, not unrecognised (as sex_is_recognised says).
    return f"({text} IS NOT NULL AND {_key_sql(text)} <> '' AND NOT list_contains({codes}, {_key_sql(text)}))"

"""UK postcodes: normalise to 'SW1A 1AA' form and split into sector, district and area.

The Python and SQL versions implement the same rule (UK_DATA.md §3.2) and are tested against
each other: keep only ASCII letters and digits, upper-case, accept 5-7 characters, put a
space before the last three, then check the loose pattern. One keying slip is repaired: the
first character of the inward code must be a digit, so a letter O or I there is read as 0 or 1
('B1 OAA' -> 'B1 0AA'). Nothing else is guessed.
"""

from __future__ import annotations

import re

from .sqltext import literal

LOOSE_POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$"
_LOOSE = re.compile(LOOSE_POSTCODE)
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
# Letters keyed for the digit that must open the inward code.
_INWARD_DIGIT_LOOKALIKES = str.maketrans("OI", "01")


def normalise_postcode(s: str | None) -> str | None:
    """'sw1a1aa', ' SW1A-1AA ' -> 'SW1A 1AA'; None when it is not a UK postcode shape."""
    if s is None:
        return None
    compact = _NOT_ALNUM.sub("", str(s)).upper()
    if not 5 <= len(compact) <= 7:
        return None
    outward, inward = compact[:-3], compact[-3:]
    candidate = f"{outward} {inward[0].translate(_INWARD_DIGIT_LOOKALIKES)}{inward[1:]}"
    return candidate if _LOOSE.fullmatch(candidate) else None


def postcode_parts(pc: str | None) -> tuple[str | None, str | None, str | None]:
    """(sector, district, area) of a normalised postcode: ('SW1A 1', 'SW1A', 'SW')."""
    if not pc:
        return None, None, None
    district, inward = pc.split(" ")
    return f"{district} {inward[0]}", district, re.match(r"[A-Z]+", district).group(0)


def postcode_sql(text: str) -> str:
    """SQL for the normalised postcode of the text expression, NULL when unparseable."""
    compact = f"upper(regexp_replace({text}, '[^A-Za-z0-9]', '', 'g'))"
    candidate = (f"CASE WHEN length({compact}) BETWEEN 5 AND 7 THEN "
                 f"left({compact}, length({compact}) - 3) || ' ' || "
                 f"translate(substr({compact}, length({compact}) - 2, 1), 'OI', '01') || "
                 f"right({compact}, 2) END")
    return f"(CASE WHEN regexp_full_match({candidate}, {literal(LOOSE_POSTCODE)}) THEN {candidate} END)"


def postcode_sector_sql(pc: str) -> str:
    """SQL: 'SW1A 1AA' -> 'SW1A 1'."""
    return f"left({pc}, length({pc}) - 2)"


def postcode_district_sql(pc: str) -> str:
    """SQL: 'SW1A 1AA' -> 'SW1A'."""
    return f"split_part({pc}, ' ', 1)"


def postcode_area_sql(pc: str) -> str:
    """SQL: 'SW1A 1AA' -> 'SW'."""
    return f"regexp_extract({pc}, '^[A-Z]+')"

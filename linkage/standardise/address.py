"""Address lines: fold free text for fuzzy comparison, set-based in SQL.

Addresses are nearly unique per record, so they are folded in DuckDB rather than in Python:
accents stripped, a few letters that have no accent to strip written out, lower case,
apostrophes removed ("St John's" -> "st johns"), any other run of non a-z/0-9 -> one space.
House numbers are kept.
"""

from __future__ import annotations


def address_sql(text: str) -> str:
    """SQL for the folded address line of the text expression (NULL when nothing is left)."""
    ascii_text = (f"replace(replace(translate(strip_accents({text}), 'łŁøØđĐı', 'lLoOdDi'), "
                  f"'ß', 'ss'), 'æ', 'ae')")
    no_apostrophes = f"regexp_replace(lower({ascii_text}), '[''`’]', '', 'g')"
    return f"nullif(trim(regexp_replace({no_apostrophes}, '[^a-z0-9]+', ' ', 'g')), '')"

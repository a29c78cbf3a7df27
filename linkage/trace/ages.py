"""Ages for the school-age lists: an identity's date of birth and its academic-year age.

English schools group children by the age they are on 31 August before the school year
starts (1 September). Compulsory school age in these terms is academic-year age 5 to 15
(Year 1 to Year 11); academic-year age 4 is Reception, the year before compulsory school age.
"""

from __future__ import annotations

import datetime as dt

COMPULSORY_AGES = (5, 15)
STARTING_SCHOOL_AGE = 4


def academic_year_cutoff(reference_date: dt.date) -> dt.date:
    """31 August at the start of the academic year containing ``reference_date``."""
    year = reference_date.year if reference_date.month >= 9 else reference_date.year - 1
    return dt.date(year, 8, 31)


def academic_year_age(dob: dt.date, reference_date: dt.date) -> int:
    """Age on 31 August at the start of ``reference_date``'s academic year.

    A child born on 31 August has had that birthday by the cut-off; one born on 1 September
    has not, so is a year younger in school terms.
    """
    cutoff = academic_year_cutoff(reference_date)
    return cutoff.year - dob.year - (1 if dob.month >= 9 else 0)


def academic_year_age_sql(dob_expr: str, reference_date: dt.date) -> str:
    """SQL for :func:`academic_year_age` of a DATE expression (same arithmetic, set-based)."""
    cutoff = academic_year_cutoff(reference_date)
    return f"({cutoff.year} - year({dob_expr}) - CASE WHEN month({dob_expr}) >= 9 THEN 1 ELSE 0 END)"


def identity_dob_sql(records: str) -> str:
    """SQL selecting ``identity_id, dob`` from a table of identity records with ``dob_date``.

    Records may disagree: the most frequent non-NULL date wins, ties to the earliest date.
    Identities with no date of birth on any record get no row.
    """
    return f"""
        SELECT identity_id, dob_date AS dob
        FROM (
            SELECT identity_id, dob_date,
                   row_number() OVER (PARTITION BY identity_id ORDER BY count(*) DESC, dob_date) AS pick
            FROM {records}
            WHERE dob_date IS NOT NULL
            GROUP BY identity_id, dob_date
        )
        WHERE pick = 1
    """

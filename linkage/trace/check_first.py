"""Check first: children the not-in-education rules list who may be a pupil on roll under another ID.

Most children wrongly listed as not in education are one child split into two identities: a
lone GP registration (open, with a home postcode) that the clustering did not join to the
child's school record. Either the pair was scored below the auto-link threshold, or the blocking
rules never paired the two records at all (typically forename and surname swapped and one of
them misspelt: "Johnson Fredddie" and "Freddie Johnson", same date of birth, same postcode).

So a child of the not-in-education list (the contract's rules, school_age.py) stays on it only
when no pupil on roll is a possible match. A pupil on roll is an identity with an education
enrolment open on R (entry NULL or on/before R, leaving NULL or after R: the rules' "placed").
One of the child's records possibly matches one of the pupil's records when

* ``scored pair``: a scored pair joins them with match probability at or above the review
  band's low end (the job's ``review_band[0]``), or
* ``same birth date, postcode and name``: the two records have the same date of birth, the same
  full postcode and at least one name token in common, in any order (the pair blocking missed).

The others go to ``not_in_education_check.csv`` with their best possible match (scored pairs
first, by probability), for an officer to check before writing to the family; nothing is
dropped. Result: table ``_cme_check_first``; SQL over all listed children at once.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ..standardise.sqltext import quote_table
from .evidence import record_fields_sql
from .tables import require_columns, sql_date

CHECK_FIRST = "_cme_check_first"
SCORED, SAME_DETAILS = "scored pair", "same birth date, postcode and name"
PAIR_COLUMNS = ("source_l", "record_id_l", "source_r", "record_id_r", "match_probability")


def possible_pupils(con: duckdb.DuckDBPyConnection, listed: str, *, records: str, identities: str,
                    possible_matches: str, review_low: float, reference_date: dt.date) -> str:
    """Create ``_cme_check_first`` for the children of ``listed`` (a table with ``child_id``) who
    may be a pupil on roll; return its name.

    Columns: ``child_id``, ``possible_match_child_id`` (the pupil's identity),
    ``possible_match_record`` and ``listed_record`` (``source:record_id`` of the two records),
    ``possible_match_kind`` (SCORED or SAME_DETAILS), ``possible_match_probability`` (NULL for
    SAME_DETAILS) and ``possible_matches`` (how many pupils). The best match is the highest
    probability, SAME_DETAILS last, ties to the pupil's child_id then the records.
    ``records`` is std_records (``name_tokens`` included); ``identities`` has text ``source,
    record_id, identity_id``; ``possible_matches`` has PAIR_COLUMNS (pairs within one identity
    are ignored).
    """
    require_columns(con, records, ("source", "record_id", "dob_date", "postcode_std", "name_tokens"))
    require_columns(con, possible_matches, PAIR_COLUMNS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CHECK_FIRST} AS
        WITH ids AS (SELECT source, record_id, identity_id FROM {quote_table(identities)}),
        {_pupils_sql(records, reference_date)},
        mine AS (SELECT * FROM ids WHERE identity_id IN (SELECT CAST(child_id AS VARCHAR) FROM {quote_table(listed)})),
        theirs AS (SELECT * FROM ids WHERE identity_id IN (SELECT identity_id FROM pupils)),
        {_scored_sql(possible_matches, review_low)},
        {_same_details_sql(records)},
        matches AS (SELECT * FROM scored UNION ALL SELECT * FROM same_details)
        SELECT child_id, possible_match_child_id, possible_match_record, listed_record, possible_match_kind,
               possible_match_probability,
               count(DISTINCT possible_match_child_id) OVER (PARTITION BY child_id) AS possible_matches
        FROM matches
        QUALIFY row_number() OVER (PARTITION BY child_id
                                   ORDER BY possible_match_probability DESC NULLS LAST, possible_match_child_id,
                                            possible_match_record, listed_record) = 1
        ORDER BY child_id
    """)
    return CHECK_FIRST


def _pupils_sql(records: str, reference_date: dt.date) -> str:
    """CTE ``pupils``: identities with an education enrolment open on R."""
    r = sql_date(reference_date)
    return f"""pupils AS (
            SELECT DISTINCT i.identity_id FROM ids i
            JOIN ({record_fields_sql(records)}) f ON f.source = i.source AND f.record_id = i.record_id
            WHERE f.source_type = 'education' AND (f.start_date IS NULL OR f.start_date <= {r})
              AND (f.end_date IS NULL OR f.end_date > {r})
        )"""


def _scored_sql(possible_matches: str, review_low: float) -> str:
    """CTE ``scored``: pairs at or above ``review_low`` from a listed child's record to a pupil's."""
    return f"""pairs AS (
            SELECT CAST(source_l AS VARCHAR) AS source_a, CAST(record_id_l AS VARCHAR) AS record_a,
                   CAST(source_r AS VARCHAR) AS source_b, CAST(record_id_r AS VARCHAR) AS record_b,
                   CAST(match_probability AS DOUBLE) AS probability
            FROM {quote_table(possible_matches)} WHERE match_probability >= {float(review_low)!r}
        ),
        both_ways AS (
            SELECT * FROM pairs
            UNION ALL
            SELECT source_b, record_b, source_a, record_a, probability FROM pairs
        ),
        scored AS (
            SELECT m.identity_id AS child_id, t.identity_id AS possible_match_child_id,
                   t.source || ':' || t.record_id AS possible_match_record,
                   m.source || ':' || m.record_id AS listed_record, '{SCORED}' AS possible_match_kind,
                   w.probability AS possible_match_probability
            FROM both_ways w
            JOIN mine m ON m.source = w.source_a AND m.record_id = w.record_a
            JOIN theirs t ON t.source = w.source_b AND t.record_id = w.record_b
            WHERE t.identity_id <> m.identity_id
        )"""


def _same_details_sql(records: str) -> str:
    """CTE ``same_details``: a listed child's record and a pupil's with the same date of birth and
    full postcode and a name token in common (an equi-join on the two, then the name test)."""
    details = f"""SELECT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id, dob_date,
                         postcode_std, name_tokens
                  FROM {quote_table(records)} WHERE dob_date IS NOT NULL AND postcode_std IS NOT NULL"""
    return f"""details AS ({details}),
        same_details AS (
            SELECT m.identity_id AS child_id, t.identity_id AS possible_match_child_id,
                   t.source || ':' || t.record_id AS possible_match_record,
                   m.source || ':' || m.record_id AS listed_record, '{SAME_DETAILS}' AS possible_match_kind,
                   CAST(NULL AS DOUBLE) AS possible_match_probability
            FROM mine m JOIN details dm ON dm.source = m.source AND dm.record_id = m.record_id
            JOIN details dt ON dt.dob_date = dm.dob_date AND dt.postcode_std = dm.postcode_std
            JOIN theirs t ON t.source = dt.source AND t.record_id = dt.record_id
            WHERE t.identity_id <> m.identity_id AND list_has_any(dm.name_tokens, dt.name_tokens)
        )"""

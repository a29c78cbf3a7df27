"""Standardisation: from ``records`` (raw text) to ``std_records`` (typed, folded, flagged).

The set-based entry point is ``standardise_records``. The scalar helpers below apply the same
rules to single values (tests, the synthetic generator); the ``*_sql`` builders give the DuckDB
expressions standardisation uses, so Python and SQL can be tested against each other.
"""

from .aliases import forename_alias_keys, forename_aliases, spelling_keys
from .dates import date_sql
from .identifiers import (nhs_check_digit, nhs_check_digits, nhs_clean_sql, nhs_number_is_valid,
                          nhs_valid_sql, normalise_nhs_number, normalise_upn, upn_check_letter,
                          upn_check_letters, upn_clean_sql, upn_is_temporary, upn_is_valid,
                          upn_valid_sql, uprn_sql, uprn_value, valid_la_codes)
from .names import fold_name, name_tokens, name_variants, phonetic, surname_token_set
from .postcodes import normalise_postcode, postcode_parts, postcode_sql
from .records import standardise_records
from .sex import parse_sex, sex_sql

__all__ = [
    "standardise_records",
    "fold_name", "name_tokens", "name_variants", "phonetic", "surname_token_set",
    "forename_aliases", "forename_alias_keys", "spelling_keys",
    "normalise_postcode", "postcode_parts", "postcode_sql",
    "nhs_number_is_valid", "nhs_check_digit", "nhs_check_digits", "normalise_nhs_number",
    "nhs_clean_sql", "nhs_valid_sql",
    "upn_is_valid", "upn_check_letter", "upn_check_letters", "upn_is_temporary", "normalise_upn",
    "upn_clean_sql", "upn_valid_sql", "valid_la_codes",
    "uprn_value", "uprn_sql", "parse_sex", "sex_sql", "date_sql",
]

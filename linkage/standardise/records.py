"""Standardise the ``records`` table into ``std_records``, set-based in DuckDB.

``std_records`` = every column of ``records`` (event date fields re-typed as DATE in place)
+ the STANDARDISED_COLUMNS of linkage/schema.py. Names are folded in Python over the DISTINCT
raw names of the run (a small vocabulary) and joined back; everything that grows with the
number of records (dates, identifiers, postcodes, addresses, flags) is one SQL statement.
Bad values never stop the run: they become NULL plus a flag in ``dq_flags``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from ..errors import ChildlinkError
from ..schema import CANONICAL_FIELDS, EVENT_DATE_FIELDS, STANDARDISED_COLUMNS
from .address import address_sql
from .aliases import forename_alias_keys
from .dates import check_date_formats, date_sql
from .identifiers import (nhs_clean_sql, nhs_valid_sql, uprn_sql, upn_clean_sql,
                          upn_valid_sql)
from .names import fold_name, phonetic, surname_token_set
from .postcodes import (postcode_area_sql, postcode_district_sql, postcode_sector_sql,
                        postcode_sql)
from .sex import sex_sql, sex_unrecognised_sql
from .sqltext import ident, literal, raw_text, table_columns

# Raw name columns folded through the Python name lookup, and the join alias of each.
NAME_COLUMNS = {"forename": "n_fore", "middle_names": "n_mid", "surname": "n_sur",
                "preferred_surname": "n_pref", "former_surname": "n_former",
                "carer_surname": "n_carer"}
OLDEST_CHILD_DOB = dt.date(1990, 1, 1)
_EMPTY_LIST = "[]::VARCHAR[]"

_NAME_LOOKUP_SCHEMA = pa.schema([
    ("raw", pa.string()), ("std", pa.string()), ("first", pa.string()),
    ("tokens", pa.list_(pa.string())), ("first_phonetic", pa.string()),
    ("aliases", pa.list_(pa.string())), ("surname_tokens", pa.list_(pa.string())),
])


def standardise_records(con: duckdb.DuckDBPyConnection, *, reference_date: dt.date,
                        date_formats: Mapping[str, str | None] | None = None,
                        records: str = "records", out: str = "std_records") -> None:
    """Create table ``out`` from table ``records`` (see module docstring).

    ``date_formats`` maps a source name (the ``source`` column) to a strptime format for its
    date columns; a missing or None entry means detect ISO and UK dates per value.
    """
    if not isinstance(reference_date, dt.date):
        raise ChildlinkError("reference_date must be a date", column="reference_date")
    columns = _table_columns(con, records)
    check_date_formats(con, date_formats)
    lookup = f"_childlink_names_for_{out}"
    con.register(lookup, _name_lookup(con, records, columns))
    try:
        sql = _standardise_sql(records, lookup, columns, reference_date, date_formats)
        con.execute(f"CREATE OR REPLACE TABLE {ident(out)} AS {sql}")
    finally:
        con.unregister(lookup)


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    described = table_columns(con, table)
    if not described:
        raise ChildlinkError(f"table '{table}' does not exist; read the sources first")
    # Standardised columns of an earlier run are recomputed, so re-standardising is harmless.
    columns = [name for name in described if name not in STANDARDISED_COLUMNS]
    if "source" not in columns:
        raise ChildlinkError(f"table '{table}' has no 'source' column", column="source")
    return columns


# ------------------------------------------------------------------ names (distinct values)
def _name_lookup(con: duckdb.DuckDBPyConnection, records: str, columns: list[str]) -> pa.Table:
    """One row per distinct raw name in any name column, with its folded forms.

    A Python function per DISTINCT name (not per record): the vocabulary is small.
    """
    present = [c for c in NAME_COLUMNS if c in columns]
    raws: list[str] = []
    if present:
        union = " UNION ".join(f"SELECT CAST({ident(c)} AS VARCHAR) AS raw FROM {ident(records)}"
                               for c in present)
        raws = [r[0] for r in con.execute(f"SELECT raw FROM ({union}) WHERE raw IS NOT NULL "
                                          "ORDER BY raw").fetchall()]
    rows = [_fold_one_name(raw) for raw in raws]
    return pa.Table.from_pylist(rows, schema=_NAME_LOOKUP_SCHEMA)


def _fold_one_name(raw: str) -> dict:
    std = fold_name(raw)
    tokens = std.split(" ") if std else []
    first = tokens[0] if tokens else None
    return {"raw": raw, "std": std, "first": first, "tokens": tokens,
            "first_phonetic": phonetic(first), "aliases": forename_alias_keys(std),
            "surname_tokens": surname_token_set(raw) if std else []}


def _name_joins(lookup: str, columns: list[str]) -> str:
    """LEFT JOIN the name lookup once per name column, on the raw value."""
    return " ".join(f"LEFT JOIN {ident(lookup)} {alias} ON {alias}.raw = CAST(r.{ident(col)} AS VARCHAR)"
                    for col, alias in NAME_COLUMNS.items() if col in columns)


def _name_field(columns: list[str], column: str, field: str, list_valued: bool = False) -> str:
    """SQL for one lookup field of a name column; lists are never NULL, only empty."""
    if column in columns:
        value = f"{NAME_COLUMNS[column]}.{field}"
        return f"coalesce({value}, {_EMPTY_LIST})" if list_valued else value
    return _EMPTY_LIST if list_valued else "CAST(NULL AS VARCHAR)"


def _union_lists(*lists: str) -> str:
    """SQL: the sorted distinct union of VARCHAR[] expressions."""
    return f"list_sort(list_distinct(flatten([{', '.join(lists)}])))"


def _name_columns_sql(columns: list[str]) -> list[str]:
    """The name columns of STANDARDISED_COLUMNS, from the joined name lookups."""
    def f(column: str, field: str, list_valued: bool = False) -> str:
        return _name_field(columns, column, field, list_valued)

    return [
        f"{f('forename', 'std')} AS forename_std",
        f"{f('forename', 'first')} AS forename1",
        f"{f('forename', 'aliases', True)} AS forename_aliases",
        f"{f('forename', 'first_phonetic')} AS forename_phonetic",
        f"{f('middle_names', 'std')} AS middle_names_std",
        f"{f('surname', 'std')} AS surname_std",
        f"{f('surname', 'first')} AS surname1",
        f"{f('surname', 'surname_tokens', True)} AS surname_tokens",
        _union_lists(f("surname", "surname_tokens", True), f("preferred_surname", "surname_tokens", True),
                     f("former_surname", "surname_tokens", True)) + " AS surname_history_tokens",
        f"{f('surname', 'first_phonetic')} AS surname_phonetic",
        _union_lists(f("forename", "tokens", True), f("middle_names", "tokens", True),
                     f("surname", "tokens", True)) + " AS name_tokens",
        f"{f('carer_surname', 'std')} AS carer_surname_std",
    ]


# ------------------------------------------------------------------ the statement
def _raw(columns: list[str], column: str) -> str:
    """Trimmed text of a records column, or NULL for a column the table does not have."""
    return raw_text(f"r.{ident(column)}") if column in columns else "CAST(NULL AS VARCHAR)"


def _parsed_sql(records: str, lookup: str, columns: list[str],
                date_formats: Mapping[str, str | None] | None) -> str:
    """First pass: typed values beside the raw ones (helper columns start with _std_)."""
    def raw(column: str) -> str:
        return _raw(columns, column)

    def dates(column: str) -> str:
        return date_sql(raw(column), date_formats, "r.source")

    helpers = [
        f"{dates('dob')} AS _std_dob",
        *(f"{dates(f)} AS {ident('_std_date_' + f)}" for f in EVENT_DATE_FIELDS),
        f"{postcode_sql(raw('postcode'))} AS _std_postcode",
        f"{uprn_sql(raw('uprn'))} AS _std_uprn",
        f"{nhs_clean_sql(raw('nhs_number'))} AS _std_nhs",
        f"{upn_clean_sql(raw('upn'))} AS _std_upn",
        f"{upn_clean_sql(raw('former_upn'))} AS _std_former_upn",
        *_name_columns_sql(columns),
    ]
    return (f"SELECT r.*, {', '.join(helpers)} FROM {ident(records)} r "
            f"{_name_joins(lookup, columns)}")


def _flag(condition: str, name: str) -> str:
    """SQL giving the flag name when the condition holds, else NULL (dropped from the list)."""
    return f"CASE WHEN {condition} THEN {literal(name)} END"


def _raw_or_null(columns: list[str], column: str) -> str:
    """Trimmed text of a column of the parsed pass, or NULL for a column records lacks."""
    return raw_text(ident(column)) if column in columns else "CAST(NULL AS VARCHAR)"


def _flags_sql(columns: list[str], ref: str) -> str:
    """SQL for the sorted list of data-quality flags of a row (empty when clean)."""
    def present(column: str) -> str:
        return f"{_raw_or_null(columns, column)} IS NOT NULL"

    flags = [
        _flag(f"{present('dob')} AND _std_dob IS NULL", "bad_dob"),
        _flag(f"_std_dob > {ref}", "dob_in_future"),
        _flag(f"_std_dob < DATE '{OLDEST_CHILD_DOB.isoformat()}'", "dob_before_1990"),
        _flag(sex_unrecognised_sql(_raw_or_null(columns, "sex")), "bad_sex"),
        _flag(f"{present('postcode')} AND _std_postcode IS NULL", "unparseable_postcode"),
        _flag(f"{present('uprn')} AND _std_uprn IS NULL", "bad_uprn"),
        _flag(f"{present('nhs_number')} AND NOT _std_nhs_ok", "invalid_nhs_number"),
        _flag(f"{present('upn')} AND NOT _std_upn_ok", "invalid_upn"),
        _flag(f"{present('former_upn')} AND NOT _std_former_upn_ok", "invalid_former_upn"),
    ]
    for field in EVENT_DATE_FIELDS:
        parsed = ident("_std_date_" + field)
        flags.append(_flag(f"{present(field)} AND {parsed} IS NULL", f"bad_date:{field}"))
        flags.append(_flag(f"{parsed} > {ref}", f"future_date:{field}"))
    return f"list_sort(list_distinct([{', '.join(flags)}]))"


def _standardised_sql(columns: list[str], ref: str) -> list[str]:
    """The STANDARDISED_COLUMNS, in schema order, over the checked pass."""
    dob = f"CASE WHEN _std_dob <= {ref} THEN _std_dob END"
    return [
        "forename_std", "forename1", "forename_aliases", "forename_phonetic", "middle_names_std",
        "surname_std", "surname1", "surname_tokens", "surname_history_tokens", "surname_phonetic",
        "name_tokens", "carer_surname_std",
        f"{dob} AS dob_date",
        f"strftime({dob}, '%Y-%m-%d') AS dob_iso",
        f"CAST(year({dob}) AS INTEGER) AS dob_year",
        f"CAST(month({dob}) AS INTEGER) AS dob_month",
        f"CAST(day({dob}) AS INTEGER) AS dob_day",
        f"{sex_sql(_raw_or_null(columns, 'sex'))} AS sex_std",
        "_std_postcode AS postcode_std",
        f"{postcode_sector_sql('_std_postcode')} AS postcode_sector",
        f"{postcode_district_sql('_std_postcode')} AS postcode_district",
        f"{postcode_area_sql('_std_postcode')} AS postcode_area",
        f"{address_sql(_raw_or_null(columns, 'address_line'))} AS address_std",
        "_std_uprn AS uprn_std",
        "CASE WHEN _std_nhs_ok THEN _std_nhs END AS nhs_number_std",
        "CASE WHEN _std_upn_ok THEN _std_upn END AS upn_std",
        "CASE WHEN _std_former_upn_ok THEN _std_former_upn END AS former_upn_std",
        "list_sort(list_distinct([CASE WHEN _std_upn_ok THEN _std_upn END, "
        "CASE WHEN _std_former_upn_ok THEN _std_former_upn END])) AS upn_ids",
        "CASE WHEN _std_upn_ok THEN regexp_full_match(_std_upn, '.*[A-Z]') END AS upn_temporary",
        f"{_flags_sql(columns, ref)} AS dq_flags",
    ]


def _output_columns(columns: list[str]) -> list[str]:
    """The records columns in order, event dates as DATE; absent canonical fields as NULL."""
    out = [f"{ident('_std_date_' + c)} AS {ident(c)}" if c in EVENT_DATE_FIELDS else ident(c)
           for c in columns]
    for field in CANONICAL_FIELDS:
        if field not in columns:
            kind = "DATE" if field in EVENT_DATE_FIELDS else "VARCHAR"
            out.append(f"CAST(NULL AS {kind}) AS {ident(field)}")
    return out


def _standardise_sql(records: str, lookup: str, columns: list[str], reference_date: dt.date,
                     date_formats: Mapping[str, str | None] | None) -> str:
    """The whole SELECT: parse, check identifiers once, then shape and order the output."""
    ref = f"DATE '{reference_date.isoformat()}'"
    order = [c for c in ("source", "row_number", "record_id") if c in columns]
    select = _output_columns(columns) + _standardised_sql(columns, ref)
    checked = (f"SELECT *, {nhs_valid_sql('_std_nhs')} AS _std_nhs_ok, "
               f"{upn_valid_sql('_std_upn')} AS _std_upn_ok, "
               f"{upn_valid_sql('_std_former_upn')} AS _std_former_upn_ok FROM parsed")
    return (f"WITH parsed AS ({_parsed_sql(records, lookup, columns, date_formats)}), "
            f"checked AS ({checked}) "
            f"SELECT {', '.join(select)} FROM checked ORDER BY {', '.join(map(ident, order))}")

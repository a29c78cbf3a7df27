"""Property tests of the standardisers: total, idempotent, and Python agreeing with SQL.

Each example is a small batch of strings (field-shaped, Excel-mangled or arbitrary Unicode),
put through the Python rule value by value and through the SQL rule in one DuckDB query.
Total: no rule raises on any string. Idempotent: std(std(x)) == std(x). Agreeing: where a rule
exists in both Python and SQL, both give the same answer for the same text.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import field_text, fuzz_settings
from linkage.standardise.address import address_sql
from linkage.standardise.aliases import forename_alias_keys
from linkage.standardise.dates import date_sql
from linkage.standardise.identifiers import (nhs_clean_sql, nhs_number_is_valid, nhs_valid_sql,
                                             normalise_nhs_number, normalise_upn, upn_clean_sql, upn_is_temporary,
                                             upn_is_valid, upn_valid_sql, uprn_sql, uprn_value)
from linkage.standardise.names import fold_name, name_tokens, name_variants, phonetic, surname_token_set
from linkage.standardise.postcodes import normalise_postcode, postcode_parts, postcode_sql
from linkage.standardise.sex import parse_sex, sex_is_recognised, sex_sql, sex_unrecognised_sql
from linkage.standardise.sqltext import raw_text

# Arbitrary Unicode (no surrogates: they cannot be stored as text) mixed with realistic values.
ANY_TEXT = st.one_of(field_text(), st.text(), st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
BATCH = st.lists(ANY_TEXT, min_size=1, max_size=60)
# Each example is a batch of up to 60 values: SQL examples cost one query each, whatever the batch size.
SQL_EXAMPLES, SQL_SLOW_CAP = 30, 1_000


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


def _sql(con, values: list[str], **expressions: str) -> dict[str, list]:
    """Each named SQL expression over column ``v`` holding ``values``, in order."""
    con.register("fuzz_values", pa.table({"i": list(range(len(values))), "v": pa.array(values, pa.string())}))
    try:
        select = ", ".join(f"{sql} AS {name}" for name, sql in expressions.items())
        frame = con.sql(f"SELECT {select} FROM fuzz_values ORDER BY i").to_arrow_table()
    finally:
        con.unregister("fuzz_values")
    return {name: frame.column(name).to_pylist() for name in expressions}


@fuzz_settings(200, slow_cap=5_000)
@given(values=BATCH)
def test_name_rules_are_total_and_idempotent(values):
    for value in values:
        folded = fold_name(value)
        assert fold_name(folded) == folded
        assert name_tokens(folded) == name_tokens(value)
        assert folded is None or all(t and t.isascii() and t.isalpha() and t.islower() for t in folded.split(" "))
        tokens = surname_token_set(value)
        assert tokens == sorted(set(tokens)) and all(tokens)
        for token in name_tokens(value):
            assert token in name_variants(token)
            assert phonetic(token) is None or phonetic(token).isupper()
        assert forename_alias_keys(folded) == sorted(set(forename_alias_keys(folded)))


@fuzz_settings(SQL_EXAMPLES, slow_cap=SQL_SLOW_CAP)
@given(values=BATCH)
def test_postcode_python_and_sql_agree_and_are_idempotent(con, values):
    std = _sql(con, values, std=postcode_sql("v"))["std"]
    again = _sql(con, std, again=postcode_sql("v"))["again"]
    for value, sql_std, sql_again in zip(values, std, again):
        python = normalise_postcode(value)
        assert python == sql_std
        assert normalise_postcode(python) == python and sql_again == sql_std
        if python:
            sector, district, area = postcode_parts(python)
            assert sector.startswith(district) and district.startswith(area)


@fuzz_settings(SQL_EXAMPLES, slow_cap=SQL_SLOW_CAP)
@given(values=BATCH)
def test_nhs_and_upn_python_and_sql_agree_and_are_idempotent(con, values):
    # Cleaned first, then checked, in two queries as standardisation does (one nested
    # expression would repeat the cleaning in every term of the check sum).
    clean = _sql(con, values, nhs=nhs_clean_sql("v"), upn=upn_clean_sql("v"))
    nhs_ok = _sql(con, clean["nhs"], ok=nhs_valid_sql("v"))["ok"]
    upn_ok = _sql(con, clean["upn"], ok=upn_valid_sql("v"))["ok"]
    for i, value in enumerate(values):
        nhs, upn = normalise_nhs_number(value), normalise_upn(value)
        assert clean["nhs"][i] == nhs and normalise_nhs_number(nhs) == nhs
        assert bool(nhs_ok[i]) == nhs_number_is_valid(value) == nhs_number_is_valid(nhs)
        assert clean["upn"][i] == upn and normalise_upn(upn) == upn
        assert bool(upn_ok[i]) == upn_is_valid(value) == upn_is_valid(upn)
        assert not upn_is_temporary(value) or upn_is_valid(value)


@fuzz_settings(SQL_EXAMPLES, slow_cap=SQL_SLOW_CAP)
@given(values=BATCH)
def test_uprn_and_sex_python_and_sql_agree_and_are_idempotent(con, values):
    sql = _sql(con, values, uprn=uprn_sql(raw_text("v")), sex=sex_sql("v"), bad_sex=sex_unrecognised_sql("v"))
    for i, value in enumerate(values):
        uprn = uprn_value(value)
        assert sql["uprn"][i] == uprn and (uprn is None or uprn_value(str(uprn)) == uprn)
        sex = parse_sex(value)
        assert sql["sex"][i] == sex and (sex is None or parse_sex(sex) == sex)
        assert bool(sql["bad_sex"][i]) == (not sex_is_recognised(value))


@fuzz_settings(SQL_EXAMPLES, slow_cap=SQL_SLOW_CAP)
@given(values=BATCH)
def test_sql_only_rules_are_total_and_idempotent(con, values):
    """Addresses and dates exist only in SQL: folding an address twice, or re-reading a
    parsed date's ISO text, changes nothing."""
    first = _sql(con, values, address=address_sql("v"), date=f"strftime({date_sql(raw_text('v'))}, '%Y-%m-%d')",
                 uk_date=f"strftime({date_sql(raw_text('v'), {'s': '%d/%m/%Y'}, chr(39) + 's' + chr(39))}, '%Y-%m-%d')")
    assert _sql(con, first["address"], again=address_sql("v"))["again"] == first["address"]
    for dates in (first["date"], first["uk_date"]):
        assert _sql(con, dates, again=f"strftime({date_sql(raw_text('v'))}, '%Y-%m-%d')")["again"] == dates
    for address in first["address"]:
        assert address is None or (address == address.strip() and "  " not in address)

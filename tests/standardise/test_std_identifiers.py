"""NHS number, UPN and UPRN checks: worked examples, and Python = numpy = SQL agreement."""

import numpy as np
import pyarrow as pa
import pytest

from linkage.standardise import (nhs_check_digit, nhs_check_digits, nhs_clean_sql, nhs_number_is_valid,
                                 nhs_valid_sql, upn_check_letter, upn_check_letters, upn_clean_sql,
                                 upn_is_temporary, upn_is_valid, upn_valid_sql, uprn_sql, uprn_value,
                                 valid_la_codes)
from linkage.standardise.sqltext import raw_text


def _sql_values(con, values, expression_of_v):
    """Evaluate a SQL expression of column v over the values, in order."""
    values_table = pa.table({"i": list(range(len(values))), "v": pa.array(values, pa.string())})
    con.register("values_table", values_table)
    con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM values_table")
    return [r[0] for r in con.execute(f"SELECT {expression_of_v} FROM t ORDER BY i").fetchall()]


# ------------------------------------------------------------------ NHS number
@pytest.mark.parametrize("number", ["943 476 5919", "9434765919", "943-476-5919", "987 654 3210",
                                    "900 000 0009", "999 000 0018"])
def test_nhs_worked_examples_are_valid(number):
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize("number", [
    "999 123 4560",    # stem has no valid check digit (remainder 10)
    "987 654 4321",    # documented example with the wrong check digit (4322 would be right)
    "943 476 5918", "943 476 591", "943 476 59190", "94347659l9", "", None, "==========",
])
def test_nhs_invalid_examples(number):
    assert not nhs_number_is_valid(number)


def test_nhs_check_digit_values():
    assert nhs_check_digit("943476591") == 9
    assert nhs_check_digit("987654321") == 0      # 11 -> 0
    assert nhs_check_digit("999000000") is None   # 10 -> no valid number
    assert nhs_check_digit("99900000") is None    # not 9 digits


def test_nhs_check_digits_vectorised_matches_scalar():
    rng = np.random.default_rng(1)
    stems = np.concatenate([rng.integers(0, 1_000_000_000, size=3000), [0, 999_000_000, 943_476_591]])
    digits = nhs_check_digits(stems)
    expected = [nhs_check_digit(f"{s:09d}") for s in stems.tolist()]
    assert digits.tolist() == [-1 if d is None else d for d in expected]
    assert (digits == -1).mean() == pytest.approx(1 / 11, abs=0.02)
    with pytest.raises(ValueError):
        nhs_check_digits(np.array([1_000_000_000]))


def _nhs_test_values(rng) -> list[str]:
    stems = rng.integers(999_000_000, 1_000_000_000, size=2000)
    checks = nhs_check_digits(stems)
    valid = [f"{s}{c}" for s, c in zip(stems.tolist(), checks.tolist()) if c >= 0]
    # Single-digit substitutions of valid numbers: always detected by mod 11.
    substituted = []
    for n, pos, new in zip(valid, rng.integers(0, 10, len(valid)), rng.integers(1, 10, len(valid))):
        substituted.append(n[:pos] + str((int(n[pos]) + new) % 10) + n[pos + 1:])
    spaced = ([f"{n[:3]} {n[3:6]} {n[6:]}" for n in valid[:300]]
              + [f"{n[:3]}-{n[3:6]}-{n[6:]}" for n in valid[300:600]])
    random_digits = [f"{x:010d}" for x in rng.integers(0, 10_000_000_000, size=3000).tolist()]
    odd = ["", " ", "12345", "12345678901", "943476591O", "9434765919\t", "abc", "943 476 5919 1"]
    return valid + substituted + spaced + random_digits + odd


def test_nhs_sql_agrees_with_python(con):
    values = _nhs_test_values(np.random.default_rng(2))
    sql = _sql_values(con, values, f"coalesce({nhs_valid_sql(nhs_clean_sql('v'))}, FALSE)")
    python = [nhs_number_is_valid(v) for v in values]
    assert sql == python
    assert sum(python) > 2000 and len(values) - sum(python) > 2000


# ------------------------------------------------------------------ UPN
@pytest.mark.parametrize("upn", ["E330200124123", "M33020012401A", "B801200005001", "X00180001701A",
                                 "P207000016049"])
def test_upn_worked_examples_are_valid(upn):
    assert upn_is_valid(upn)
    assert upn_check_letter(upn[1:]) == upn[0]


def test_upn_pseudo_welsh_and_new_la_codes():
    for body in ("00180001701A", "66020002400", "70820002400", "83820002400", "94220002400", "94320002400"):
        body12 = body.ljust(12, "1")
        assert upn_is_valid(upn_check_letter(body12) + body12), body12


def test_upn_input_is_normalised():
    assert upn_is_valid("e330200124123")
    assert upn_is_valid(" E330 2001 24123 ")
    assert upn_is_valid("m33020012401a")


@pytest.mark.parametrize("upn", [
    "F330200124123",    # wrong check letter
    "E330200124124",    # digit changed
    "E33020012412",     # too short
    "E3302001241234",   # too long
    "I330200124123",    # I is never a check letter
    "E33020012401O",    # O is never a temporary letter
    "", None, "=E330200124123",
])
def test_upn_invalid_examples(upn):
    assert not upn_is_valid(upn)


def test_bad_la_code_fails_even_with_right_check_letter():
    body = "214200124123"
    assert upn_is_valid(upn_check_letter("330200124123") + "330200124123")
    assert not upn_is_valid(upn_check_letter(body) + body)
    assert "214" not in valid_la_codes()


def test_temporary_upns():
    assert upn_is_temporary("M33020012401A")
    assert not upn_is_temporary("E330200124123")
    assert not upn_is_temporary("N33020012401A")   # wrong check letter: not a valid UPN at all


def test_upn_check_letter_rejects_bad_bodies():
    for body in ("3302001241", "33020012412I", "3302001241AA", 330200124123):
        with pytest.raises(ValueError):
            upn_check_letter(body)


def _upn_bodies(rng, count: int) -> np.ndarray:
    codes = np.array(sorted(valid_la_codes()) + ["000", "214", "999"])
    la = rng.choice(codes, size=count)
    rest = rng.integers(0, 10**8, size=count)
    last = rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUVWXYZ"), size=count)
    return np.array([f"{a}{r:08d}{z}" for a, r, z in zip(la, rest.tolist(), last)])


def test_upn_check_letters_vectorised_matches_scalar():
    bodies = _upn_bodies(np.random.default_rng(3), 3000)
    assert upn_check_letters(bodies).tolist() == [upn_check_letter(b) for b in bodies]
    assert upn_check_letters(np.array([], dtype=str)).tolist() == []
    for bad in (["3302001241"], ["33020012412I"], ["33020012412é"]):
        with pytest.raises(ValueError):
            upn_check_letters(np.array(bad))


def test_upn_sql_agrees_with_python(con):
    rng = np.random.default_rng(4)
    bodies = _upn_bodies(rng, 3000)
    letters = upn_check_letters(bodies)
    valid = [l + b for l, b in zip(letters, bodies)]
    other_letters = rng.choice(list("ABCDEFGHJKLMNPQRTUVWXYZ"), size=1000)
    wrong_letter = [x + u[1:] for x, u in zip(other_letters, valid[:1000])]
    swapped = [u[0] + u[2] + u[1] + u[3:] for u in valid[:1000]]
    lower_spaced = [u.lower() for u in valid[:300]] + [u[:5] + " " + u[5:] for u in valid[300:600]]
    odd = ["", "E33020012412", "E3302001241234", "I330200124123", "E33020012401O", "E33020012401S",
           "1330200124123"]
    values = valid + wrong_letter + swapped + lower_spaced + odd
    sql = _sql_values(con, values, f"coalesce({upn_valid_sql(upn_clean_sql('v'))}, FALSE)")
    python = [upn_is_valid(v) for v in values]
    assert sql == python
    assert sum(python) > 2000 and len(values) - sum(python) > 1000


# ------------------------------------------------------------------ UPRN
@pytest.mark.parametrize("raw, value", [
    ("199356", 199356), ("000000199356", 199356), (" 100023336956 ", 100023336956),
    ("999999999999", 999_999_999_999), ("0000000000001", 1),
    ("0", None), ("000000000000", None), ("1000000000000", None), ("12a", None),
    ("-5", None), ("1.5", None), ("", None), (None, None), ("1 2", None),
])
def test_uprn_value(raw, value):
    assert uprn_value(raw) == value


def test_uprn_sql_agrees_with_python(con):
    rng = np.random.default_rng(5)
    values = [str(x) for x in rng.integers(0, 10**13, size=1000).tolist()]
    values += [v.zfill(12) for v in values[:300]] + ["0", "00", "abc", "1e5", "12 3", "+12"]
    assert _sql_values(con, values, uprn_sql(raw_text("v"))) == [uprn_value(v) for v in values]

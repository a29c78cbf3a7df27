"""Sex codings, and Python = SQL agreement."""

import pytest

from linkage.standardise import parse_sex, sex_sql
from linkage.standardise.sex import sex_is_recognised, sex_unrecognised_sql
from linkage.standardise.sqltext import raw_text


@pytest.mark.parametrize("raw, sex", [
    ("M", "M"), ("m", "M"), ("male", "M"), ("MALE", "M"), ("1", "M"), (" M ", "M"),
    ("F", "F"), ("f", "F"), ("female", "F"), ("Female", "F"), ("2", "F"),
])
def test_recognised_sexes(raw, sex):
    assert parse_sex(raw) == sex
    assert sex_is_recognised(raw)


@pytest.mark.parametrize("raw", ["U", "u", "0", "9", "unknown", "Not Known", "indeterminate"])
def test_not_known_codes_are_null_but_not_bad(raw):
    assert parse_sex(raw) is None
    assert sex_is_recognised(raw)


@pytest.mark.parametrize("raw", ["X", "3", "boy?", "MF", "=1", "ma le"])
def test_unrecognised_codes_are_null_and_bad(raw):
    assert parse_sex(raw) is None
    assert not sex_is_recognised(raw)


def test_missing_is_not_bad():
    assert parse_sex(None) is None
    assert sex_is_recognised(None)
    assert sex_is_recognised("  ")


def test_sql_agrees_with_python(con):
    values = ["M", "m", "male", "1", "F", "female", "2", "U", "0", "9", "unknown", "not  known",
              "X", "3", " f ", "\tM", "Ma le", "", "11", "=2"]
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    text = raw_text("v")
    rows = con.execute(f"SELECT {sex_sql(text)}, {sex_unrecognised_sql(text)} FROM t ORDER BY i").fetchall()
    assert [r[0] for r in rows] == [parse_sex(v) for v in values]
    assert [bool(r[1]) for r in rows] == [not sex_is_recognised(v) for v in values]

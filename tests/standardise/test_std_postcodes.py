"""Postcode normalisation and parts, and Python = SQL agreement."""

import numpy as np
import pyarrow as pa
import pytest

from linkage.standardise import normalise_postcode, postcode_parts, postcode_sql
from linkage.standardise.postcodes import postcode_area_sql, postcode_district_sql, postcode_sector_sql
from linkage.standardise.sqltext import raw_text


@pytest.mark.parametrize("raw, normalised", [
    ("SW1A 1AA", "SW1A 1AA"), ("sw1a1aa", "SW1A 1AA"), (" SW1A-1AA ", "SW1A 1AA"),
    ("m11ae", "M1 1AE"), ("M1  1AE", "M1 1AE"), ("ls1 1ur", "LS1 1UR"), ("B33 8TH", "B33 8TH"),
    ("EC1A 1BB", "EC1A 1BB"), ("W1A 0AX", "W1A 0AX"), ("cr2 6xh", "CR2 6XH"),
    ("=SW1A 1AA", "SW1A 1AA"),   # formula-like text is just data
])
def test_spacing_and_case(raw, normalised):
    assert normalise_postcode(raw) == normalised


@pytest.mark.parametrize("raw, normalised", [
    ("B1 OAA", "B1 0AA"), ("SW1A OAA", "SW1A 0AA"), ("M1 IAE", "M1 1AE"), ("b1oaa", "B1 0AA"),
])
def test_letter_for_digit_at_start_of_inward_code_is_repaired(raw, normalised):
    assert normalise_postcode(raw) == normalised


@pytest.mark.parametrize("raw", [
    "B1 0A0",      # digit where an inward letter belongs: not guessed
    "SWIA 1AA",    # I in the outward code: ambiguous, not guessed
    "1AB 1AA", "XX", "SW1A 1AAA", "ABCDEFGH", "12345", "", None,
    "ASCN 1ZZ",    # overseas territory: does not fit the UK pattern
])
def test_invalid_postcodes(raw):
    assert normalise_postcode(raw) is None


def test_normalising_twice_changes_nothing():
    for raw in ("sw1a1aa", "B1 OAA", "m11ae", "EC1A-1BB"):
        once = normalise_postcode(raw)
        assert normalise_postcode(once) == once


def test_parts():
    assert postcode_parts("SW1A 1AA") == ("SW1A 1", "SW1A", "SW")
    assert postcode_parts("M1 1AE") == ("M1 1", "M1", "M")
    assert postcode_parts("B33 8TH") == ("B33 8", "B33", "B")
    assert postcode_parts(None) == (None, None, None)


def _random_postcode_texts(count: int) -> list[str]:
    rng = np.random.default_rng(6)
    alphabet = list("ABMSWLOI01234589 -a")
    lengths = rng.integers(3, 10, size=count)
    texts = ["".join(rng.choice(alphabet, size=n)) for n in lengths]
    # Plausible shapes so that many normalise successfully.
    letters, digits = np.array(list("ABCDEGHLMNSWOI")), np.array(list("0123456789OI"))
    for a, b, c, d, e, f in zip(rng.choice(letters, count), rng.choice(digits, count),
                                rng.choice(digits, count), rng.choice(letters, count),
                                rng.choice(letters, count), rng.integers(0, 3, count)):
        texts.append([f"{a}{b} {c}{d}{e}", f"{a}{a}{b}{b}{c}{d}{e}", f"{a.lower()}{b}{e}-{c}{d}{e}"][f])
    return texts


def test_sql_agrees_with_python(con):
    texts = _random_postcode_texts(3000)
    expression = postcode_sql(raw_text("v"))
    values_table = pa.table({"i": list(range(len(texts))), "v": pa.array(texts, pa.string())})
    con.register("values_table", values_table)
    con.execute("CREATE TABLE t AS SELECT * FROM values_table")
    rows = con.execute(f"""SELECT pc, {postcode_sector_sql('pc')}, {postcode_district_sql('pc')},
                                  {postcode_area_sql('pc')}
                           FROM (SELECT i, {expression} AS pc FROM t) ORDER BY i""").fetchall()
    python = [normalise_postcode(t) for t in texts]
    assert [r[0] for r in rows] == python
    assert [r[1:] for r in rows if r[0]] == [postcode_parts(p) for p in python if p]
    assert sum(p is not None for p in python) > 1000

"""The building blocks: identifiers, name pools and the corruptions, each checked on its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rapidfuzz.distance import OSA

from linkage.standardise.identifiers import nhs_number_is_valid, upn_is_temporary, upn_is_valid
from linkage.synthetic import calendar, identifiers, names, parameters, render
from linkage.synthetic.reference import table


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_nhs_numbers_are_distinct_valid_and_in_the_test_range():
    numbers = identifiers.nhs_numbers(rng(), 5000)
    assert len(set(numbers)) == 5000
    assert all(n.startswith("999") and len(n) == 10 for n in numbers)
    assert all(nhs_number_is_valid(n) for n in numbers)


def test_a_national_size_world_gets_distinct_valid_numbers_beyond_the_999_range():
    numbers = pd.Series(identifiers.nhs_numbers(rng(), 1_000_000))
    assert numbers.is_unique and len(numbers) == 1_000_000
    assert numbers.str.match(r"^99\d{8}$").all()                  # 990-999: never issued
    assert numbers.sample(2000, random_state=0).map(nhs_number_is_valid).all()


def test_a_mistyped_digit_always_breaks_the_check():
    numbers = identifiers.nhs_numbers(rng(1), 2000)
    typed = identifiers.mistype_digit(rng(2), numbers, 3, 9)
    assert not any(nhs_number_is_valid(n) for n in typed)
    assert all(sum(a != b for a, b in zip(x, y)) == 1 for x, y in zip(numbers, typed))


def test_upns_have_the_worked_example_check_letter_and_temporary_form():
    assert identifiers.upns(np.array(["330"]), np.array([2001]), np.array([24]), np.array([123]))[0] == "E330200124123"
    temp = identifiers.upns(np.array(["330"]), np.array([2001]), np.array([24]), np.array([1]),
                            np.array([True]), np.array(["A"]))[0]
    assert temp == "M33020012401A"                                 # UK_DATA.md §2 worked example
    assert upn_is_valid(temp) and upn_is_temporary(temp)
    bodies = identifiers.upns(np.full(300, "336"), np.arange(2000, 2300), np.full(300, 25), np.arange(300))
    assert all(upn_is_valid(u) for u in bodies)
    assert not any(upn_is_valid(u) for u in identifiers.mistype_digit(rng(3), bodies, 1, 11))


def test_uprns_are_distinct_and_up_to_12_digits():
    values = identifiers.uprns(rng(), 20000)
    assert len(set(values)) == 20000
    assert values.min() >= 10 ** 8 and values.max() <= 999_999_999_999
    assert len({len(str(v)) for v in values}) == 4


def test_passport_numbers_are_distinct_upper_case_and_national():
    nationality = np.array(["GBR", "POL"] * 500, dtype=object)
    numbers = identifiers.passport_numbers(rng(), nationality)
    assert len(set(numbers)) == 1000
    assert all(n.isdigit() and len(n) == 9 for n in numbers[::2])
    assert all(n[:2].isalpha() and n[:2].isupper() and n[2:].isdigit() for n in numbers[1::2])


def test_name_pools_meet_the_curation_floor():
    forenames = table("forenames.csv")
    child = forenames[forenames["era"].isin(["child", "any"])].groupby(["name_group", "sex"]).size()
    assert child[("english", "M")] >= 100 and child[("english", "F")] >= 100
    assert child.drop("english", level=0).min() >= 40
    surnames = table("surnames.csv").groupby("name_group").size()
    assert surnames["english"] >= 100 and surnames.drop("english").min() >= 30
    polish = table("surnames.csv").query("name_group == 'polish'")
    assert {"Kowalski", "Wójcik"} <= set(polish["surname"]) and "Kowalska" in set(polish["surname_female"])
    assert {"Łukasz", "Małgorzata"} <= set(forenames["forename"])
    assert forenames["forename"].str.contains("[șț]").any()


def test_aliases_offer_short_forms_and_spellings_from_the_shared_table():
    options = names.alias_options()
    assert "Alfie" in options["alfred"][0]
    assert {"Mohammed", "Mohamed"} <= set(options["muhammad"][1])
    assert "Abdulrahman" in options["abdirahman"][1]
    assert "Mehmet" not in options["muhammad"][1]                  # too far to be the same name
    chosen = names.choose_alias(rng(), np.array(["Alfred", "Olivia", "Zz"], dtype=object), 0)
    assert chosen[0] in options["alfred"][0] and chosen[2] is None


@pytest.mark.parametrize("name, mrz", [("Müller", "MUELLER"), ("O'Brien", "OBRIEN"), ("Łukasz", "LUKASZ"),
                                       ("Smith-Jones", "SMITH JONES"), ("Ștefănescu", "STEFANESCU"),
                                       ("Abdel Rahman", "ABDEL RAHMAN")])
def test_mrz_names(name, mrz):
    assert names.mrz_name(name) == mrz


def test_windows_1252_keeps_what_it_can_and_transliterates_the_rest():
    assert names.cp1252_safe("Wójcik Zoë") == "Wójcik Zoë"
    assert names.cp1252_safe("Łukasz Ștefan") == "Lukasz Stefan"


def test_typos_are_one_or_two_edits_and_only_where_masked():
    words = pd.Series(["Oliver", "Kowalska", "Abdirahman", "Li", None] * 40, dtype=object)
    mask = np.tile([True, True, True, True, True, False, False, False, False, False], 20)
    typed = names.apply_typos(rng(), words, mask)
    changed = typed.notna() & (typed != words)
    assert not changed[~mask].any()
    long_words = mask & words.str.len().gt(2).fillna(False).to_numpy()
    assert changed[long_words].all()
    distances = [OSA.distance(a, b) for a, b in zip(words[long_words], typed[long_words])]
    assert 1 <= min(distances) and max(distances) <= 2
    assert (typed[~long_words & mask].dropna() == "Li").all()      # too short to mistype


def test_day_month_swaps_only_where_the_swap_is_a_different_valid_date():
    dob = np.array([calendar.day(d) for d in (dt.date(2015, 3, 7), dt.date(2015, 3, 3), dt.date(2015, 3, 25))])
    swapped = render.dates_of_birth(rng(), dob, {"dob_day_month_swap": 1.0})
    assert calendar.iso(swapped).tolist() == ["2015-07-03", "2015-03-03", "2015-03-25"]


def test_digit_typos_give_a_valid_date_one_digit_away():
    days = calendar.day(dt.date(2010, 1, 1)) + np.arange(0, 4000, 7)
    typed = render.dates_of_birth(rng(), days, {"dob_digit_typo": 1.0})
    before, after = calendar.iso(days), calendar.iso(typed)
    assert (typed != days).all()
    assert all(sum(a != b for a, b in zip(x, y)) in (1, 2) for x, y in zip(before, after))   # 2019 -> 2018


def test_missing_dates_of_birth_are_written_empty():
    days = np.full(1000, calendar.day(dt.date(2012, 5, 5)))
    out = calendar.iso(render.dates_of_birth(rng(), days, {}, missing_rate=0.3))
    assert 0.2 < (out == "").mean() < 0.4


def test_uk_and_iso_date_text():
    days = np.array([calendar.day(dt.date(2024, 2, 29)), calendar.OPEN])
    assert calendar.iso(days).tolist() == ["2024-02-29", ""]
    assert calendar.uk(days).tolist() == ["29/02/2024", ""]
    assert calendar.year_group(np.array([calendar.day(dt.date(2015, 3, 1))]),
                               np.array([calendar.day(dt.date(2026, 11, 1))]))[0] == 7


def test_addresses_abbreviate_pad_and_blank_by_rate():
    frame = pd.DataFrame({"address_line": ["14 Alder Road"] * 400, "postcode": ["B15 2TT"] * 400,
                          "uprn": np.full(400, 123456789)})
    render.addresses(rng(), frame, {"address_abbreviated": 1.0, "uprn_zero_padded": 1.0, "postcode_missing": 0.25,
                                    "postcode_unformatted": 1.0, "uprn_present": 0.5})
    assert (frame["address_line"] == "14 Alder Rd").all()
    assert set(frame["uprn"].dropna()) == {"000123456789"} and 0.35 < frame["uprn"].isna().mean() < 0.65
    present = frame["postcode"].dropna()
    assert set(present) <= {"b15 2tt", "B152TT", "b152tt"} and 0.15 < frame["postcode"].isna().mean() < 0.35


def test_the_documentation_states_every_rate():
    doc = (Path(__file__).parents[2] / "docs" / "SYNTHETIC.md").read_text(encoding="utf-8")
    rates = table("corruption_rates.csv")
    for _, row in rates.iterrows():
        assert f"| {row['source']} | {row['corruption']} | {row['rate']} |" in doc, (row["source"], row["corruption"])
    for name in (n for n in vars(parameters) if n.isupper()):
        assert f"`{name}`" in doc, name

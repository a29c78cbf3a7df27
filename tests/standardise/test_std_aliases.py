"""Forename aliases from name_aliases.csv."""

import pytest

from linkage.standardise import forename_alias_keys, forename_aliases, spelling_keys


@pytest.mark.parametrize("nickname, full", [
    ("alfie", "alfred"), ("evie", "evelyn"), ("izzy", "isabella"), ("kasia", "katarzyna"),
    ("kuba", "jakub"), ("ollie", "oliver"), ("harry", "henry"), ("teddy", "edward"),
    ("gosia", "malgorzata"), ("voytek", "wojciech"), ("ionut", "ion"), ("mohammed", "muhammad"),
])
def test_nickname_reaches_full_name(nickname, full):
    assert full in forename_aliases(nickname)
    assert nickname in forename_aliases(nickname)
    assert set(forename_aliases(nickname)) & set(forename_aliases(full))


def test_charlie_reaches_both_charles_and_charlotte_but_they_stay_apart():
    assert forename_aliases("charlie") == ["charles", "charlie", "charlotte"]
    assert not set(forename_aliases("charles")) & set(forename_aliases("charlotte"))


def test_aliases_follow_chains_upwards():
    # zosia -> zofia (diminutive) -> sophia (spelling)
    assert forename_aliases("zosia") == ["sophia", "zofia", "zosia"]
    assert "isabella" in forename_aliases("izzy")     # izzy -> isabelle -> isabella


def test_unknown_name_is_its_own_alias():
    assert forename_aliases("xanthe") == ["xanthe"]


def test_aliases_are_sorted_and_unique():
    for name in ("millie", "sasha", "nat", "beth"):
        keys = forename_aliases(name)
        assert keys == sorted(set(keys))


def test_spelling_keys_ignore_diminutives():
    assert spelling_keys("hussein") == ["hussain", "hussein"]
    assert spelling_keys("alfie") == ["alfie"]


def test_two_word_forenames_known_as_one_name():
    assert "abdulrahman" in forename_alias_keys("abdul rahman")
    assert set(forename_alias_keys("abdirahman")) & set(forename_alias_keys("abdul rahman"))
    assert forename_alias_keys("mary jane") == ["mary"]
    assert all(" " not in k for k in forename_alias_keys("abdel rahman ali"))
    assert forename_alias_keys(None) == []

"""Forename aliases: diminutives and spelling variants from ``data/name_aliases.csv``.

Each row links a variant (alfie, kasia, mohammed) to a canonical full form (alfred, katarzyna,
muhammad). A name's alias keys are the canonical forms reachable from it by following
variant -> canonical links upwards (izzy -> isabelle -> isabella), plus the name itself.
Following links only upwards keeps unrelated names apart: charlie reaches both charles and
charlotte, but charles and charlotte share no key.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from .reference import read_reference


@lru_cache(maxsize=2)
def _canonicals_of(kinds: frozenset[str]) -> dict[str, frozenset[str]]:
    """variant -> its direct canonical forms, using rows of the given kinds."""
    links: dict[str, set[str]] = defaultdict(set)
    for row in read_reference("name_aliases.csv"):
        if row["kind"] in kinds:
            links[row["variant"]].add(row["canonical"])
    return {variant: frozenset(canonicals) for variant, canonicals in links.items()}


def _reachable(token: str, kinds: frozenset[str]) -> list[str]:
    links = _canonicals_of(kinds)
    seen, stack = {token}, [token]
    while stack:
        for canonical in links.get(stack.pop(), ()):
            if canonical not in seen:
                seen.add(canonical)
                stack.append(canonical)
    return sorted(seen)


def forename_aliases(token: str) -> list[str]:
    """Sorted canonical keys of a folded name word, always including the word itself.

    >>> forename_aliases("charlie")
    ['charles', 'charlie', 'charlotte']
    """
    return _reachable(token, frozenset({"diminutive", "spelling"}))


def spelling_keys(token: str) -> list[str]:
    """Like forename_aliases but through spelling variants only (hussein -> hussain).

    Used for surnames, where a diminutive makes no sense but transliteration does.
    """
    return _reachable(token, frozenset({"spelling"}))


def is_known_name(phrase: str) -> bool:
    """True if the folded phrase appears in the alias table, as canonical or variant."""
    return phrase in _known_names()


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    rows = read_reference("name_aliases.csv")
    return frozenset(r["canonical"] for r in rows) | frozenset(r["variant"] for r in rows)


def forename_alias_keys(forename_std: str | None) -> list[str]:
    """Alias keys of a folded forename: those of its first word, plus those of its first two
    words when the table knows them as one name ('abdul rahman' -> abdulrahman).

    Keys are single words, so a two-word phrase contributes its canonical forms only.
    """
    if not forename_std:
        return []
    words = forename_std.split(" ")
    keys = set(forename_aliases(words[0]))
    if len(words) > 1:
        for phrase in (f"{words[0]} {words[1]}", words[0] + words[1]):
            if is_known_name(phrase):
                keys |= set(forename_aliases(phrase))
    return sorted(k for k in keys if " " not in k)

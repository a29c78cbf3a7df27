"""Names: weighted pools per name-origin group, their short forms and spellings, and the ways
systems write them (MRZ upper case, Windows-1252, typing errors).

Everything that transforms a name runs over the DISTINCT values of a name column (a vocabulary
of a few thousand) and is joined back with ``Series.map``: never a Python loop per record.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish
import numpy as np
import pandas as pd
from anyascii import anyascii

from . import reference

GROUPS = ("english", "south_asian", "polish", "romanian", "somali_arabic", "west_african")
TYPO_VARIANTS = 6            # precomputed misspellings per distinct name


# ---------------------------------------------------------------- pools and sampling
@lru_cache(maxsize=1)
def _forename_pools() -> pd.DataFrame:
    return reference.weighted("forenames.csv")


@lru_cache(maxsize=1)
def _surname_pools() -> pd.DataFrame:
    return reference.weighted("surnames.csv")


def _draw(rng: np.random.Generator, pool: pd.DataFrame, count: int, column: str) -> np.ndarray:
    weights = pool["weight"].to_numpy()
    picks = rng.choice(len(pool), size=count, p=weights / weights.sum())
    return pool[column].to_numpy(dtype=object)[picks]


def sample_forenames(rng: np.random.Generator, group: np.ndarray, sex: np.ndarray, era: str) -> np.ndarray:
    """A weighted forename per person from the pool of its group and sex.

    ``era`` is ``child`` or ``adult``; groups without an era-specific list use their ``any`` list.
    """
    pools = _forename_pools()
    out = np.empty(len(group), dtype=object)
    for g in GROUPS:
        for s in ("M", "F"):
            idx = np.flatnonzero((group == g) & (sex == s))
            if idx.size:
                pool = pools[(pools["name_group"] == g) & (pools["sex"] == s) & pools["era"].isin([era, "any"])]
                out[idx] = _draw(rng, pool, idx.size, "forename")
    return out


def sample_surnames(rng: np.random.Generator, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A weighted surname per family: (masculine form, feminine form); they differ for Polish -ski names."""
    pools = _surname_pools()
    male = np.empty(len(group), dtype=object)
    female = np.empty(len(group), dtype=object)
    for g in GROUPS:
        idx = np.flatnonzero(group == g)
        if idx.size:
            pool = pools[pools["name_group"] == g].reset_index(drop=True)
            weights = pool["weight"].to_numpy()
            picks = rng.choice(len(pool), size=idx.size, p=weights / weights.sum())
            male[idx] = pool["surname"].to_numpy(dtype=object)[picks]
            female[idx] = pool["surname_female"].to_numpy(dtype=object)[picks]
    return male, female


def differing_forenames(rng: np.random.Generator, group: np.ndarray, sex: np.ndarray, era: str,
                        avoid: np.ndarray, attempts: int = 8) -> np.ndarray:
    """Forenames drawn like ``sample_forenames`` but never equal to ``avoid`` (twins' names)."""
    names = sample_forenames(rng, group, sex, era)
    for _ in range(attempts):           # a few redraws over the clashing subset, not per person
        clash = np.flatnonzero(names == avoid)
        if clash.size == 0:
            break
        names[clash] = sample_forenames(rng, group[clash], sex[clash], era)
    clash = names == avoid
    names[clash] = np.where(sex[clash] == "F", "Ellie", "Sam")   # vanishingly rare fallback
    return names


# ---------------------------------------------------------------- short forms and spellings
def fold_key(name: str) -> str:
    """The alias table's key for a name: ASCII lower case (Małgorzata -> malgorzata)."""
    return anyascii(name).lower().strip()


def _display(folded: str) -> str:
    return " ".join(part.capitalize() for part in folded.split(" "))


@lru_cache(maxsize=1)
def alias_options() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Folded forename -> (diminutives, other spellings) as display strings.

    Spellings are the other members of the name's spelling set (Mohammed, Mohamed for Muhammad),
    kept only when they look like the same name (same initial, Jaro-Winkler >= 0.75 to the name
    and to the set's root): the
    standardisation table also lists far variants (Md, Mehmet) that would make poor test data.
    """
    aliases = reference.name_aliases()
    dim = aliases[aliases["kind"] == "diminutive"]
    spell = aliases[aliases["kind"] == "spelling"]
    diminutives = dim.groupby("canonical")["variant"].agg(lambda v: sorted(set(v))).to_dict()
    canonical_of = dict(zip(spell["variant"], spell["canonical"]))
    spelling_sets = spell.groupby("canonical")["variant"].agg(lambda v: sorted(set(v))).to_dict()
    options: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    pools = _forename_pools()
    for name in sorted(set(pools["forename"])):       # distinct pool names: a small vocabulary
        key = fold_key(name)
        root = canonical_of.get(key, key)
        family = [root] + spelling_sets.get(root, [])
        spellings = tuple(_display(v) for v in family
                          if v != key and v[:1] == key[:1] and len(v) >= 4
                          and min(jellyfish.jaro_winkler_similarity(v, key),
                                  jellyfish.jaro_winkler_similarity(v, root)) >= 0.75)
        shorts = tuple(_display(v) for v in diminutives.get(key, []) if len(v) >= 2)
        if spellings or shorts:
            options[key] = (shorts, spellings)
    return options


def choose_alias(rng: np.random.Generator, forenames: np.ndarray, which: int) -> np.ndarray:
    """Per person, one random diminutive (``which=0``) or other spelling (``which=1``); None if none."""
    options = alias_options()
    keys = pd.Series(forenames, dtype=object).map(lambda n: fold_key(n) if isinstance(n, str) else "")
    choices = keys.map(lambda k: options.get(k, ((), ()))[which])   # over distinct keys via map
    counts = choices.map(len).to_numpy()
    pick = np.floor(rng.random(len(counts)) * np.maximum(counts, 1)).astype(int)
    flat = pd.DataFrame({"choices": choices, "pick": pick})
    has = counts > 0
    out = np.full(len(counts), None, dtype=object)
    if has.any():
        sub = flat[has].explode("choices")
        sub["rank"] = sub.groupby(level=0).cumcount()
        chosen = sub[sub["rank"] == sub["pick"]]["choices"]
        out[np.flatnonzero(has)] = chosen.to_numpy(dtype=object)
    return out


# ---------------------------------------------------------------- how systems write names
_MRZ_EXPANSIONS = (("Ä", "AE"), ("Ö", "OE"), ("Ü", "UE"), ("Å", "AA"), ("Ø", "OE"), ("Æ", "AE"))
_NOT_MRZ = re.compile(r"[^A-Z]+")


def mrz_name(name: str) -> str:
    """A name as a passport's machine-readable zone gives it (ICAO 9303).

    Upper case, German/Nordic letters expanded (Ü -> UE), other diacritics dropped (Ł -> L,
    Ș -> S), apostrophes removed (O'Brien -> OBRIEN), hyphens and spaces as one space.
    """
    text = name.upper()
    for letter, expansion in _MRZ_EXPANSIONS:
        text = text.replace(letter, expansion)
    text = anyascii(text).upper().replace("'", "")
    return _NOT_MRZ.sub(" ", text).strip()


def cp1252_safe(text: str) -> str:
    """Text a Windows-1252 system can store: characters it lacks are transliterated (Ł -> L)."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            out.append(anyascii(ch))
    return "".join(out)


def map_distinct(values: pd.Series, func) -> pd.Series:
    """``func`` applied once per distinct non-missing value and joined back (small vocabularies)."""
    mapping = {v: func(v) for v in pd.unique(values.dropna())}
    return values.map(mapping)


# ---------------------------------------------------------------- typing errors
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours(letter: str) -> str:
    for row in _KEYBOARD:
        i = row.find(letter.lower())
        if i >= 0:
            return row[max(0, i - 1):i] + row[i + 1:i + 2]
    return "e"


def _one_edit(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3:
        return word
    pos = int(rng.integers(1, len(word)))            # first letters are rarely mistyped
    kind = int(rng.integers(0, 4))
    upper = word[pos].isupper()
    if kind == 0 and word[pos].isalpha():            # substitution by a neighbouring key
        options = _neighbours(word[pos])
        new = options[int(rng.integers(0, len(options)))]
        return word[:pos] + (new.upper() if upper else new) + word[pos + 1:]
    if kind == 1 and len(word) > 3:                  # deletion
        return word[:pos] + word[pos + 1:]
    if kind == 2:                                    # doubled letter
        return word[:pos] + word[pos] + word[pos:]
    if pos < len(word) - 1:                          # transposition of neighbours
        return word[:pos] + word[pos + 1] + word[pos] + word[pos + 2:]
    return word[:pos] + word[pos] + word[pos:]


def misspellings(rng: np.random.Generator, word: str) -> list[str]:
    """TYPO_VARIANTS misspellings of a word, each 1 or 2 edits away and different from it."""
    if len(word) < 3:                                # too short to mistype believably
        return [word] * TYPO_VARIANTS
    out = []
    for _ in range(TYPO_VARIANTS):
        variant = _one_edit(word, rng)
        if rng.random() < 0.2:
            variant = _one_edit(variant, rng)
        out.append(variant if variant != word else _one_edit(word + word[-1:], rng))
    return out


def apply_typos(rng: np.random.Generator, values: pd.Series, mask: np.ndarray) -> pd.Series:
    """``values`` with a misspelling where ``mask`` holds (and the value is present).

    Misspellings are precomputed per distinct masked value (sorted, so the result is
    deterministic) and joined to the records, each record picking one at random.
    """
    values = values.copy()
    hit = np.asarray(mask, bool) & values.notna().to_numpy()
    if not hit.any():
        return values
    distinct = sorted(set(values[hit]))
    variants = pd.DataFrame([(word, slot, variant) for word in distinct
                             for slot, variant in enumerate(misspellings(rng, word))],
                            columns=["word", "slot", "variant"])
    picks = pd.DataFrame({"word": values[hit].to_numpy(dtype=object),
                          "slot": rng.integers(0, TYPO_VARIANTS, size=int(hit.sum()))})
    values.loc[hit] = picks.merge(variants, on=["word", "slot"], how="left")["variant"].to_numpy(dtype=object)
    return values

"""Person names: folding to plain a-z, tokens, spelling variants and phonetic keys.

Everything here is pure Python on one value. Standardisation applies it to the DISTINCT raw
names of a run (a small vocabulary) and joins the results back in SQL.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish
from anyascii import anyascii

from .aliases import spelling_keys
from .reference import read_reference

# Removed outright, so O'Brien -> obrien (anyascii already turns curly quotes into ').
_APOSTROPHES = re.compile(r"['`]")
# Characters that separate words: hyphens, underscores, MRZ filler '<', dots, commas, slashes,
# brackets and whitespace. Any other non-letter (digits, '=', '@', ...) is dropped.
_SEPARATORS = re.compile(r"[\s\-_<.,/\\()\[\]&+;:|\"]+")
_NON_LETTERS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r" +")

# German umlauts (and Nordic letters) as MRZ/passport spelling writes them; anyascii gives the
# bare vowel instead, so both spellings are generated from a raw name that has one.
_UMLAUT_EXPANSIONS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ø", "oe"), ("æ", "ae"), ("å", "aa"))
_HAS_UMLAUT = re.compile("[äöüøæåÄÖÜØÆÅ]")

# 'ae'/'oe'/'ue' after a consonant, read as a written-out umlaut (mueller -> muller), except
# where English and Romance spellings use the same letters: 'que'/'gue' (miguel, rodriguez),
# the vowel pair ending the word (zoe, chloe, sue) and a single 'l' after it
# (samuel, manuel, joel, noel, michael, raphael); 'ell' still counts (mueller, moeller).
_WRITTEN_UMLAUT = re.compile(r"(?<=[b-df-hj-np-tv-z])((?<![qg])u|a|o)e(?!l(?!l)|$)")

# Polish feminine surname endings and their masculine form (Kowalska -> Kowalski).
_POLISH_FEMININE = re.compile(r"(?<=.{2})(sk|ck|dzk)a$")


def fold_name(s: str | None) -> str | None:
    """Fold a name to lower-case a-z words separated by single spaces; None if nothing is left.

    Transliterates with anyascii (Łukasz -> lukasz, Straße -> strasse), removes apostrophes
    (O'Brien -> obrien) and treats hyphens, MRZ '<', dots and commas as word breaks.
    """
    if s is None:
        return None
    text = _APOSTROPHES.sub("", anyascii(str(s)).lower())
    text = _NON_LETTERS.sub("", _SEPARATORS.sub(" ", text))
    text = _SPACES.sub(" ", text).strip()
    return text or None


def name_tokens(s: str | None) -> list[str]:
    """The words of the folded name, in order (empty list for a missing name)."""
    folded = fold_name(s)
    return folded.split(" ") if folded else []


def _expand_umlauts(s: str) -> str:
    for letter, expansion in _UMLAUT_EXPANSIONS:
        s = s.replace(letter, expansion).replace(letter.upper(), expansion.upper())
    return s


def _folded_forms(s: str) -> set[str]:
    """The folded spellings of a raw name: anyascii, plus umlauts written out if it has any."""
    forms = {fold_name(s)}
    if _HAS_UMLAUT.search(s):
        forms.add(fold_name(_expand_umlauts(s)))
    return {f for f in forms if f}


def _contract_written_umlauts(token: str) -> str:
    """mueller -> muller; tokens where the pair is not an umlaut are returned unchanged."""
    return _WRITTEN_UMLAUT.sub(r"\1", token)


def _token_variants(token: str) -> set[str]:
    variants = {token, _contract_written_umlauts(token)}
    variants |= {_POLISH_FEMININE.sub(r"\1i", v) for v in list(variants)}
    return variants


def name_variants(token: str) -> list[str]:
    """Spelling variants of one name word (raw or folded), sorted, including its folded form.

    German umlauts both ways (Müller and MUELLER both give mueller and muller) and Polish
    feminine surnames to the masculine (kowalska -> kowalski).
    """
    variants: set[str] = set()
    for form in _folded_forms(str(token)):
        for word in form.split(" "):
            variants |= _token_variants(word)
    return sorted(variants)


@lru_cache(maxsize=1)
def _particles() -> frozenset[str]:
    return frozenset(row["particle"] for row in read_reference("name_particles.csv"))


def _joined_particle_forms(tokens: list[str]) -> set[str]:
    """'al hassan' -> alhassan, 'van der berg' -> vanderberg: how other systems write them."""
    particles, joined, run = _particles(), set(), []
    for token in tokens:
        if token in particles:
            run.append(token)
            continue
        if run:
            joined.add("".join(run) + token)
        run = []
    return joined


def surname_token_set(s: str | None) -> list[str]:
    """Sorted tokens of a surname with every variant another system might have recorded.

    The folded tokens (particles kept), particle-joined forms, umlaut and Polish variants,
    and the standard spelling of transliterated names (hussein -> hussain).
    """
    if s is None:
        return []
    tokens: set[str] = set()
    for form in _folded_forms(str(s)):
        words = form.split(" ")
        tokens |= set(words) | _joined_particle_forms(words)
    for token in list(tokens):
        tokens |= _token_variants(token)
    for token in list(tokens):
        tokens |= set(spelling_keys(token))
    return sorted(tokens)


def phonetic(token: str | None) -> str | None:
    """NYSIIS phonetic key of a folded name word (None for a missing word)."""
    if not token:
        return None
    return jellyfish.nysiis(token) or None

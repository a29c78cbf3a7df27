"""How a source writes a person down: the corruptions of ``data/corruption_rates.csv``.

Every corruption is a boolean mask drawn at the source's rate and applied to whole columns.
The input frame holds the truth (legal forename, short form, other spelling, current surname,
its masculine form, date of birth, dwelling); the output columns hold what the source recorded.
Names go in two steps every source shares: ``child_names`` (the truth on the record's date)
then ``recorded_names`` (what the source wrote).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import calendar, names
from .calendar import OPEN
from .timeline import masculine_surname_at, surname_at

ABBREVIATIONS = ((r"\bRoad\b", "Rd"), (r"\bStreet\b", "St"), (r"\bAvenue\b", "Ave"),
                 (r"\bCrescent\b", "Cres"), (r"\bDrive\b", "Dr"), (r"\bClose\b", "Cl"))


def mask(rng: np.random.Generator, count: int, rate: float) -> np.ndarray:
    """A boolean mask with each element true at ``rate``."""
    return rng.random(count) < rate


def child_names(ch: pd.DataFrame, child_no: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    """Each child's true names on a day: one row per (child_no, day) pair, in the order given.

    Columns: person_id, forename, middle_names, short_form, other_spelling, surname (the legal
    one on that day), former_surname and preferred_surname (None unless a name change applies
    by then), surname_used (the preferred surname where there is one: the name the family uses)
    and surname_masc (the masculine form of the legal surname, for a Polish girl; else None).
    """
    c = ch.set_index("child_no").loc[np.asarray(child_no)].reset_index()
    legal, former, preferred = surname_at(ch, child_no, days)
    return pd.DataFrame({
        "person_id": c["person_id"].to_numpy(), "forename": c["forename"], "middle_names": c["middle_names"],
        "short_form": c["short_form"], "other_spelling": c["other_spelling"], "surname": legal,
        "former_surname": former, "preferred_surname": preferred,
        "surname_used": np.where(pd.notna(preferred), preferred, legal),
        "surname_masc": polish_masculine(c["sex"], c["name_group"], masculine_surname_at(c, days)),
    })


def recorded_names(rng: np.random.Generator, truth: pd.DataFrame, rates: dict[str, float], *,
                   surname: str = "surname", middle_names: bool = True) -> pd.DataFrame:
    """The names a source writes down for the people of ``truth``: columns person_id, forename,
    middle_names (unless ``middle_names`` is False: the source has none) and surname, taken
    from ``truth[surname]``. ``truth`` has the columns of :func:`child_names` (or at least
    person_id, forename, middle_names, short_form, other_spelling, surname_masc and ``surname``).
    """
    kept = ["person_id", "forename"] + (["middle_names"] if middle_names else []) + ["short_form", "other_spelling"]
    frame = truth[kept].copy()
    frame["surname"] = truth[surname]
    frame["surname_masc"] = truth["surname_masc"]
    frame["forename"] = forenames(rng, frame, rates)
    frame["surname"] = surnames(rng, frame, rates)
    finish_names(rng, frame, rates, middle="middle_names" if middle_names else None)
    return frame.drop(columns=["short_form", "other_spelling", "surname_masc"])


def forenames(rng: np.random.Generator, frame: pd.DataFrame, rates: dict[str, float]) -> pd.Series:
    """Recorded forename: the legal one, or the short form the person goes by, or another spelling."""
    n = len(frame)
    short = frame["short_form"].to_numpy(dtype=object)
    spelling = frame["other_spelling"].to_numpy(dtype=object)
    use_short = pd.notna(short) & mask(rng, n, rates.get("diminutive", 0.0))
    use_spelling = ~use_short & pd.notna(spelling) & mask(rng, n, rates.get("spelling_variant", 0.0))
    out = np.where(use_short, short, np.where(use_spelling, spelling, frame["forename"].to_numpy(dtype=object)))
    return pd.Series(out, index=frame.index, dtype=object)


def surnames(rng: np.random.Generator, frame: pd.DataFrame, rates: dict[str, float]) -> pd.Series:
    """Recorded surname: masculine Polish form for a woman, or one part of a double-barrelled name."""
    n = len(frame)
    surname = frame["surname"].astype(object)
    masc = frame["surname_masc"].to_numpy(dtype=object)
    use_masc = pd.notna(masc) & mask(rng, n, rates.get("polish_masculine_form", 0.0))
    surname = pd.Series(np.where(use_masc, masc, surname), index=frame.index, dtype=object)
    hyphenated = surname.str.contains("-", regex=False).fillna(False).to_numpy()
    part = hyphenated & mask(rng, n, rates.get("hyphen_part", 0.0))
    if part.any():
        pieces = surname[part].str.split("-", n=1, expand=True)
        choice = rng.integers(0, 3, size=int(part.sum()))
        surname.loc[part] = np.where(choice == 0, pieces[0], np.where(choice == 1, pieces[1],
                                                                       pieces[0] + " " + pieces[1]))
    return surname


def finish_names(rng: np.random.Generator, frame: pd.DataFrame, rates: dict[str, float],
                 forename: str = "forename", surname: str = "surname", middle: str | None = "middle_names") -> None:
    """Swap, misspell, drop middle names and upper-case the name columns of ``frame`` in place."""
    n = len(frame)
    swap = mask(rng, n, rates.get("name_swap", 0.0))
    first, last = frame[forename].copy(), frame[surname].copy()
    frame[forename] = np.where(swap, last, first)
    frame[surname] = np.where(swap, first, last)
    frame[forename] = names.apply_typos(rng, frame[forename].astype(object), mask(rng, n, rates.get("typo_forename", 0.0)))
    frame[surname] = names.apply_typos(rng, frame[surname].astype(object), mask(rng, n, rates.get("typo_surname", 0.0)))
    if middle is not None:
        drop = mask(rng, n, rates.get("middle_names_missing", 0.0))
        frame[middle] = np.where(drop, None, frame[middle].to_numpy(dtype=object))
    upper = mask(rng, n, rates.get("upper_case", 0.0))
    for column in [forename, surname] + ([middle] if middle else []):
        values = frame[column].astype(object)
        frame[column] = values.where(~upper | values.isna(), values.str.upper())


def dates_of_birth(rng: np.random.Generator, dob: np.ndarray, rates: dict[str, float],
                   missing_rate: float | np.ndarray = 0.0) -> np.ndarray:
    """Recorded dates of birth: day/month swapped, one digit mistyped, or missing (OPEN)."""
    dob = np.asarray(dob, dtype=np.int64).copy()
    n = dob.size
    year, month, dom = calendar.split(dob)
    swap = mask(rng, n, rates.get("dob_day_month_swap", 0.0)) & (dom <= 12) & (dom != month)
    dob[swap] = calendar.compose(year[swap], dom[swap], month[swap])
    typo = ~swap & mask(rng, n, rates.get("dob_digit_typo", 0.0))
    dob[typo] = _digit_typo(rng, dob[typo])
    missing = rng.random(n) < missing_rate
    dob[missing] = OPEN
    return dob


def _digit_typo(rng: np.random.Generator, dob: np.ndarray) -> np.ndarray:
    """Change the units digit of the day (when the result is a valid day) or else of the year."""
    year, month, dom = calendar.split(dob)
    new_digit = (dom % 10 + rng.integers(1, 10, dob.size)) % 10
    new_day = dom // 10 * 10 + new_digit
    day_ok = (new_day >= 1) & (new_day <= calendar.month_length(year, month))
    new_year = np.where(year % 10 == 9, year - 1, year + 1)
    safe_day = np.minimum(dom, calendar.month_length(new_year, month))
    return np.where(day_ok, calendar.compose(year, month, np.where(day_ok, new_day, 1)),
                    calendar.compose(new_year, month, safe_day))


def place(frame: pd.DataFrame, dwellings: pd.DataFrame, dwelling_id: np.ndarray) -> None:
    """Set the true address columns (address_line, postcode, uprn) of each row's dwelling, in place."""
    d = dwellings.set_index("dwelling_id").loc[np.asarray(dwelling_id)]
    for column in ("address_line", "postcode", "uprn"):
        frame[column] = d[column].to_numpy()


def addresses(rng: np.random.Generator, frame: pd.DataFrame, rates: dict[str, float]) -> None:
    """Abbreviate, reformat and blank the address columns of ``frame`` in place."""
    n = len(frame)
    line = frame["address_line"].astype(object)
    abbreviate = mask(rng, n, rates.get("address_abbreviated", 0.0))
    short = line[abbreviate]
    for pattern, replacement in ABBREVIATIONS:
        short = short.str.replace(pattern, replacement, regex=True)
    line.loc[abbreviate] = short
    upper = mask(rng, n, rates.get("upper_case", 0.0))
    frame["address_line"] = line.where(~upper, line.str.upper())
    postcode = frame["postcode"].astype(object)
    messy = mask(rng, n, rates.get("postcode_unformatted", 0.0))
    style = rng.integers(0, 3, n)
    frame["postcode"] = np.where(messy & (style == 0), postcode.str.lower(),
                                 np.where(messy & (style == 1), postcode.str.replace(" ", "", regex=False),
                                          np.where(messy, postcode.str.lower().str.replace(" ", "", regex=False),
                                                   postcode)))
    frame.loc[mask(rng, n, rates.get("postcode_missing", 0.0)), "postcode"] = None
    uprn = pd.Series(frame["uprn"].to_numpy(), index=frame.index).astype("int64").astype(str)
    if rates.get("uprn_zero_padded", 0.0) > 0:
        pad = mask(rng, n, rates["uprn_zero_padded"])
        uprn = uprn.where(~pad, uprn.str.zfill(12))
    keep = mask(rng, n, rates.get("uprn_present", 1.0))
    frame["uprn"] = uprn.where(keep, None).astype(object)


def polish_masculine(sex: np.ndarray, group: np.ndarray, masculine: np.ndarray) -> np.ndarray:
    """The masculine form of a Polish woman's or girl's surname (None for everyone else)."""
    female_polish = (np.asarray(sex, dtype=object) == "F") & (np.asarray(group, dtype=object) == "polish")
    return np.where(female_polish, masculine, None)

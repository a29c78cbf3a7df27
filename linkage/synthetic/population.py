"""The people: households of 1-2 carers and 1-4 children, with names, birth dates and sexes.

Children are 0-17 on the reference date, at least ``SIBLING_MIN_GAP_DAYS`` apart unless twins.
Siblings share a surname except half-siblings; carers' surnames sometimes differ from the
children's; Polish women and girls carry the feminine form (Kowalska) of the family name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import calendar, names, parameters as P, reference


@dataclass
class Population:
    households: pd.DataFrame   # hh_id, name_group, n_children, n_carers, ctr_claim, double_barrelled
    children: pd.DataFrame     # child_no, hh_id, rank, dob, sex, names..., twin
    adults: pd.DataFrame       # adult_no, hh_id, role (mother/father/carer), dob, sex, names...


def _household_sizes(rng: np.random.Generator, n_children: int) -> np.ndarray:
    sizes = np.array(list(P.CHILDREN_PER_HOUSEHOLD))
    probs = np.array(list(P.CHILDREN_PER_HOUSEHOLD.values()))
    mean = float(sizes @ probs)
    drawn = rng.choice(sizes, size=int(n_children / mean * 1.2) + 10, p=probs)
    while drawn.sum() < n_children:               # a rare top-up, a few vectorised draws at most
        drawn = np.r_[drawn, rng.choice(sizes, size=n_children // 4 + 10, p=probs)]
    total = np.cumsum(drawn)
    last = int(np.searchsorted(total, n_children))
    drawn = drawn[:last + 1].copy()
    drawn[-1] -= total[last] - n_children         # trim the last household to hit n exactly
    return drawn


def make_population(rng: np.random.Generator, n_children: int, reference_day: int, max_age_days: int) -> Population:
    """Households, children and carers for ``n_children`` children."""
    groups = reference.table("name_groups.csv")
    share = groups["share"].astype(float).to_numpy()
    sizes = _household_sizes(rng, n_children)
    n_hh = len(sizes)
    hh = pd.DataFrame({
        "hh_id": np.arange(n_hh),
        "name_group": rng.choice(groups["name_group"].to_numpy(dtype=object), size=n_hh, p=share / share.sum()),
        "n_children": sizes,
        "n_carers": np.where(rng.random(n_hh) < P.TWO_CARERS, 2, 1),
        "ctr_claim": rng.random(n_hh) < P.COUNCIL_TAX_REDUCTION_CLAIM,
    })
    hh["double_barrelled"] = (hh["name_group"] == "english") & (rng.random(n_hh) < P.DOUBLE_BARRELLED)
    hh["fam_m"], hh["fam_f"] = names.sample_surnames(rng, hh["name_group"].to_numpy(dtype=object))
    hh["other_m"], hh["other_f"] = names.sample_surnames(rng, hh["name_group"].to_numpy(dtype=object))
    children = _children(rng, hh, reference_day, max_age_days)
    adults = _adults(rng, hh, children, groups)
    return Population(hh, children, adults)


def _children(rng: np.random.Generator, hh: pd.DataFrame, reference_day: int, max_age_days: int) -> pd.DataFrame:
    n = int(hh["n_children"].sum())
    ch = pd.DataFrame({"hh_id": np.repeat(hh["hh_id"].to_numpy(), hh["n_children"].to_numpy())})
    ch["child_no"] = np.arange(n)
    size = hh["n_children"].to_numpy()[ch["hh_id"]]
    group = hh["name_group"].to_numpy(dtype=object)[ch["hh_id"]]
    # Sorted uniform ages plus rank * gap: siblings at least the gap apart, all within 0-17.
    span = max_age_days - (size - 1) * P.SIBLING_MIN_GAP_DAYS
    ch["u"] = rng.random(n) * span
    ch = ch.sort_values(["hh_id", "u"], kind="stable", ignore_index=True)
    ch["rank"] = ch.groupby("hh_id").cumcount()
    age = np.floor(ch["u"].to_numpy() + ch["rank"].to_numpy() * P.SIBLING_MIN_GAP_DAYS).astype(np.int64)
    ch["dob"] = reference_day - age
    ch = ch.sort_values("child_no", ignore_index=True).drop(columns="u")
    size = hh["n_children"].to_numpy()[ch["hh_id"]]
    ch["name_group"] = group
    ch["sex"] = np.where(rng.random(n) < P.MALE_SHARE, "M", "F").astype(object)
    ch["forename"] = names.sample_forenames(rng, group, ch["sex"].to_numpy(dtype=object), "child")
    _make_twins(rng, ch, hh, size)
    groups = reference.table("name_groups.csv").set_index("name_group")
    middle_rate = groups["middle_name_rate"].astype(float).reindex(group).to_numpy()
    middle = names.sample_forenames(rng, group, ch["sex"].to_numpy(dtype=object), "child")
    ch["middle_names"] = np.where(rng.random(n) < middle_rate, middle, None)
    _child_surnames(rng, ch, hh, size)
    _aliases(rng, ch)
    return ch


def _make_twins(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, size: np.ndarray) -> None:
    """The two youngest children of some multi-child households become twins."""
    multi = hh["n_children"].to_numpy() >= 2
    p = min(1.0, P.TWIN_SHARE * len(ch) / 2 / max(1, multi.sum()))
    twin_hh = multi & (rng.random(len(hh)) < p)
    in_twin_hh = twin_hh[ch["hh_id"].to_numpy()]
    first = np.flatnonzero(in_twin_hh & (ch["rank"].to_numpy() == 0))
    second = np.flatnonzero(in_twin_hh & (ch["rank"].to_numpy() == 1))   # same households, same order
    ch["twin"] = False
    ch.loc[first, "twin"] = True
    ch.loc[second, "twin"] = True
    ch.loc[second, "dob"] = ch["dob"].to_numpy()[first]
    same_sex = rng.random(second.size) < P.TWINS_SAME_SEX
    other = np.where(ch["sex"].to_numpy(dtype=object)[first] == "M", "F", "M")
    ch.loc[second, "sex"] = np.where(same_sex, ch["sex"].to_numpy(dtype=object)[first], other)
    ch.loc[second, "forename"] = names.differing_forenames(
        rng, ch["name_group"].to_numpy(dtype=object)[second], ch["sex"].to_numpy(dtype=object)[second],
        "child", ch["forename"].to_numpy(dtype=object)[first])


def _child_surnames(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, size: np.ndarray) -> None:
    h = ch["hh_id"].to_numpy()
    fam_m = hh["fam_m"].to_numpy(dtype=object)[h]
    fam_f = hh["fam_f"].to_numpy(dtype=object)[h]
    barrel = hh["double_barrelled"].to_numpy()[h]
    fam_m = np.where(barrel, fam_m + "-" + hh["other_m"].to_numpy(dtype=object)[h], fam_m)
    fam_f = np.where(barrel, fam_f + "-" + hh["other_f"].to_numpy(dtype=object)[h], fam_f)
    half = (size >= 2) & ~ch["twin"].to_numpy() & (rng.random(len(ch)) < P.HALF_SIBLING_SURNAME)
    own_m, own_f = names.sample_surnames(rng, ch["name_group"].to_numpy(dtype=object))
    ch["surname_m"] = np.where(half, own_m, fam_m)          # masculine form of the child's surname
    ch["surname_f"] = np.where(half, own_f, fam_f)
    ch["surname"] = np.where(ch["sex"] == "F", ch["surname_f"], ch["surname_m"])


def _aliases(rng: np.random.Generator, people: pd.DataFrame) -> None:
    """Short form the person goes by (if any) and another spelling of the forename (if any)."""
    short = names.choose_alias(rng, people["forename"].to_numpy(dtype=object), 0)
    goes_by = rng.random(len(people)) < P.GOES_BY_SHORT_FORM
    people["short_form"] = np.where(goes_by, short, None)
    people["other_spelling"] = names.choose_alias(rng, people["forename"].to_numpy(dtype=object), 1)


def _adults(rng: np.random.Generator, hh: pd.DataFrame, ch: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    eldest_dob = ch.groupby("hh_id")["dob"].min().reindex(hh["hh_id"]).to_numpy()
    n_hh = len(hh)
    two = hh["n_carers"].to_numpy() == 2
    first_is_mother = two | (rng.random(n_hh) < P.SINGLE_CARER_IS_MOTHER)
    group = hh["name_group"].to_numpy(dtype=object)
    keep_rate = groups.set_index("name_group")["carer_keeps_family_surname_rate"].astype(float).reindex(group).to_numpy()
    mother_keeps = np.where(two, rng.random(n_hh) < keep_rate, rng.random(n_hh) < P.SINGLE_CARER_SHARES_SURNAME)
    own_m, own_f = names.sample_surnames(rng, group)
    first = pd.DataFrame({
        "hh_id": hh["hh_id"], "role": np.where(first_is_mother, "mother", "father"),
        "sex": np.where(first_is_mother, "F", "M"),
        "dob": eldest_dob - calendar.uniform(rng, np.full(n_hh, 20 * 365), 40 * 365),
        "surname_m": np.where(mother_keeps, hh["fam_m"], own_m),
        "surname_f": np.where(mother_keeps, hh["fam_f"], own_f),
    })
    # In double-barrelled families the mother usually kept her own (second) part.
    barrel = hh["double_barrelled"].to_numpy() & first_is_mother
    first.loc[barrel, "surname_m"] = hh["other_m"].to_numpy(dtype=object)[barrel]
    first.loc[barrel, "surname_f"] = hh["other_f"].to_numpy(dtype=object)[barrel]
    idx2 = np.flatnonzero(two)
    father_keeps = rng.random(idx2.size) < P.FATHER_SHARES_SURNAME
    second = pd.DataFrame({
        "hh_id": hh["hh_id"].to_numpy()[idx2], "role": "father", "sex": "M",
        "dob": first["dob"].to_numpy()[idx2] + calendar.uniform(rng, np.full(idx2.size, -6 * 365), 3 * 365),
        "surname_m": np.where(father_keeps, hh["fam_m"].to_numpy(dtype=object)[idx2], own_m[idx2]),
        "surname_f": np.where(father_keeps, hh["fam_f"].to_numpy(dtype=object)[idx2], own_f[idx2]),
    })
    adults = pd.concat([first, second], ignore_index=True).sort_values(["hh_id", "role"], kind="stable",
                                                                      ignore_index=True)
    adults["sex"] = adults["sex"].astype(object)
    adults["role"] = adults["role"].astype(object)
    adults["name_group"] = hh["name_group"].to_numpy(dtype=object)[adults["hh_id"]]
    adults["surname"] = np.where(adults["sex"] == "F", adults["surname_f"], adults["surname_m"])
    adults["forename"] = names.sample_forenames(rng, adults["name_group"].to_numpy(dtype=object),
                                                adults["sex"].to_numpy(dtype=object), "adult")
    adults["middle_names"] = None
    adults.insert(0, "adult_no", np.arange(len(adults)))
    _aliases(rng, adults)
    return adults

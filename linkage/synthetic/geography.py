"""Places: local authorities and their postcode districts, dwellings, schools and GP practices.

A dwelling has a UPRN (unique, stable across sources), a free-text address ("14 Alder Road",
"Flat 3, 20 Mill Lane") and a postcode in one of its LA's districts. About a dozen neighbouring
dwellings of a street share a postcode unit, as in real life.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ChildlinkError
from . import reference
from .identifiers import uprns

INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))   # no C, I, K, M, O, V in the inward code
HOUSES_PER_STREET = 45
HOUSES_PER_POSTCODE = 12
FLAT_BLOCK_SHARE = 0.15        # streets whose dwellings are flats in one building


def local_authorities(home_la: str) -> pd.DataFrame:
    """``la_code, la_name, ods_region_letter, move_in_weight, is_home`` for every LA of the world."""
    las = reference.table("local_authorities.csv")
    if home_la not in set(las["la_code"]):
        raise ChildlinkError(f"home LA {home_la} is not one of the synthetic world's LAs "
                             f"({', '.join(las['la_code'])})")
    las["move_in_weight"] = las["move_in_weight"].astype(float)
    las["is_home"] = las["la_code"] == home_la
    return las


def postcode_districts() -> pd.DataFrame:
    """``postcode_district, la_code``: the lookup the job's ``postcode_lookup`` file holds."""
    return reference.table("postcode_districts.csv")


def _street_names(rng: np.random.Generator, count: int) -> np.ndarray:
    streets = reference.weighted("streets.csv")
    stems = streets[streets["part"] == "stem"]
    kinds = streets[streets["part"] == "type"]
    stem = rng.choice(stems["value"].to_numpy(dtype=object), size=count, p=_p(stems))
    kind = rng.choice(kinds["value"].to_numpy(dtype=object), size=count, p=_p(kinds))
    return (pd.Series(stem) + " " + pd.Series(kind)).to_numpy(dtype=object)


def _p(frame: pd.DataFrame) -> np.ndarray:
    return (frame["weight"] / frame["weight"].sum()).to_numpy()


def make_dwellings(rng: np.random.Generator, la_of_dwelling: np.ndarray) -> pd.DataFrame:
    """One dwelling per entry of ``la_of_dwelling`` (its LA code), in that order.

    Columns: ``dwelling_id`` (= position), ``la_code``, ``uprn``, ``address_line``, ``postcode``.
    """
    la_of_dwelling = np.asarray(la_of_dwelling, dtype=object)
    districts = postcode_districts()
    frames = []
    for la in sorted(set(la_of_dwelling)):          # a handful of LAs
        idx = np.flatnonzero(la_of_dwelling == la)
        frames.append(_dwellings_in(rng, idx, districts.loc[districts["la_code"] == la, "postcode_district"]
                                    .to_numpy(dtype=object)))
    dwellings = pd.concat(frames, ignore_index=True).sort_values("dwelling_id", ignore_index=True)
    dwellings["la_code"] = la_of_dwelling
    dwellings["uprn"] = uprns(rng, len(dwellings))
    return dwellings


def _dwellings_in(rng: np.random.Generator, idx: np.ndarray, districts: np.ndarray) -> pd.DataFrame:
    n = idx.size
    n_streets = max(1, -(-n // HOUSES_PER_STREET))
    street_of = rng.permutation(np.arange(n) % n_streets)
    streets = pd.DataFrame({
        "name": _street_names(rng, n_streets),
        "district": districts[rng.integers(0, len(districts), n_streets)],
        "sector": rng.integers(0, 10, n_streets),
        "first_number": rng.integers(1, 25, n_streets),
        "flats": rng.random(n_streets) < FLAT_BLOCK_SHARE,
        "building": rng.integers(1, 200, n_streets),
    })
    houses = pd.DataFrame({"dwelling_id": idx, "street": street_of})
    houses["rank"] = houses.groupby("street").cumcount()
    s = streets.iloc[houses["street"].to_numpy()].reset_index(drop=True)
    number = (s["first_number"] + houses["rank"]).astype(str)
    house_address = number + " " + s["name"]
    flat_address = "Flat " + (houses["rank"] + 1).astype(str) + ", " + s["building"].astype(str) + " " + s["name"]
    houses["address_line"] = flat_address.where(s["flats"], house_address).to_numpy(dtype=object)
    houses["postcode"] = _postcodes(rng, houses["street"].to_numpy(), houses["rank"].to_numpy() // HOUSES_PER_POSTCODE,
                                    s["district"].to_numpy(dtype=object), s["sector"].to_numpy())
    return houses[["dwelling_id", "address_line", "postcode"]]


def _postcodes(rng: np.random.Generator, street: np.ndarray, block: np.ndarray,
               district: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """One postcode unit per (street, block of houses): '<district> <sector digit><2 letters>'."""
    units = pd.DataFrame({"street": street, "block": block})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(units))
    letters = INWARD_LETTERS[rng.integers(0, len(INWARD_LETTERS), size=(len(uniques), 2))]
    unit_letters = pd.Series(letters[:, 0]) + pd.Series(letters[:, 1])
    inward = pd.Series(sector).astype(str) + unit_letters.to_numpy()[codes]
    return (pd.Series(district) + " " + inward).to_numpy(dtype=object)


def make_schools(rng: np.random.Generator, las: pd.DataFrame, home_primary: int,
                 home_secondary: int, other_each: tuple[int, int] = (3, 2)) -> pd.DataFrame:
    """Schools: ``school_id, la_code, phase (primary/secondary), urn, estab``.

    The home LA gets as many as its children need; other LAs a few each (they only appear
    through transfer files and as the allocators of incomers' UPNs).
    """
    rows = []
    for la, is_home in zip(las["la_code"], las["is_home"]):
        n_pri, n_sec = (home_primary, home_secondary) if is_home else other_each
        rows.append(pd.DataFrame({"la_code": la, "phase": ["primary"] * n_pri + ["secondary"] * n_sec,
                                  "estab": np.r_[2000 + rng.choice(1999, n_pri, replace=False),
                                                 4000 + rng.choice(999, n_sec, replace=False)]}))
    schools = pd.concat(rows, ignore_index=True)
    schools["urn"] = (100_000 + rng.choice(50_000, size=len(schools), replace=False)).astype(str)
    schools.insert(0, "school_id", np.arange(len(schools)))
    return schools


def make_practices(rng: np.random.Generator, las: pd.DataFrame, home_count: int, other_count: int = 4) -> pd.DataFrame:
    """GP practices: ``practice_id, la_code, practice_code`` (ODS-style, e.g. M85012)."""
    counts = np.where(las["is_home"], home_count, other_count)
    la = np.repeat(las["la_code"].to_numpy(dtype=object), counts)
    letter = np.repeat(las["ods_region_letter"].to_numpy(dtype=object), counts)
    number = 80_000 + rng.choice(19_999, size=len(la), replace=False)
    return pd.DataFrame({"practice_id": np.arange(len(la)), "la_code": la,
                         "practice_code": pd.Series(letter) + pd.Series(number).astype(str)})

"""The border source: passenger data for every crossing a child makes, plus decoy travellers.

Crossings come from holidays (OUT then IN within weeks), emigration (OUT), arrivals from
abroad (IN) and scripted CME trips. Names are MRZ-style (upper case, diacritics expanded,
apostrophes dropped), given names include middle names, and there is no address. Decoys are
children who do not live in the LA, with common names and birth dates shared with real
children; they have their own person_ids and make about as many crossings as real children.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import calendar, identifiers, names, parameters as P, reference, render
from .calendar import OPEN
from .timeline import Window, surname_at


def _ports(rng: np.random.Generator, count: int) -> np.ndarray:
    ports = reference.weighted("ports.csv")
    weights = (ports["weight"] / ports["weight"].sum()).to_numpy()
    return rng.choice(ports["port"].to_numpy(dtype=object), size=count, p=weights)


def _household_crossings(rng: np.random.Generator, hh: pd.DataFrame, window: Window) -> pd.DataFrame:
    """hh_id, trip, day, direction, port for every crossing a household makes."""
    n = len(hh)
    fate = hh["fate"].to_numpy(dtype=object)
    t1 = hh["t1"].to_numpy()
    mode = hh["cme_mode"].to_numpy(dtype=object)
    leave = hh["leave_day"].to_numpy()
    # Holidays: 1-2 round trips, only while the family lives in England and before any CME leaving date.
    trips = np.where(rng.random(n) < P.HOLIDAY_HOUSEHOLDS, rng.integers(1, 3, n), 0)
    hol = pd.DataFrame({"hh_id": np.repeat(hh["hh_id"].to_numpy(), trips)})
    pos = hh.index.get_indexer(hol["hh_id"]) if len(hol) else np.zeros(0, int)
    out_day = window.uniform(rng, len(hol), 0, 35)
    in_day = out_day + calendar.uniform(rng, np.full(len(hol), 5), 28)
    enter = np.where(fate[pos] == "arrive_abroad", t1[pos] + 14, -OPEN)
    gone = np.where(np.isin(fate[pos], ["emigrate", "vanish"]), t1[pos] - 14, OPEN)
    ok = (out_day > enter) & (in_day < np.minimum(gone, leave[pos] - 5))
    hol = hol.assign(out_day=out_day, in_day=in_day)[ok]
    # The scripted CME holiday: out and back after leaving school, before R.
    tricky = hh[mode == "holiday"]
    t_out = tricky["leave_day"].to_numpy() + calendar.uniform(rng, np.full(len(tricky), 3), 10)
    t_in = np.minimum(t_out + calendar.uniform(rng, np.full(len(tricky), 7), 21), window.reference - 1)
    hol = pd.concat([hol, pd.DataFrame({"hh_id": tricky["hh_id"].to_numpy(), "out_day": t_out, "in_day": t_in})],
                    ignore_index=True)
    hol["trip"] = np.arange(len(hol))
    port = _ports(rng, len(hol))
    legs = pd.concat([
        pd.DataFrame({"hh_id": hol["hh_id"], "trip": hol["trip"], "day": hol["out_day"], "direction": "OUT", "port": port}),
        pd.DataFrame({"hh_id": hol["hh_id"], "trip": hol["trip"], "day": hol["in_day"], "direction": "IN", "port": port}),
    ], ignore_index=True)
    # One-way crossings: emigration (OUT) and arrival from abroad (IN) on t1.
    recorded_out = np.where(np.isin(mode, ["border_and_gp", "border_only", "border_only_variant_spelling"]), True,
                            np.where(mode == "gp_only", False, rng.random(n) < P.EMIGRANT_OUT_RECORDED))
    emigrants = (fate == "emigrate") & recorded_out
    arrivals = (fate == "arrive_abroad") & (rng.random(n) < P.ARRIVAL_IN_RECORDED) & (t1 <= window.reference)
    one_way = pd.concat([
        pd.DataFrame({"hh_id": hh["hh_id"][emigrants], "day": t1[emigrants], "direction": "OUT"}),
        pd.DataFrame({"hh_id": hh["hh_id"][arrivals], "day": t1[arrivals], "direction": "IN"}),
    ], ignore_index=True)
    one_way["trip"] = len(hol) + np.arange(len(one_way))
    one_way["port"] = _ports(rng, len(one_way))
    return pd.concat([legs, one_way], ignore_index=True)


def _child_crossings(hh_crossings: pd.DataFrame, ch: pd.DataFrame) -> pd.DataFrame:
    """Every child of the household who was born and alive when the trip began travels."""
    rows = hh_crossings.merge(ch[["child_no", "hh_id", "dob", "exit_kind", "exit_day"]], on="hh_id")
    trip_start = rows.groupby(["trip", "child_no"])["day"].transform("min")
    alive = np.where(rows["exit_kind"] == "death", rows["exit_day"], OPEN)
    return rows[(rows["dob"] < trip_start) & (rows["day"] < alive)].reset_index(drop=True)


def _travel_documents(rng: np.random.Generator, people: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Nationality, passport number(s) and the renewal date of each traveller."""
    nat = reference.weighted("nationalities.csv")
    out = pd.DataFrame(index=people.index)
    out["nationality"] = None
    for group, rows in nat.groupby("name_group"):               # six groups
        idx = np.flatnonzero(people["name_group"].to_numpy(dtype=object) == group)
        out.iloc[idx, 0] = rng.choice(rows["nationality"].to_numpy(dtype=object), size=idx.size,
                                      p=(rows["weight"] / rows["weight"].sum()).to_numpy())
    both = identifiers.passport_numbers(rng, np.r_[out["nationality"].to_numpy(dtype=object),
                                                   out["nationality"].to_numpy(dtype=object)])
    out["passport_1"], out["passport_2"] = both[: len(people)], both[len(people):]
    renewed = rng.random(len(people)) < P.PASSPORT_RENEWED
    out["renewal_day"] = np.where(renewed, window.uniform(rng, len(people)), OPEN)
    return out


def _mrz_names(rng: np.random.Generator, given: pd.Series, surname: pd.Series,
               rates: dict[str, float]) -> tuple[pd.Series, pd.Series]:
    given = names.map_distinct(given.astype(object), names.mrz_name)
    surname = names.map_distinct(surname.astype(object), names.mrz_name)
    n = len(given)
    given = names.apply_typos(rng, given, render.mask(rng, n, rates.get("typo_forename", 0.0)))
    surname = names.apply_typos(rng, surname, render.mask(rng, n, rates.get("typo_surname", 0.0)))
    return given, surname


def _real_rows(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, window: Window,
               rates: dict[str, float]) -> pd.DataFrame:
    rows = _child_crossings(_household_crossings(rng, hh, window), ch)
    travellers = ch.set_index("child_no").loc[sorted(set(rows["child_no"]))]
    docs = _travel_documents(rng, travellers.reset_index(), window).set_index(travellers.index)
    # The passport's spelling of a forename with variants differs from the school's for some children.
    variant = pd.notna(travellers["other_spelling"]) & render.mask(rng, len(travellers), rates.get("spelling_variant", 0.0))
    scripted = hh.set_index("hh_id")["cme_mode"].reindex(travellers["hh_id"]).to_numpy(dtype=object) == \
        "border_only_variant_spelling"
    passport_forename = np.where(variant | (scripted & pd.notna(travellers["other_spelling"])),
                                 travellers["other_spelling"], travellers["forename"])
    forced_typo = pd.Series(scripted & pd.isna(travellers["other_spelling"]), index=travellers.index)
    pf = names.apply_typos(rng, pd.Series(passport_forename, index=travellers.index, dtype=object), forced_typo.to_numpy())
    t = travellers.assign(passport_forename=pf).join(docs).loc[rows["child_no"]].reset_index()
    legal, _, _ = surname_at(ch, rows["child_no"].to_numpy(), rows["day"].to_numpy())
    middle = t["middle_names"].astype(object)
    given = pd.Series(np.where(pd.notna(middle), t["passport_forename"] + " " + middle.fillna(""), t["passport_forename"]),
                      dtype=object)
    return pd.DataFrame({
        "person_id": t["person_id"].to_numpy(), "given": given, "surname": legal, "dob": t["dob"].to_numpy(),
        "sex": t["sex"].to_numpy(dtype=object), "nationality": t["nationality"].to_numpy(dtype=object),
        "passport_number": np.where(rows["day"].to_numpy() >= t["renewal_day"].to_numpy(),
                                    t["passport_2"], t["passport_1"]),
        "direction": rows["direction"].to_numpy(dtype=object), "day": rows["day"].to_numpy(),
        "port": rows["port"].to_numpy(dtype=object),
    })


def make_decoys(rng: np.random.Generator, ch: pd.DataFrame, count: int, window: Window, max_age_days: int) -> pd.DataFrame:
    """Children who never lived in the LA, often sharing a real child's birth date (and forename)."""
    groups = reference.table("name_groups.csv")
    share = groups["share"].astype(float).to_numpy()
    twin_of = rng.integers(0, len(ch), count)
    real = ch.iloc[twin_of].reset_index(drop=True)
    same_dob = rng.random(count) < P.DECOY_SHARES_DOB
    same_name = same_dob & (rng.random(count) < P.DECOY_SHARES_FORENAME)
    group = np.where(same_dob, real["name_group"], rng.choice(groups["name_group"].to_numpy(dtype=object), size=count,
                                                               p=share / share.sum()))
    sex = np.where(same_name, real["sex"], np.where(rng.random(count) < P.MALE_SHARE, "M", "F")).astype(object)
    forename = np.where(same_name, real["forename"], names.sample_forenames(rng, group, sex, "child"))
    male, female = names.sample_surnames(rng, group)
    dob = np.where(same_dob, real["dob"], window.reference - rng.integers(0, max_age_days, count))
    middle = names.sample_forenames(rng, group, sex, "child")
    return pd.DataFrame({
        "decoy_no": np.arange(count), "name_group": group, "sex": sex, "forename": forename,
        "middle_names": np.where(rng.random(count) < 0.4, middle, None), "surname": np.where(sex == "F", female, male),
        "dob": dob,
    })


def _decoy_rows(rng: np.random.Generator, decoys: pd.DataFrame, window: Window) -> pd.DataFrame:
    n = len(decoys)
    docs = _travel_documents(rng, decoys, window)
    out_day = window.uniform(rng, n, 0, 35)
    out_day = np.maximum(out_day, decoys["dob"].to_numpy() + 30)
    in_day = out_day + calendar.uniform(rng, np.full(n, 3), 60)
    inbound_first = rng.random(n) < 0.5          # visitors come IN then go OUT
    with_middle = decoys["forename"] + " " + decoys["middle_names"].fillna("")
    given = pd.Series(np.where(pd.notna(decoys["middle_names"]), with_middle, decoys["forename"]), dtype=object)
    legs = []
    for leg, day in ((0, out_day), (1, np.minimum(in_day, window.reference))):   # two legs per trip
        outward = (leg == 0) != inbound_first
        legs.append(pd.DataFrame({
            "person_id": decoys["person_id"].to_numpy(), "given": given,
            "surname": decoys["surname"].to_numpy(dtype=object),
            "dob": decoys["dob"].to_numpy(), "sex": decoys["sex"].to_numpy(dtype=object),
            "nationality": docs["nationality"].to_numpy(dtype=object),
            "passport_number": docs["passport_1"].to_numpy(dtype=object),
            "direction": np.where(outward, "OUT", "IN").astype(object), "day": day, "port": _ports(rng, n)}))
    rows = pd.concat(legs, ignore_index=True)
    return rows[rows["day"] <= window.reference]


def border_source(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, window: Window, max_age_days: int,
                  decoy_person_ids) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(border.csv rows with person_id, the decoy people). ``decoy_person_ids(count)`` names decoys."""
    rates = reference.corruption_rates("border")
    real = _real_rows(rng, ch, hh, window, rates)
    decoys = make_decoys(rng, ch, max(1, int(round(len(real) * P.DECOY_ROWS_PER_REAL_ROW / 2))), window, max_age_days)
    decoys["person_id"] = decoy_person_ids(len(decoys))
    rows = pd.concat([real, _decoy_rows(rng, decoys, window)], ignore_index=True)
    given, surname = _mrz_names(rng, rows["given"], rows["surname"], rates)
    frame = pd.DataFrame({
        "person_id": rows["person_id"].to_numpy(), "forename": given.to_numpy(dtype=object),
        "surname": surname.to_numpy(dtype=object), "dob": calendar.iso(rows["dob"].to_numpy()),
        "sex": rows["sex"].to_numpy(dtype=object), "nationality": rows["nationality"].to_numpy(dtype=object),
        "passport_number": rows["passport_number"].to_numpy(dtype=object),
        "direction": rows["direction"].to_numpy(dtype=object), "travel_date": calendar.iso(rows["day"].to_numpy()),
        "port": rows["port"].to_numpy(dtype=object),
    })
    return frame, decoys

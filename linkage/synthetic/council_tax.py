"""The council tax source: people on accounts at home-LA dwellings.

One account per household per home-LA residence spell: the liable carer, often the partner,
and, where the family claims council tax reduction, the children as dependants. Occupancy ends
when the family moves; after emigrating or vanishing some accounts are left open (stale).
Adults' dates of birth are often not held. The file is written in Windows-1252.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import calendar, parameters as P, render, reference
from .calendar import OPEN
from .timeline import Window


def _accounts(rng: np.random.Generator, hh: pd.DataFrame, spells: pd.DataFrame, window: Window) -> pd.DataFrame:
    acc = spells[spells["home"]].merge(hh[["hh_id", "fate", "cme_destination", "cme_mode", "ctr_claim", "n_carers"]],
                                       on="hh_id")
    n = len(acc)
    stale_rate = np.where(acc["fate"] == "emigrate", P.EMIGRANT_COUNCIL_TAX_STALE,
                          np.where(acc["fate"] == "vanish", P.VANISH_COUNCIL_TAX_STALE, 0.0))
    stale = rng.random(n) < stale_rate
    # Scripted CME evidence: nothing after leaving but the border record; a vanished family's account closed.
    stale = np.where(acc["cme_mode"] == "border_only_variant_spelling", True,
                     np.where(acc["cme_destination"] == "no_trace", False, stale))
    acc["occ_end"] = np.where(stale | (acc["end"] > window.reference), OPEN, acc["end"])
    acc["occ_start"] = acc["start"]
    acc = acc[(acc["occ_end"] >= window.start) & (acc["occ_start"] <= window.reference)].reset_index(drop=True)
    acc["account_ref"] = "CT" + pd.Series(10_000_000 + rng.choice(89_999_999, size=len(acc), replace=False)).astype(str)
    return acc


def _people_on_accounts(rng: np.random.Generator, acc: pd.DataFrame, ch: pd.DataFrame,
                        adults: pd.DataFrame) -> pd.DataFrame:
    carers = adults.merge(acc[["hh_id", "spell_id"]], on="hh_id")
    carers["role"] = np.where(carers["role"] == "mother", "liable", "partner")
    single = carers.groupby("spell_id")["role"].transform("size") == 1
    carers.loc[single, "role"] = "liable"                      # a lone father is the liable person
    listed = (carers["role"] == "liable") | (rng.random(len(carers)) < P.PARTNER_LISTED)
    carers = carers[listed]
    claims = acc[acc["ctr_claim"]]
    kids = ch.merge(claims[["hh_id", "spell_id", "occ_start", "occ_end"]], on="hh_id")
    alive = np.where(kids["exit_kind"] == "death", kids["exit_day"], OPEN)
    kids = kids[(kids["dob"] <= np.minimum(kids["occ_end"], alive))].assign(role="dependant")
    people = pd.concat([carers.assign(kind="adult"), kids.assign(kind="child")], ignore_index=True)
    return people.merge(acc[["spell_id", "account_ref", "occ_start", "occ_end", "dwelling_id"]].rename(
        columns={"occ_start": "o_start", "occ_end": "o_end"}), on="spell_id")


def council_tax_source(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, adults: pd.DataFrame,
                       spells: pd.DataFrame, dwellings: pd.DataFrame, window: Window) -> pd.DataFrame:
    """The council_tax.csv rows (canonical columns) + person_id."""
    rates = reference.corruption_rates("council_tax")
    acc = _accounts(rng, hh, spells, window)
    people = _people_on_accounts(rng, acc, ch, adults)
    people = people.sort_values(["account_ref", "role", "dob"], kind="stable", ignore_index=True)
    n = len(people)
    is_child = (people["kind"] == "child").to_numpy()
    as_of = np.minimum(people["o_end"].to_numpy(), window.reference)
    surname = people["surname"].to_numpy(dtype=object).copy()
    masc = np.where(people["sex"] == "F", people["surname_m"], None).astype(object)
    kid_rows = np.flatnonzero(is_child)
    if kid_rows.size:
        kids = render.child_names(ch, people["child_no"].to_numpy()[kid_rows].astype(np.int64), as_of[kid_rows])
        surname[kid_rows] = kids["surname_used"].to_numpy(dtype=object)   # the name the family uses
        masc[kid_rows] = kids["surname_masc"].to_numpy(dtype=object)
    truth = pd.DataFrame({
        "person_id": people["person_id"].to_numpy(), "forename": people["forename"].to_numpy(dtype=object),
        "middle_names": people["middle_names"].to_numpy(dtype=object),
        "short_form": people["short_form"].to_numpy(dtype=object),
        "other_spelling": people["other_spelling"].to_numpy(dtype=object), "surname": surname,
        "surname_masc": np.where(people["name_group"] == "polish", masc, None),
    })
    frame = render.recorded_names(rng, truth, rates)
    missing = np.where(is_child, rates.get("dob_missing", 0.0), rates.get("dob_missing_adult", 0.0))
    frame["dob"] = calendar.iso(render.dates_of_birth(rng, people["dob"].to_numpy(), rates, missing))
    render.place(frame, dwellings, people["dwelling_id"])
    render.addresses(rng, frame, rates)
    frame["account_ref"] = people["account_ref"].to_numpy(dtype=object)
    frame["role"] = people["role"].to_numpy(dtype=object)
    frame["occupancy_start"] = calendar.iso(people["o_start"].to_numpy())
    frame["occupancy_end"] = calendar.iso(people["o_end"].to_numpy())
    return frame

"""The GP source: registrations from a spine-like extract, one row per registration.

It covers children ever resident in the home LA, including their registrations at practices
in other LAs before they came or after they left (so moves out are evidenced). A family move
within the LA leads some children to re-register; a registration ends the day before the next
one starts (reason ``moved``), or with ``embarkation``/``gone_away``/``death``, or stays open,
sometimes long after the child has gone (a stale registration). Adoption closes the old
registration (``other``) and opens one under a new NHS number and surname.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import calendar, identifiers, parameters as P, render, reference
from .calendar import OPEN
from .timeline import Window

CME_NEEDS_GP = ("in_area_not_in_education", "moved_out_of_area", "in_education_elsewhere")


def _pieces(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, spells: pd.DataFrame,
            window: Window) -> pd.DataFrame:
    """Residence spells from birth (to death) per child, registered children only."""
    h = hh.set_index("hh_id")
    dest = h["cme_destination"].reindex(ch["hh_id"]).to_numpy(dtype=object)
    mode = h["cme_mode"].reindex(ch["hh_id"]).to_numpy(dtype=object)
    forced = np.isin(dest, CME_NEEDS_GP) | (mode == "gp_only")
    registered = forced | (rng.random(len(ch)) >= P.GP_NEVER_REGISTERED)
    kids = ch.loc[registered, ["child_no", "hh_id", "dob", "exit_kind", "exit_day"]]
    pieces = kids.merge(spells[["hh_id", "seq", "la_code", "start", "end", "dwelling_id"]], on="hh_id")
    death = np.where(pieces["exit_kind"] == "death", pieces["exit_day"], OPEN)
    pieces["p_start"] = np.maximum(pieces["start"], pieces["dob"])
    pieces["p_end"] = np.minimum(pieces["end"], death)
    pieces = pieces[(pieces["p_start"] <= pieces["p_end"]) & (pieces["p_start"] <= window.reference)]
    return pieces.sort_values(["child_no", "seq"], ignore_index=True)


def _registrations(rng: np.random.Generator, pieces: pd.DataFrame, hh: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Group pieces into registrations and date them."""
    n = len(pieces)
    h = hh.set_index("hh_id")
    fate = h["fate"].reindex(pieces["hh_id"]).to_numpy(dtype=object)
    dest = h["cme_destination"].reindex(pieces["hh_id"]).to_numpy(dtype=object)
    first = ~pieces.duplicated("child_no", keep="first").to_numpy()
    prev_la = pieces.groupby("child_no")["la_code"].shift().to_numpy(dtype=object)
    la_changed = ~first & (pieces["la_code"].to_numpy(dtype=object) != prev_la)
    p_la = np.where(fate == "move_out", np.where(dest == "moved_out_of_area", 1.0, P.GP_REGISTER_AFTER_MOVE_OUT), 0.97)
    draw = rng.random(n)
    local_move = ~first & ~la_changed
    pieces["new_reg"] = first | (la_changed & (draw < p_la)) | (local_move & (draw < P.GP_REREGISTER_ON_LOCAL_MOVE))
    pieces["group"] = pieces.groupby("child_no")["new_reg"].cumsum()
    born_here = pieces["p_start"].to_numpy() == pieces["dob"].to_numpy()
    after = lambda longest: calendar.uniform(rng, np.full(n, 7), longest)     # noqa: E731
    delay = np.where(born_here, after(42), np.where(local_move, after(120), after(60)))
    pieces["reg_day"] = pieces["p_start"] + delay
    # The address of a registration is that of its last piece in the practice's own LA.
    pieces["same_la"] = pieces["la_code"] == pieces.groupby(["child_no", "group"])["la_code"].transform("first")
    address_piece = pieces[pieces["same_la"]].groupby(["child_no", "group"])["dwelling_id"].agg(["first", "last"])
    regs = pieces.groupby(["child_no", "group"]).agg(
        hh_id=("hh_id", "first"), la_code=("la_code", "first"), seq=("seq", "first"), reg_day=("reg_day", "first"),
        p_end=("p_end", "last"), exit_kind=("exit_kind", "first"), exit_day=("exit_day", "first"))
    regs = regs.join(address_piece.rename(columns={"first": "first_dwelling", "last": "last_dwelling"})).reset_index()
    limit = np.where(regs["exit_kind"] == "death", regs["exit_day"], window.reference)
    regs = regs[regs["reg_day"] <= limit].reset_index(drop=True)
    previous = regs.groupby("child_no")["reg_day"].shift().to_numpy()
    regs["reg_day"] = np.where(previous >= regs["reg_day"], previous + 1, regs["reg_day"])
    return regs


def _end_registrations(rng: np.random.Generator, regs: pd.DataFrame, hh: pd.DataFrame, window: Window) -> None:
    """Deregistration date and reason of every registration, in place."""
    n = len(regs)
    nxt = regs.groupby("child_no")["reg_day"].shift(-1).to_numpy()
    last = np.isnan(nxt)
    h = hh.set_index("hh_id")
    fate = h["fate"].reindex(regs["hh_id"]).to_numpy(dtype=object)
    t1 = h["t1"].reindex(regs["hh_id"]).to_numpy()
    dest = h["cme_destination"].reindex(regs["hh_id"]).to_numpy(dtype=object)
    mode = h["cme_mode"].reindex(regs["hh_id"]).to_numpy(dtype=object)
    embark = np.where(np.isin(mode, ["border_and_gp", "gp_only"]), True,
                      np.where(np.isin(mode, ["border_only", "border_only_variant_spelling"]), False,
                               rng.random(n) < P.GP_EMBARKATION))
    embark_day = t1 + np.where(mode == "gp_only", calendar.uniform(rng, np.full(n, 14), 90),
                               calendar.uniform(rng, np.full(n, 14), 180))
    gone = np.where(dest == "no_trace", True, rng.random(n) < P.GP_GONE_AWAY)
    gone_day = t1 + np.where(dest == "no_trace", calendar.uniform(rng, np.full(n, 30), 150),
                             calendar.uniform(rng, np.full(n, 30), 300))
    gone_day = np.where(dest == "no_trace", np.minimum(gone_day, window.reference - 1), gone_day)
    end = np.full(n, OPEN, dtype=np.int64)
    reason = np.full(n, None, dtype=object)
    moved = ~last
    end[moved], reason[moved] = nxt[moved].astype(np.int64) - 1, "moved"
    rules = (
        (regs["exit_kind"].to_numpy() == "death", regs["exit_day"].to_numpy(), "death"),
        ((fate == "emigrate") & embark, embark_day, "embarkation"),
        ((fate == "vanish") & gone, gone_day, "gone_away"),
    )
    for applies, day, why in rules:                      # three kinds of ending, vectorised each
        hit = last & applies & (day <= window.reference) & (end == OPEN)
        end[hit], reason[hit] = day[hit], why
    regs["dereg_day"] = end
    regs["dereg_reason"] = reason


def _split_adoptions(rng: np.random.Generator, regs: pd.DataFrame, ch: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Close the registration spanning an adoption ('other') and open one under the new identity."""
    c = ch.set_index("child_no")
    adopt_day = np.where(c["name_change"].reindex(regs["child_no"]).to_numpy(dtype=object) == "adoption",
                         c["name_change_day"].reindex(regs["child_no"]).to_numpy(), OPEN)
    spans = (regs["reg_day"].to_numpy() < adopt_day) & (regs["dereg_day"].to_numpy() > adopt_day)
    after = regs[spans].copy()
    after["reg_day"] = adopt_day[spans] + calendar.uniform(rng, np.ones(int(spans.sum()), int), 30)
    after = after[after["reg_day"] <= np.minimum(after["dereg_day"], window.reference)]
    regs.loc[spans, "dereg_day"] = adopt_day[spans]
    regs.loc[spans, "dereg_reason"] = "other"
    return pd.concat([regs, after], ignore_index=True).sort_values(["child_no", "reg_day"], ignore_index=True)


def _practices(rng: np.random.Generator, regs: pd.DataFrame, practices: pd.DataFrame) -> np.ndarray:
    """One practice per (household, LA, spell): a family registers together."""
    keys = regs[["hh_id", "la_code", "seq"]].drop_duplicates().reset_index(drop=True)
    keys["practice_code"] = None
    for la, idx in keys.groupby("la_code").groups.items():          # a handful of LAs
        options = practices.loc[practices["la_code"] == la, "practice_code"].to_numpy(dtype=object)
        keys.loc[idx, "practice_code"] = options[rng.integers(0, len(options), len(idx))]
    return regs.merge(keys, on=["hh_id", "la_code", "seq"], how="left")["practice_code"].to_numpy(dtype=object)


def gp_source(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, spells: pd.DataFrame,
              dwellings: pd.DataFrame, practices: pd.DataFrame, window: Window) -> pd.DataFrame:
    """The gp.parquet rows (canonical columns; dates as day numbers) + person_id."""
    rates = reference.corruption_rates("gp")
    regs = _registrations(rng, _pieces(rng, ch, hh, spells, window), hh, window)
    _end_registrations(rng, regs, hh, window)
    regs = _split_adoptions(rng, regs, ch, window)
    regs = regs[(regs["dereg_day"] >= window.start)].reset_index(drop=True)
    regs["practice_code"] = _practices(rng, regs, practices)
    n = len(regs)
    c = ch.set_index("child_no").loc[regs["child_no"]].reset_index()
    as_of = np.where(regs["dereg_day"] <= window.reference, regs["dereg_day"] - 1, window.reference)
    true_names = render.child_names(ch, regs["child_no"].to_numpy(), as_of)
    adopted = (c["name_change"] == "adoption").to_numpy() & (c["name_change_day"].to_numpy() < regs["reg_day"].to_numpy())
    nhs = np.where(adopted, c["nhs_after_adoption"], c["nhs_number"]).astype(object)
    bad = render.mask(rng, n, rates.get("nhs_invalid", 0.0))      # drawn before the names: keeps the seed's output
    nhs[bad] = identifiers.mistype_digit(rng, nhs[bad], 3, 9)
    frame = render.recorded_names(rng, true_names, rates)
    frame["nhs_number"] = nhs
    frame["dob"] = render.dates_of_birth(rng, c["dob"].to_numpy(), rates)
    frame["sex"] = np.where(render.mask(rng, n, rates.get("sex_missing", 0.0)), "U", c["sex"].to_numpy(dtype=object))
    moved = (regs["first_dwelling"] != regs["last_dwelling"]).to_numpy()
    stale = moved & render.mask(rng, n, rates.get("stale_address", 0.0))
    render.place(frame, dwellings, np.where(stale, regs["first_dwelling"], regs["last_dwelling"]))
    render.addresses(rng, frame, rates)
    frame["practice_code"] = regs["practice_code"].to_numpy(dtype=object)
    frame["registration_date"] = regs["reg_day"].to_numpy()
    frame["deregistration_date"] = regs["dereg_day"].to_numpy()
    frame["deregistration_reason"] = regs["dereg_reason"].to_numpy(dtype=object)
    return frame

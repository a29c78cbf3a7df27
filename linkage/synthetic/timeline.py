"""Three years of life before the reference date R: household fates, addresses, child events.

Every household has one fate with a date ``t1`` in the window [R-3y, R]: it stays, moves within
the home LA, moves to another LA, emigrates, arrives from abroad, arrives from another LA, or
vanishes (leaves for somewhere no source sees). Its residence ``spells`` follow from the fate.
Children missing education (CME) are planned here too: households are chosen per intended
destination and their fate is set so that the evidence the sources will hold leads the
contract's rules (SOURCES.md §4) to that destination.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import calendar, parameters as P
from .calendar import OPEN
from .geography import make_dwellings


@dataclass
class Window:
    start: int        # S = R - 3 years (day number)
    reference: int    # R

    def uniform(self, rng: np.random.Generator, count: int, margin_start: int = 0, margin_end: int = 0) -> np.ndarray:
        return calendar.uniform(rng, np.full(count, self.start + margin_start), self.reference - margin_end)


# ---------------------------------------------------------------- fates
def assign_fates(rng: np.random.Generator, hh: pd.DataFrame, children: pd.DataFrame, las: pd.DataFrame,
                 window: Window) -> pd.DataFrame:
    """Fate, date t1 and the other LA (destination or origin) of every household."""
    hh = hh.copy()
    n = len(hh)
    fates = np.array(list(P.FATES), dtype=object)
    probs = np.array(list(P.FATES.values()))
    hh["fate"] = rng.choice(fates, size=n, p=probs / probs.sum())
    hh["t1"] = window.uniform(rng, n, 30, 30)
    # Leaving households leave after their youngest child's birth, or do not leave in the window.
    youngest = children.groupby("hh_id")["dob"].max().reindex(hh["hh_id"]).to_numpy()
    leaving = hh["fate"].isin(["move_out", "emigrate", "vanish"]).to_numpy()
    t1 = np.where(leaving, np.maximum(hh["t1"], youngest + 30), hh["t1"])
    too_late = leaving & (t1 > window.reference - 10)
    hh["t1"] = np.where(too_late, OPEN, t1)
    hh.loc[too_late, "fate"] = "stay"
    hh.loc[hh["fate"] == "stay", "t1"] = OPEN
    hh["other_la"] = _other_la(rng, las, n)
    hh.loc[~hh["fate"].isin(["move_out", "arrive_from_la"]), "other_la"] = ""
    for column in ("cme_destination", "cme_mode"):
        hh[column] = ""
    hh["leave_day"] = OPEN
    return hh


def _other_la(rng: np.random.Generator, las: pd.DataFrame, count: int) -> np.ndarray:
    others = las[~las["is_home"]]
    weights = others["move_in_weight"].to_numpy()
    return rng.choice(others["la_code"].to_numpy(dtype=object), size=count, p=weights / weights.sum())


# ---------------------------------------------------------------- children missing education
def _quotas(total: int, mix: dict[str, float]) -> dict[str, int]:
    """Largest-remainder split of ``total`` by ``mix``."""
    raw = {k: total * v for k, v in mix.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


def plan_cme(rng: np.random.Generator, hh: pd.DataFrame, children: pd.DataFrame, las: pd.DataFrame,
             window: Window) -> pd.DataFrame:
    """Choose the households whose school-age children will be referred as CME, and script them.

    Eligible: staying households with a child in Year 4-11 on R (so of compulsory school age
    and on roll at any leaving date in the window) and no child born in the window. Each gets
    an intended destination (``CME_MIX``) and a mode; fate and t1 are rewritten to produce
    that evidence.
    """
    hh = hh.copy()
    yg = calendar.year_group(children["dob"].to_numpy(), np.full(len(children), window.reference))
    has_pupil = pd.Series((yg >= 4) & (yg <= 11)).groupby(children["hh_id"].to_numpy()).any()
    # All children born before the window, so none is born after the family has gone.
    born_before = (children.groupby("hh_id")["dob"].max() < window.start).reindex(hh["hh_id"]).to_numpy()
    eligible = hh["hh_id"][(hh["fate"] == "stay").to_numpy() & born_before
                           & has_pupil.reindex(hh["hh_id"]).fillna(False).to_numpy()]
    wanted = max(P.CME_MIN_HOUSEHOLDS, round(P.CME_HOUSEHOLDS_PER_CHILD * len(children)))
    count = min(wanted, len(eligible) // 3)
    # Twins first, so at least one pair of twins is referred together.
    twin_hh = sorted(set(children.loc[children["twin"] & (yg >= 4) & (yg <= 11), "hh_id"]))
    order = rng.permutation(eligible.to_numpy())
    twins_at = np.flatnonzero(np.isin(order, twin_hh))
    if twins_at.size:
        order = np.r_[order[twins_at[0]], np.delete(order, twins_at[0])]
    order = order[:count]
    quotas = _quotas(count, P.CME_MIX)
    destinations = np.array([d for d, q in quotas.items() for _ in range(q)], dtype=object)
    destinations = rng.permutation(destinations)
    idx = hh.index[hh["hh_id"].isin(order)]
    pos = pd.Series(np.arange(count), index=order).reindex(hh.loc[idx, "hh_id"]).to_numpy()
    hh.loc[idx, "cme_destination"] = destinations[pos]
    _script_cme(rng, hh, idx, las, window)
    return hh


def _leaving_days(rng: np.random.Generator, count: int, window: Window, late_margin: np.ndarray) -> np.ndarray:
    """Leaving dates L in term time (not 18 July - 8 September)."""
    days = calendar.uniform(rng, np.full(count, window.start + 60), window.reference - late_margin)
    year, month, dom = calendar.split(days)
    summer = ((month == 7) & (dom >= 18)) | (month == 8) | ((month == 9) & (dom <= 8))
    early_july = calendar.compose(year, np.full(count, 7), calendar.uniform(rng, np.ones(count, int), 15))
    return np.where(summer, early_july, days)


def _pick_modes(rng: np.random.Generator, count: int, modes: dict[str, float], forced: tuple[str, ...] = ()) -> np.ndarray:
    names = np.array(list(modes), dtype=object)
    probs = np.array(list(modes.values()))
    out = rng.choice(names, size=count, p=probs / probs.sum())
    # The first few are forced so that even a small world holds every tricky situation.
    for i, mode in enumerate(forced[: max(0, count - 1)]):
        out[i] = mode
    return out


def _script_cme(rng: np.random.Generator, hh: pd.DataFrame, idx: pd.Index, las: pd.DataFrame,
                window: Window) -> None:
    dest = hh.loc[idx, "cme_destination"].to_numpy(dtype=object)
    late = np.where(dest == "no_trace", 300, 150)
    leave = _leaving_days(rng, len(idx), window, late)
    hh.loc[idx, "leave_day"] = leave
    mode = np.empty(len(idx), dtype=object)
    fate = np.empty(len(idx), dtype=object)
    t1 = np.full(len(idx), OPEN, dtype=np.int64)
    soon = leave + calendar.uniform(rng, np.zeros(len(idx), int), 20)

    def script(destination: str, modes: dict[str, float], forced: tuple[str, ...] = ()) -> np.ndarray:
        sel = np.flatnonzero(dest == destination)
        mode[sel] = _pick_modes(rng, sel.size, modes, forced)
        return sel

    sel = script("left_england", {"border_and_gp": 0.45, "border_only": 0.40, "gp_only": 0.15},
                 ("border_only_variant_spelling",))
    fate[sel], t1[sel] = "emigrate", leave[sel] + calendar.uniform(rng, np.ones(sel.size, int), 10)
    sel = script("in_education_elsewhere", {"new_school_no_move": 0.30, "move_within": 0.40, "move_out": 0.30})
    fate[sel] = np.where(mode[sel] == "new_school_no_move", "stay", mode[sel])
    t1[sel] = np.where(mode[sel] == "new_school_no_move", OPEN, soon[sel])
    sel = script("moved_out_of_area", {"move_out": 1.0})
    fate[sel], t1[sel] = "move_out", soon[sel]
    sel = script("in_area_not_in_education", {"no_move": 0.60, "move_within": 0.25, "holiday": 0.15},
                 ("move_within", "holiday"))
    fate[sel] = np.where(mode[sel] == "move_within", "move_within", "stay")
    t1[sel] = np.where(mode[sel] == "move_within", leave[sel] + calendar.uniform(rng, np.full(sel.size, 10), 60), OPEN)
    sel = script("no_trace", {"vanish": 1.0})
    fate[sel], t1[sel] = "vanish", soon[sel]
    hh.loc[idx, "cme_mode"] = mode
    hh.loc[idx, "fate"] = fate
    hh.loc[idx, "t1"] = t1
    moving_out = np.isin(fate, ["move_out"])
    hh.loc[idx[moving_out], "other_la"] = _other_la(rng, las, int(moving_out.sum()))


# ---------------------------------------------------------------- residence spells
def build_spells(rng: np.random.Generator, hh: pd.DataFrame, home_la: str,
                 window: Window) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Residence spells (one dwelling each) from the fates, and the dwellings themselves."""
    n = len(hh)
    fate = hh["fate"].to_numpy(dtype=object)
    t1 = hh["t1"].to_numpy()
    other = hh["other_la"].to_numpy(dtype=object)
    s0 = window.start - calendar.uniform(rng, np.zeros(n, int), P.OCCUPANCY_BEFORE_WINDOW_MAX_DAYS)
    first_la = np.where(fate == "arrive_from_la", other, home_la)
    first_start = np.where(fate == "arrive_abroad", t1, s0)
    first_end = np.where(np.isin(fate, ["stay", "arrive_abroad"]), OPEN, t1)
    has_second = np.isin(fate, ["move_within", "move_out", "arrive_from_la"])
    second_la = np.where(fate == "move_out", other, home_la)
    spells = pd.concat([
        pd.DataFrame({"hh_id": hh["hh_id"], "seq": 0, "la_code": first_la, "start": first_start, "end": first_end}),
        pd.DataFrame({"hh_id": hh["hh_id"][has_second], "seq": 1, "la_code": second_la[has_second],
                      "start": t1[has_second], "end": OPEN}),
    ], ignore_index=True).sort_values(["hh_id", "seq"], ignore_index=True)
    spells["home"] = spells["la_code"] == home_la
    spells["spell_id"] = np.arange(len(spells))
    dwellings = make_dwellings(rng, spells["la_code"].to_numpy(dtype=object))
    spells["dwelling_id"] = dwellings["dwelling_id"].to_numpy()
    return spells, dwellings


def dwelling_at(spells: pd.DataFrame, hh_id: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The dwelling each household lived in on each day (its first dwelling before it arrived)."""
    query = pd.DataFrame({"hh_id": np.asarray(hh_id), "day": np.asarray(days, dtype=np.int64),
                          "order": np.arange(len(hh_id))})
    found = pd.merge_asof(query.sort_values("day"), spells[["hh_id", "start", "dwelling_id"]].sort_values("start"),
                          left_on="day", right_on="start", by="hh_id", direction="backward")
    first = spells[spells["seq"] == 0].set_index("hh_id")["dwelling_id"]
    found["dwelling_id"] = found["dwelling_id"].fillna(found["hh_id"].map(first))
    return found.sort_values("order")["dwelling_id"].to_numpy(dtype=np.int64)


# ---------------------------------------------------------------- child events
def child_events(rng: np.random.Generator, children: pd.DataFrame, hh: pd.DataFrame, window: Window,
                 surname_pool) -> pd.DataFrame:
    """Deaths, adoptions, surname changes, elective home education and unreferred off-rolling.

    Only children of households that stay or move within the LA, and never CME households,
    so that each child carries at most one storyline that ends its schooling.
    """
    ch = children.copy()
    n = len(ch)
    h = ch["hh_id"].to_numpy()
    stable = (hh["fate"].isin(["stay", "move_within"]) & (hh["cme_destination"] == "")).to_numpy()[h]
    born = ch["dob"].to_numpy()
    ref = window.reference
    yg = calendar.year_group(born, np.full(n, ref))
    draw = rng.random(n)
    ch["exit_kind"] = ""
    ch["exit_day"] = OPEN
    # One uniform draw split into bands keeps the storylines exclusive.
    bands = np.cumsum([P.DEATH, P.ELECTIVE_HOME_EDUCATION, P.OFF_ROLLED_UNREFERRED])
    death = stable & (draw < bands[0]) & (born < ref - 400)
    if stable.any() and not death.any() and n >= 200:
        death[np.flatnonzero(stable & (born < ref - 400))[:1]] = True   # one death even in small worlds
    pupil = stable & (yg >= 2) & (yg <= 11)
    ehe = pupil & (draw >= bands[0]) & (draw < bands[1]) & ~death
    offroll = pupil & (draw >= bands[1]) & (draw < bands[2]) & ~death
    earliest = np.maximum(window.start, born + 180)
    ch.loc[death, "exit_kind"] = "death"
    ch.loc[death, "exit_day"] = calendar.uniform(rng, earliest[death] + 30, ref - 30)
    ch.loc[ehe, "exit_kind"] = "elective_home_education"
    ch.loc[ehe, "exit_day"] = calendar.uniform(rng, np.full(ehe.sum(), window.start + 30), ref - 30)
    ch.loc[offroll, "exit_kind"] = "off_rolled"
    ch.loc[offroll, "exit_day"] = calendar.uniform(rng, np.full(offroll.sum(), window.start), window.start + 300)
    _name_changes(rng, ch, stable & ~death & (born < ref - 400), earliest, window, surname_pool)
    return ch


def _name_changes(rng: np.random.Generator, ch: pd.DataFrame, eligible: np.ndarray, earliest: np.ndarray,
                  window: Window, surname_pool) -> None:
    n = len(ch)
    draw = rng.random(n)
    adopted = eligible & (draw < P.ADOPTION)
    if eligible.any() and not adopted.any() and n >= 200:
        adopted[np.flatnonzero(eligible)[-1:]] = True             # one adoption even in small worlds
    changed = eligible & ~adopted & (draw >= P.ADOPTION) & (draw < P.ADOPTION + P.SURNAME_CHANGE)
    kind = np.full(n, "", dtype=object)
    kind[adopted] = "adoption"
    kind[changed] = np.where(rng.random(changed.sum()) < P.SURNAME_CHANGE_LEGAL, "legal", "informal")
    ch["name_change"] = kind
    any_change = kind != ""
    ch["name_change_day"] = OPEN
    ch.loc[any_change, "name_change_day"] = calendar.uniform(rng, earliest[any_change], window.reference - 30)
    new_m, new_f = surname_pool(rng, ch["name_group"].to_numpy(dtype=object))
    ch["new_surname"] = np.where(any_change, np.where(ch["sex"] == "F", new_f, new_m), None)
    ch["new_surname_m"] = np.where(any_change, new_m, None)


def surname_at(children: pd.DataFrame, child_no: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(legal surname, former surname or None, preferred surname or None) of each child on each day."""
    c = children.set_index("child_no").loc[np.asarray(child_no)]
    after = c["name_change_day"].to_numpy() <= np.asarray(days)
    kind = c["name_change"].to_numpy(dtype=object)
    legal_change = after & np.isin(kind, ["legal", "adoption"])
    informal = after & (kind == "informal")
    legal = np.where(legal_change, c["new_surname"], c["surname"])
    former = np.where(legal_change, c["surname"], None)
    preferred = np.where(informal, c["new_surname"], None)
    return legal, former, preferred


def masculine_surname_at(c: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """Masculine form of each child's legal surname on each day (rows of the children table)."""
    changed = c["name_change"].isin(["legal", "adoption"]).to_numpy() & (c["name_change_day"].to_numpy() <= days)
    return np.where(changed, c["new_surname_m"], c["surname_m"])


def nhs_number_at(c: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """Each child's NHS number on each day: a new one from the day of an adoption."""
    adopted = (c["name_change"] == "adoption").to_numpy() & (c["name_change_day"].to_numpy() <= days)
    return np.where(adopted, c["nhs_after_adoption"], c["nhs_number"]).astype(object)

"""The education source: one row per enrolment, as a School Census pupil extract holds them.

Enrolments are built set-wise: each child's school phases (primary, secondary, sometimes a
sixth form) are intersected with the household's residence spells; a move splits a phase and,
for some children, changes school; storylines (death, elective home education, off-rolling,
CME referral) cut a child's enrolment at their date. Enrolments at other LAs' schools appear
only for movers-out whose school-to-school transfer file reached the home LA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import calendar, identifiers, parameters as P, render, reference
from .calendar import OPEN
from .timeline import Window, nhs_number_at


@dataclass
class Education:
    records: pd.DataFrame       # the education.csv rows (canonical columns) + person_id
    cme_cases: pd.DataFrame     # child_no, enrolment row index, leave_day, referral_day
    child_upn: pd.Series        # child_no -> permanent UPN (for social care)


# ---------------------------------------------------------------- enrolments
def _phases(rng: np.random.Generator, ch: pd.DataFrame, window: Window) -> pd.DataFrame:
    n = len(ch)
    yr = calendar.reception_year(ch["dob"].to_numpy())
    ones = np.ones(n, dtype=np.int64)
    sept = lambda y: calendar.compose(y, ones * 9, calendar.uniform(rng, ones, 8))        # noqa: E731
    july = lambda y: calendar.compose(y, ones * 7, calendar.uniform(rng, ones * 18, 24))  # noqa: E731
    sixth = rng.random(n) < P.SIXTH_FORM_SAME_SCHOOL
    phases = pd.concat([
        pd.DataFrame({"child_no": ch["child_no"], "phase": "primary", "p_start": sept(yr), "p_end": july(yr + 7)}),
        pd.DataFrame({"child_no": ch["child_no"], "phase": "secondary", "p_start": sept(yr + 7),
                      "p_end": july(np.where(sixth, yr + 14, yr + 12))}),
    ], ignore_index=True)
    phases = phases[(phases["p_end"] >= window.start) & (phases["p_start"] <= window.reference)]
    # Some Reception-age children have no place this year (the "starting school without place").
    this_year = calendar.academic_year(phases["p_start"].to_numpy()) == calendar.academic_year(
        np.array([window.reference]))[0]
    no_place = (phases["phase"] == "primary").to_numpy() & this_year & (rng.random(len(phases)) < P.RECEPTION_WITHOUT_PLACE)
    return phases[~no_place]


def _pieces(rng: np.random.Generator, phases: pd.DataFrame, ch: pd.DataFrame, hh: pd.DataFrame,
            spells: pd.DataFrame) -> pd.DataFrame:
    """Phase x residence spell intersections, with school-start delays after a move."""
    pieces = phases.merge(ch[["child_no", "hh_id"]], on="child_no").merge(
        spells[["hh_id", "seq", "la_code", "start", "end", "home", "dwelling_id"]], on="hh_id")
    n = len(pieces)
    fate = hh.set_index("hh_id")["fate"].reindex(pieces["hh_id"]).to_numpy(dtype=object)
    arrival = (fate == "arrive_abroad") & (pieces["seq"].to_numpy() == 0)
    moved_in = pieces["start"].to_numpy() > pieces["p_start"].to_numpy()
    delay = np.where(arrival, calendar.uniform(rng, np.full(n, 14), 120), calendar.uniform(rng, np.full(n, 3), 40))
    pieces["e_start"] = np.where(moved_in, pieces["start"] + delay, pieces["p_start"])
    moved_out = pieces["end"].to_numpy() < pieces["p_end"].to_numpy()
    pieces["e_end"] = np.where(moved_out, pieces["end"] - calendar.uniform(rng, np.zeros(n, int), 5), pieces["p_end"])
    no_place = arrival & moved_in & (rng.random(n) >= P.ARRIVAL_SCHOOL_PLACE)
    keep = (pieces["e_start"] <= pieces["e_end"]) & ~no_place
    return pieces[keep].reset_index(drop=True)


def _visible_enrolments(rng: np.random.Generator, pieces: pd.DataFrame, hh: pd.DataFrame) -> pd.DataFrame:
    """Merge pieces into enrolments (one school each) and keep those the home LA can see."""
    cme = hh.set_index("hh_id")["cme_destination"].reindex(pieces["hh_id"]).to_numpy(dtype=object)
    n = len(pieces)
    seen = rng.random(n) < P.TRANSFER_FILE_SEEN
    seen = np.where(cme == "in_education_elsewhere", True, np.where(cme == "moved_out_of_area", False, seen))
    visible = pieces["home"].to_numpy() | ((pieces["seq"].to_numpy() == 1) & seen)
    pieces = pieces[visible].sort_values(["child_no", "phase", "seq"], ignore_index=True)
    cme = hh.set_index("hh_id")["cme_destination"].reindex(pieces["hh_id"]).to_numpy(dtype=object)
    first = ~pieces.duplicated(["child_no", "phase"], keep="first").to_numpy()
    la_changed = pieces["la_code"].to_numpy() != pieces.groupby(["child_no", "phase"])["la_code"].shift().to_numpy()
    change = rng.random(len(pieces)) < P.SCHOOL_CHANGE_ON_LOCAL_MOVE
    change = change | (cme == "in_education_elsewhere")
    pieces["new_school"] = first | la_changed | change
    pieces["group"] = pieces.groupby(["child_no", "phase"])["new_school"].cumsum()
    grouped = pieces.groupby(["child_no", "phase", "group"], sort=True)
    return grouped.agg(hh_id=("hh_id", "first"), la_code=("la_code", "first"), home=("home", "first"),
                       first_seq=("seq", "first"), start=("e_start", "min"), end=("e_end", "max"),
                       first_dwelling=("dwelling_id", "first"), last_dwelling=("dwelling_id", "last"),
                       p_end=("p_end", "first")).reset_index()


def _choose_schools(rng: np.random.Generator, enrolments: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    """One school per (household, phase, LA, spell): siblings go to the same school."""
    keys = enrolments[["hh_id", "phase", "la_code", "first_seq"]].drop_duplicates().reset_index(drop=True)
    keys["school_id"] = -1
    for (la, phase), idx in keys.groupby(["la_code", "phase"]).groups.items():   # a few LA x phase pairs
        options = schools.loc[(schools["la_code"] == la) & (schools["phase"] == phase), "school_id"].to_numpy()
        keys.loc[idx, "school_id"] = options[rng.integers(0, len(options), len(idx))]
    return enrolments.merge(keys, on=["hh_id", "phase", "la_code", "first_seq"], how="left")["school_id"].to_numpy()


def _apply_exits(rng: np.random.Generator, enrol: pd.DataFrame, ch: pd.DataFrame, hh: pd.DataFrame,
                 schools: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Cut enrolments at each child's exit date (storylines and CME leaving dates)."""
    h = hh.set_index("hh_id")
    leave = h["leave_day"].reindex(enrol["hh_id"]).to_numpy()
    dest = h["cme_destination"].reindex(enrol["hh_id"]).to_numpy(dtype=object)
    own_exit = ch.set_index("child_no")["exit_day"].reindex(enrol["child_no"]).to_numpy()
    exit_day = np.minimum(leave, own_exit)
    reenter = (dest == "in_education_elsewhere") & (leave <= own_exit)
    start, end = enrol["start"].to_numpy(), enrol["end"].to_numpy()
    keep = (start <= exit_day) | reenter
    cut = (start <= exit_day) & (end > exit_day)
    enrol = enrol.assign(end=np.where(cut, exit_day, end), cut=cut, cme=(dest != "") & cut & (exit_day == leave))
    enrol = enrol[keep].reset_index(drop=True)
    # Re-enrolment at another school of the home LA for 'in education elsewhere' families who stayed.
    mode = h["cme_mode"].reindex(enrol["hh_id"]).to_numpy(dtype=object)
    again = enrol[enrol["cme"].to_numpy() & (mode == "new_school_no_move")].copy()
    again["start"] = again["end"] + calendar.uniform(rng, np.full(len(again), 20), 90)
    again["end"] = again["p_end"]
    again = again[again["start"] <= np.minimum(again["end"], window.reference)]
    again["school_id"] = _another_school(rng, again["school_id"].to_numpy(), schools)
    again["cut"] = False
    again["cme"] = False
    again["group"] = again["group"] + 100
    return pd.concat([enrol, again], ignore_index=True)


def _another_school(rng: np.random.Generator, school_id: np.ndarray, schools: pd.DataFrame) -> np.ndarray:
    """A different school of the same LA and phase (the same one only if it is the only one)."""
    s = schools.set_index("school_id")
    la = s["la_code"].reindex(school_id).to_numpy(dtype=object)
    phase = s["phase"].reindex(school_id).to_numpy(dtype=object)
    out = school_id.copy()
    for (code, kind), options in schools.groupby(["la_code", "phase"])["school_id"]:   # a few pairs
        idx = np.flatnonzero((la == code) & (phase == kind))
        options = np.sort(options.to_numpy())
        if idx.size and len(options) > 1:
            pos = np.searchsorted(options, school_id[idx])
            out[idx] = options[(pos + rng.integers(1, len(options), idx.size)) % len(options)]
    return out


def build_enrolments(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, spells: pd.DataFrame,
                     schools: pd.DataFrame, window: Window) -> pd.DataFrame:
    """All enrolments the home LA's extract holds, with school, dates and dwellings."""
    pieces = _pieces(rng, _phases(rng, ch, window), ch, hh, spells)
    enrol = _visible_enrolments(rng, pieces, hh)
    enrol["school_id"] = _choose_schools(rng, enrol, schools)
    enrol = _apply_exits(rng, enrol, ch, hh, schools, window)
    enrol = enrol[(enrol["end"] >= window.start) & (enrol["start"] <= window.reference)]
    enrol["end"] = np.where(enrol["end"] > window.reference, OPEN, enrol["end"])
    return enrol.sort_values(["child_no", "start", "phase"], ignore_index=True)


# ---------------------------------------------------------------- UPNs
def permanent_upns(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, enrol: pd.DataFrame,
                   schools: pd.DataFrame, home_la: str, window: Window) -> pd.Series:
    """child_no -> permanent UPN for every child who has started school by R.

    The allocator is a primary of the LA where the child started school (the origin LA for
    incomers from another LA, the first home school for arrivals from abroad), and the year
    digits are those of allocation.
    """
    yr = calendar.reception_year(ch["dob"].to_numpy())
    started = calendar.compose(yr, np.full(len(ch), 9), np.ones(len(ch), int)) <= window.reference
    h = hh.set_index("hh_id")
    fate = h["fate"].reindex(ch["hh_id"]).to_numpy(dtype=object)
    t1 = h["t1"].reindex(ch["hh_id"]).to_numpy()
    other = h["other_la"].reindex(ch["hh_id"]).to_numpy(dtype=object)
    sept = calendar.compose(yr, np.full(len(ch), 9), np.ones(len(ch), int))
    first = enrol.groupby("child_no").agg(first_school=("school_id", "first"), first_start=("start", "first"))
    first = first.reindex(ch["child_no"])
    from_abroad = (fate == "arrive_abroad") & (sept < t1)
    has_enrolment = first["first_school"].notna().to_numpy()
    started = started & (~from_abroad | has_enrolment)          # arrivals without a place have none yet
    la = np.where((fate == "arrive_from_la") & (sept < t1), other, home_la)
    primaries = schools[schools["phase"] == "primary"]
    estab = np.zeros(len(ch), dtype=np.int64)
    for code in sorted(set(la)):                                  # a handful of LAs
        idx = np.flatnonzero(la == code)
        options = primaries.loc[primaries["la_code"] == code, "estab"].to_numpy()
        estab[idx] = options[rng.integers(0, len(options), idx.size)]
    year = yr.copy()
    school_estab = schools.set_index("school_id")["estab"]
    abroad_idx = np.flatnonzero(from_abroad & has_enrolment)
    estab[abroad_idx] = school_estab.reindex(first["first_school"].to_numpy()[abroad_idx]).to_numpy()
    year[abroad_idx] = calendar.academic_year(first["first_start"].to_numpy()[abroad_idx].astype(np.int64))
    parts = pd.DataFrame({"child_no": ch["child_no"], "la": la, "estab": estab, "year": year})[started]
    parts = parts.sample(frac=1.0, random_state=rng.integers(2**31)).reset_index(drop=True)   # serials in random order
    parts["serial"] = parts.groupby(["la", "estab", "year"]).cumcount() + 1
    parts["upn"] = identifiers.upns(parts["la"].to_numpy(dtype=object), parts["estab"].to_numpy(),
                                    parts["year"].to_numpy(), parts["serial"].to_numpy())
    return parts.set_index("child_no")["upn"].sort_index()


def _upn_columns(rng: np.random.Generator, enrol: pd.DataFrame, child_upn: pd.Series, schools: pd.DataFrame,
                 rates: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """UPN and former UPN per enrolment: permanent, or a new school's temporary UPN (UK_DATA §2)."""
    n = len(enrol)
    real = child_upn.reindex(enrol["child_no"]).to_numpy(dtype=object)
    later = enrol.duplicated("child_no", keep="first").to_numpy()
    temp = later & render.mask(rng, n, rates.get("temporary_upn", 0.0))
    s = schools.set_index("school_id")
    idx = np.flatnonzero(temp)
    temp_upn = identifiers.upns(s["la_code"].reindex(enrol["school_id"].to_numpy()[idx]).to_numpy(dtype=object),
                                s["estab"].reindex(enrol["school_id"].to_numpy()[idx]).to_numpy(),
                                calendar.academic_year(enrol["start"].to_numpy()[idx]),
                                rng.integers(0, 100, idx.size), np.ones(idx.size, bool),
                                identifiers.temporary_letters(rng, idx.size))
    upn, former = real.copy(), np.full(n, None, dtype=object)
    style = rng.integers(0, 5, idx.size)     # 2/5 temp + real as former, 2/5 the reverse, 1/5 temp alone
    upn[idx] = np.where(style < 2, temp_upn, np.where(style < 4, real[idx], temp_upn))
    former[idx] = np.where(style < 2, real[idx], np.where(style < 4, temp_upn, None))
    return upn, former


# ---------------------------------------------------------------- the source
def education_source(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, adults: pd.DataFrame,
                     spells: pd.DataFrame, dwellings: pd.DataFrame, schools: pd.DataFrame, window: Window,
                     home_la: str, nhs_coverage: float) -> Education:
    """The education extract, its CME referrals and the children's permanent UPNs."""
    rates = reference.corruption_rates("education")
    enrol = build_enrolments(rng, ch, hh, spells, schools, window)
    child_upn = permanent_upns(rng, ch, hh, enrol, schools, home_la, window)
    n = len(enrol)
    c = ch.set_index("child_no").loc[enrol["child_no"]].reset_index()
    as_of = np.minimum(enrol["end"].to_numpy(), window.reference)
    true_names = render.child_names(ch, enrol["child_no"].to_numpy(), as_of)
    frame = render.recorded_names(rng, true_names, rates)
    recorded = lambda kind: render.mask(rng, n, rates.get(kind, 0.0))     # noqa: E731
    frame["former_surname"] = np.where(recorded("former_surname_recorded"), true_names["former_surname"], None)
    frame["preferred_surname"] = np.where(recorded("preferred_surname_recorded"), true_names["preferred_surname"], None)
    dob = render.dates_of_birth(rng, c["dob"].to_numpy(), rates)
    frame["dob"] = calendar.iso(dob)
    frame["sex"] = c["sex"].to_numpy(dtype=object)
    moved = (enrol["first_dwelling"] != enrol["last_dwelling"]).to_numpy()
    stale = moved & render.mask(rng, n, rates.get("stale_address", 0.0))
    dwelling = np.where(stale, enrol["first_dwelling"], enrol["last_dwelling"])
    render.place(frame, dwellings, dwelling)
    render.addresses(rng, frame, rates)
    carer = primary_carers(adults).loc[enrol["hh_id"]]
    frame["carer_forename"] = np.where(render.mask(rng, n, rates.get("carer_recorded", 0.0)),
                                       carer["forename"].to_numpy(dtype=object), None)
    frame["carer_surname"] = np.where(pd.notna(frame["carer_forename"]), carer["surname"].to_numpy(dtype=object), None)
    upn, former_upn = _upn_columns(rng, enrol, child_upn, schools, rates)
    bad = render.mask(rng, n, rates.get("upn_invalid", 0.0))
    upn[bad] = identifiers.mistype_digit(rng, upn[bad], 1, 11)
    frame["upn"], frame["former_upn"] = upn, former_upn
    if nhs_coverage > 0:
        nhs = nhs_number_at(c, as_of)
        nhs = np.where(render.mask(rng, n, nhs_coverage), nhs, None)
        bad = pd.notna(nhs) & render.mask(rng, n, rates.get("nhs_invalid", 0.0))
        nhs[bad] = identifiers.mistype_digit(rng, nhs[bad], 3, 9)
        frame["nhs_number"] = nhs
    s = schools.set_index("school_id").loc[enrol["school_id"]]
    frame["la_code"] = s["la_code"].to_numpy(dtype=object)
    frame["school_urn"] = s["urn"].to_numpy(dtype=object)
    frame["entry_date"] = calendar.iso(enrol["start"].to_numpy())
    frame["leaving_date"] = calendar.iso(enrol["end"].to_numpy())
    cases = _cme_cases(rng, enrol, c, hh, window)
    return Education(frame, cases, child_upn)


def primary_carers(adults: pd.DataFrame) -> pd.DataFrame:
    """One carer per household, indexed by hh_id: the mother where there is one."""
    order = adults.assign(not_mother=adults["role"] != "mother").sort_values(["hh_id", "not_mother"], kind="stable")
    return order.drop_duplicates("hh_id").set_index("hh_id")


def _cme_cases(rng: np.random.Generator, enrol: pd.DataFrame, c: pd.DataFrame, hh: pd.DataFrame,
               window: Window) -> pd.DataFrame:
    """Referrals: enrolments at home schools cut at a CME household's leaving date, Year 1-11."""
    yg = calendar.year_group(c["dob"].to_numpy(), enrol["end"].to_numpy())
    referred = enrol["cme"].to_numpy() & enrol["home"].to_numpy() & (yg >= 1) & (yg <= 11)
    rows = np.flatnonzero(referred)
    leave = enrol["end"].to_numpy()[rows]
    referral = np.minimum(leave + calendar.uniform(rng, np.full(rows.size, 10), 40), window.reference)
    return pd.DataFrame({"child_no": enrol["child_no"].to_numpy()[rows], "row": rows,
                         "leave_day": leave, "referral_day": referral})

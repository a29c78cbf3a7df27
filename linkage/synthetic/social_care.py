"""The social care source: children's social care episodes (CIN, CP, CLA).

About 5% of children (more among those later referred as CME) have 1-3 consecutive episodes
while they live in the home LA; an adopted child was looked after (CLA) until the adoption.
The export uses its case system's own column names (``FILE_COLUMNS``), codes sex 1/2 and
writes dates as DD/MM/YYYY; job.yaml maps it back to the contract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import calendar, identifiers, parameters as P, render, reference
from .calendar import OPEN
from .timeline import Window, dwelling_at, nhs_number_at

# canonical name -> the export's column name (job.yaml's `columns:` mapping)
FILE_COLUMNS = {
    "record_id": "EpisodeID", "la_child_id": "LAchildID", "forename": "Forename", "surname": "Surname",
    "dob": "PersonBirthDate", "sex": "GenderCurrent", "address_line": "HomeAddress", "postcode": "HomePostcode",
    "nhs_number": "NHSNumber", "upn": "UPN", "episode_type": "EpisodeType", "episode_start": "EpisodeStart",
    "episode_end": "EpisodeEnd",
}
EPISODE_TYPES = {"CIN": 0.65, "CP": 0.20, "CLA": 0.15}
EPISODE_DAYS = {"CIN": (60, 540), "CP": (90, 730), "CLA": (180, 1500)}
DATE_FORMAT = "%d/%m/%Y"


def _episodes(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, window: Window) -> pd.DataFrame:
    h = hh.set_index("hh_id")
    cme = (h["cme_destination"].reindex(ch["hh_id"]) != "").to_numpy()
    adopted = (ch["name_change"] == "adoption").to_numpy()
    known = adopted | (rng.random(len(ch)) < np.where(cme, P.SOCIAL_CARE_IF_CME, P.SOCIAL_CARE))
    kids = ch[known]
    count = rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1], size=len(kids))
    ep = kids.loc[kids.index.repeat(count), ["child_no", "hh_id", "dob", "exit_kind", "exit_day", "name_change",
                                            "name_change_day"]].reset_index(drop=True)
    ep["k"] = ep.groupby("child_no").cumcount()
    n = len(ep)
    types = np.array(list(EPISODE_TYPES), dtype=object)
    ep["episode_type"] = rng.choice(types, size=n, p=np.array(list(EPISODE_TYPES.values())))
    low = ep["episode_type"].map({t: d[0] for t, d in EPISODE_DAYS.items()}).to_numpy(dtype=np.int64)
    high = ep["episode_type"].map({t: d[1] for t, d in EPISODE_DAYS.items()}).to_numpy(dtype=np.int64)
    length = calendar.uniform(rng, low, high)
    gap = np.where(ep["k"] == 0, 0, calendar.uniform(rng, np.full(n, 30), 300))
    first_start = np.where(ep["k"] == 0, calendar.uniform(rng, np.full(n, window.start - 365), window.reference - 30), 0)
    # Consecutive episodes: each starts a gap after the previous one ends.
    base = pd.Series(first_start).groupby(ep["child_no"]).transform("max").to_numpy()
    ep["start"] = base + pd.Series(length + gap).groupby(ep["child_no"]).cumsum().to_numpy() - length
    ep["end"] = ep["start"] + length
    # An adopted child's (last) episode is CLA ending at the adoption.
    is_last = ep["k"] == ep.groupby("child_no")["k"].transform("max")
    adoption = (ep["name_change"] == "adoption") & is_last
    ep.loc[adoption, "episode_type"] = "CLA"
    ep.loc[adoption, "end"] = ep.loc[adoption, "name_change_day"]
    ep.loc[adoption, "start"] = ep.loc[adoption, "end"] - calendar.uniform(rng, np.full(int(adoption.sum()), 200), 800)
    return _within_residence(rng, ep, hh, window)


def _within_residence(rng: np.random.Generator, ep: pd.DataFrame, hh: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Keep episodes to the time the child lived in the home LA (and was alive and born)."""
    h = hh.set_index("hh_id")
    fate = h["fate"].reindex(ep["hh_id"]).to_numpy(dtype=object)
    t1 = h["t1"].reindex(ep["hh_id"]).to_numpy()
    arrived = np.isin(fate, ["arrive_abroad", "arrive_from_la"])
    left = np.isin(fate, ["move_out", "emigrate", "vanish"])
    home_from = np.where(arrived, t1 + calendar.uniform(rng, np.full(len(ep), 14), 120), -OPEN)
    home_to = np.where(left, t1, OPEN)
    death = np.where(ep["exit_kind"] == "death", ep["exit_day"], OPEN)
    ep["start"] = np.maximum.reduce([ep["start"].to_numpy(), home_from, ep["dob"].to_numpy()])
    ep["end"] = np.minimum.reduce([ep["end"].to_numpy(), home_to, death])
    ep = ep[(ep["start"] <= ep["end"]) & (ep["start"] <= window.reference) & (ep["end"] >= window.start)].copy()
    ep["end"] = np.where(ep["end"] > window.reference, OPEN, ep["end"])
    return ep.reset_index(drop=True)


def social_care_source(rng: np.random.Generator, ch: pd.DataFrame, hh: pd.DataFrame, spells: pd.DataFrame,
                       dwellings: pd.DataFrame, child_upn: pd.Series, window: Window) -> pd.DataFrame:
    """The social_care.csv rows under CANONICAL names (+ person_id); FILE_COLUMNS renames them."""
    rates = reference.corruption_rates("social_care")
    ep = _episodes(rng, ch, hh, window)
    n = len(ep)
    c = ch.set_index("child_no").loc[ep["child_no"]].reset_index()
    as_of = np.minimum(ep["end"].to_numpy(), window.reference)
    true_names = render.child_names(ch, ep["child_no"].to_numpy(), as_of)
    frame = render.recorded_names(rng, true_names, rates, surname="surname_used", middle_names=False)
    frame["dob"] = calendar.uk(render.dates_of_birth(rng, c["dob"].to_numpy(), rates, rates.get("dob_missing", 0.0)))
    frame["sex"] = np.where(c["sex"] == "M", "1", "2").astype(object)
    stale = render.mask(rng, n, rates.get("stale_address", 0.0))
    # The day before a closed episode's end: an episode closed by a move ends on the moving day.
    last_day = np.minimum(ep["end"].to_numpy() - 1, window.reference)
    dwelling = dwelling_at(spells, ep["hh_id"].to_numpy(), np.where(stale, ep["start"], last_day))
    render.place(frame, dwellings, dwelling)
    render.addresses(rng, frame, rates)
    frame = frame.drop(columns=["uprn"])                       # case systems hold no UPRN
    frame["la_child_id"] = _la_child_ids(rng, ch).reindex(ep["child_no"]).to_numpy(dtype=object)
    frame["nhs_number"] = _nhs_column(rng, c, as_of, rates)
    upn = child_upn.reindex(ep["child_no"]).to_numpy(dtype=object)
    upn = np.where(render.mask(rng, n, rates.get("upn_present", 0.0)), upn, None)
    bad = pd.notna(upn) & render.mask(rng, n, rates.get("upn_invalid", 0.0))
    upn[bad] = identifiers.mistype_digit(rng, upn[bad], 1, 11)
    frame["upn"] = upn
    frame["episode_type"] = ep["episode_type"].to_numpy(dtype=object)
    frame["episode_start"] = calendar.uk(ep["start"].to_numpy())
    frame["episode_end"] = calendar.uk(ep["end"].to_numpy())
    return _placeholders(rng, frame, rates.get("missing_as_placeholder", 0.0))


def _la_child_ids(rng: np.random.Generator, ch: pd.DataFrame) -> pd.Series:
    low = 100_000 if len(ch) <= 900_000 else 1_000_000     # six digits while they suffice (same ids as before)
    numbers = low + rng.choice(9 * low, size=len(ch), replace=False)
    return pd.Series("SC" + pd.Series(numbers).astype(str).to_numpy(), index=ch["child_no"].to_numpy())


def _nhs_column(rng: np.random.Generator, c: pd.DataFrame, as_of: np.ndarray, rates: dict[str, float]) -> np.ndarray:
    n = len(c)
    nhs = nhs_number_at(c, as_of)
    nhs = np.where(render.mask(rng, n, rates.get("nhs_present", 0.0)), nhs, None)
    bad = pd.notna(nhs) & render.mask(rng, n, rates.get("nhs_invalid", 0.0))
    nhs[bad] = identifiers.mistype_digit(rng, nhs[bad], 3, 9)
    spaced = pd.notna(nhs) & render.mask(rng, n, rates.get("nhs_spaced", 0.0))
    text = pd.Series(nhs[spaced], dtype=object).astype(str)
    nhs[spaced] = (text.str.slice(0, 3) + " " + text.str.slice(3, 6) + " " + text.str.slice(6)).to_numpy(dtype=object)
    return nhs


def _placeholders(rng: np.random.Generator, frame: pd.DataFrame, rate: float) -> pd.DataFrame:
    """Some empty optional fields written as NULL or N/A, as case-system exports do."""
    for column in ("nhs_number", "upn", "postcode", "address_line"):
        values = frame[column].to_numpy(dtype=object)
        empty = pd.isna(values)
        use = empty & (rng.random(len(values)) < rate)
        frame[column] = np.where(use, np.where(rng.random(len(values)) < 0.5, "NULL", "N/A"), values)
    return frame

"""The trace layer's tunable numbers, shipped as CSV files in ``data/`` next to this module.

``evidence_strength.csv``  how strongly each kind of evidence supports a destination (confidence.py)
``triage_points.csv``      the risk points each factor adds to a case (triage.py)
``sen_codes.csv``          values of an optional ``sen`` column that mean special educational needs
``destination_labels.csv`` the plain-English name of each destination, for the officer's report

Keeping them in CSV lets an LA review and tune them without touching code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from .rules import DESTINATIONS

DATA_DIR = Path(__file__).with_name("data")


@lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / name, dtype=str, keep_default_na=False)


def evidence_strengths() -> pd.DataFrame:
    """``destination, evidence, strength`` (strength a float in [0, 1])."""
    frame = _read("evidence_strength.csv")[["destination", "evidence", "strength"]].copy()
    frame["strength"] = frame["strength"].astype(float)
    return frame


def strength_of(destination: str, evidence: str) -> float:
    """One strength from ``evidence_strength.csv`` (e.g. the multiplier for a contested call)."""
    frame = evidence_strengths()
    hit = frame[(frame["destination"] == destination) & (frame["evidence"] == evidence)]
    return float(hit["strength"].iloc[0])


def triage_points() -> dict[str, tuple[int, str]]:
    """factor -> (points, plain-English label)."""
    frame = _read("triage_points.csv")
    return {f: (int(p), label) for f, p, label in zip(frame["factor"], frame["points"], frame["label"])}


def sen_codes() -> list[str]:
    """Upper-case values of a ``sen`` column that mean the child has special educational needs."""
    return sorted(_read("sen_codes.csv")["code"].str.strip().str.upper())


def destination_labels() -> dict[str, str]:
    """destination -> plain-English label, in the rules' order (rule 1 first)."""
    labels = dict(zip(*(_read("destination_labels.csv")[c] for c in ("destination", "label"))))
    return {d: labels[d] for d in DESTINATIONS.values()}

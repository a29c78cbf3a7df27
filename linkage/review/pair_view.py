"""One queued pair as an officer sees it: fields aligned, agreement marked, evidence in plain words.

Field labels, which standardised column decides agreement, comparison names and the words for
evidence strength are reference data in ``data/*.csv``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from ..score import COMPARISON_NAMES
from .queue import QUEUE, RUN_IDENTITIES

DATA = Path(__file__).resolve().parent / "data"
IDENTITY_LIMIT = 50      # other records shown per identity (an identity of a child holds a handful)


def _csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def fields() -> tuple[dict[str, str], ...]:
    return tuple(_csv("fields.csv"))


@lru_cache(maxsize=1)
def comparison_labels() -> dict[str, str]:
    return {r["comparison"]: r["label"] for r in _csv("comparisons.csv")}


@lru_cache(maxsize=1)
def _strengths() -> tuple[tuple[float, str], ...]:
    rows = [(float(r["min_abs_weight"]), r["strength"]) for r in _csv("evidence_words.csv")]
    return tuple(sorted(rows, reverse=True))


def evidence_words(weight: float) -> str:
    """A match weight as an officer reads it: "strong evidence for", "weak evidence against"."""
    size = abs(weight)
    strength = next((word for bound, word in _strengths() if size >= bound), _strengths()[-1][1])
    if strength == "almost no":
        return "almost no evidence either way"
    return f"{strength} evidence {'for' if weight > 0 else 'against'}"


@dataclass(frozen=True)
class FieldRow:
    label: str
    left: str
    right: str
    state: str        # 'agree', 'differ', 'one-missing' or '' (not compared)
    section: str


@dataclass(frozen=True)
class Contribution:
    comparison: str
    level: str
    weight: float
    words: str
    share: float      # |weight| as a share of the largest |weight| of the pair, for the bar's length


@dataclass(frozen=True)
class Side:
    source: str
    record_id: str
    source_type: str
    child_id: str
    others: list[dict]     # the rest of the identity: source, record_id, name, dob, postcode


@dataclass(frozen=True)
class PairView:
    item: int
    total: int
    why: str
    priority: int
    left: Side
    right: Side
    rows: list[FieldRow]
    contributions: list[Contribution]
    match_probability: float
    match_weight: float
    prior_weight: float
    source_pair: str
    identity_reason: str | None = None   # why clustering flagged an identity of the pair, if it did

    @property
    def same_identity(self) -> bool:
        return self.left.child_id == self.right.child_id

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.left.source, self.left.record_id, self.right.source, self.right.record_id)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):   # DATE columns arrive as midnight timestamps
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _field_rows(left: dict, right: dict) -> list[FieldRow]:
    rows = []
    for f in fields():
        a, b = _text(left.get(f["field"])), _text(right.get(f["field"]))
        if not a and not b:
            continue
        state = ""
        if f["compare_on"]:
            sa, sb = left.get(f["compare_on"]), right.get(f["compare_on"])
            if sa is None or sb is None:
                state = "one-missing"
            else:
                state = "agree" if sa == sb else "differ"
        rows.append(FieldRow(f["label"], a, b, state, f["section"]))
    return rows


def _contributions(pair: dict, labels: dict[str, dict[int, str]]) -> list[Contribution]:
    weights = {n: float(pair[f"mw_{n}"] or 0.0) for n in COMPARISON_NAMES}
    largest = max((abs(w) for w in weights.values()), default=0.0) or 1.0
    names = comparison_labels()
    out = []
    for n in COMPARISON_NAMES:
        gamma = int(pair[f"gamma_{n}"])
        level = labels.get(n, {}).get(gamma, "?")
        out.append(Contribution(names.get(n, n), level, weights[n], evidence_words(weights[n]),
                                abs(weights[n]) / largest))
    return out


def _record(cur: duckdb.DuckDBPyConnection, source: str, record_id: str) -> dict:
    frame = cur.execute("select * from std_records where source = ? and record_id = ?", [source, record_id]).fetchdf()
    return {k: (None if _missing(v) else v) for k, v in frame.iloc[0].to_dict().items()} if len(frame) else {}


def _missing(value) -> bool:
    try:
        return value is None or bool(value != value)   # NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False


def _others(cur: duckdb.DuckDBPyConnection, child_id: str, pair: tuple[str, str, str, str]) -> list[dict]:
    """The identity's records other than the pair's two (shown above, and in blind mode the lists
    should not reveal whether the two are linked)."""
    frame = cur.execute(f"""
        select s.source, s.record_id, concat_ws(' ', s.forename, s.surname) as name, s.dob, s.postcode
        from {RUN_IDENTITIES} i join std_records s using (source, record_id)
        where i.child_id = ? and not (s.source = ? and s.record_id = ?) and not (s.source = ? and s.record_id = ?)
        order by s.source, s.record_id limit {IDENTITY_LIMIT}
    """, [child_id, *pair]).fetchdf()
    return [{k: _text(None if _missing(v) else v) for k, v in r.items()} for r in frame.to_dict("records")]


def pair_view(cur: duckdb.DuckDBPyConnection, item: int, labels: dict[str, dict[int, str]]) -> PairView | None:
    """The queued pair numbered ``item``, or None if there is no such item."""
    frame = cur.execute(f"select * from {QUEUE} where item = ?", [item]).fetchdf()
    if frame.empty:
        return None
    pair = frame.iloc[0].to_dict()
    total = cur.execute(f"select count(*) from {QUEUE}").fetchall()[0][0]
    left, right = (_record(cur, pair[f"source_{s}"], pair[f"record_id_{s}"]) for s in ("l", "r"))
    both = (pair["source_l"], pair["record_id_l"], pair["source_r"], pair["record_id_r"])
    sides = [Side(pair[f"source_{s}"], pair[f"record_id_{s}"], str(rec.get("source_type") or ""),
                  pair[f"child_{s}"], _others(cur, pair[f"child_{s}"], both))
             for s, rec in (("l", left), ("r", right))]
    contributions = _contributions(pair, labels)
    return PairView(item=int(item), total=int(total), why=pair["why"], priority=int(pair["priority"]),
                    left=sides[0], right=sides[1], rows=_field_rows(left, right), contributions=contributions,
                    match_probability=float(pair["match_probability"]), match_weight=float(pair["match_weight"]),
                    prior_weight=float(pair["match_weight"]) - sum(c.weight for c in contributions),
                    source_pair=pair["source_pair"], identity_reason=_text(pair.get("identity_reason")) or None)

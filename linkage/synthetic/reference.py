"""Reference tables of the synthetic world, read from the CSV files in ``data/``.

Name pools, places, ports and corruption rates are data, not code: they live in CSV files next
to this module so that they can be read, reviewed and extended without touching the generator.
The diminutive and spelling-variant table is the one standardisation uses
(``linkage/standardise/data/name_aliases.csv``), so the corruptions we inject are exactly the
ones the linkage is meant to undo.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data"
NAME_ALIASES = Path(__file__).parents[1] / "standardise" / "data" / "name_aliases.csv"


@lru_cache(maxsize=None)
def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def table(name: str) -> pd.DataFrame:
    """A copy of ``data/<name>`` with every column as text."""
    return _read(DATA / name).copy()


def weighted(name: str) -> pd.DataFrame:
    """``table(name)`` with its ``weight`` column as float."""
    frame = table(name)
    frame["weight"] = frame["weight"].astype(float)
    return frame


def corruption_rates(source: str) -> dict[str, float]:
    """Corruption kind -> rate for one source (``data/corruption_rates.csv``); absent kinds are 0."""
    rates = table("corruption_rates.csv")
    rows = rates[rates["source"] == source]
    return dict(zip(rows["corruption"], rows["rate"].astype(float)))


def name_aliases() -> pd.DataFrame:
    """``canonical, variant, kind`` rows (folded lower-case names); empty if the file is absent."""
    if not NAME_ALIASES.is_file():
        return pd.DataFrame({"canonical": [], "variant": [], "kind": []}, dtype=str)
    return _read(NAME_ALIASES).copy()

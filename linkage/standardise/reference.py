"""Reference tables shipped as CSV files in ``data/`` next to this module.

Reference data (name tables, LA codes, sex codes) lives in CSV so that it can be reviewed and
extended without touching code. Each file is read once per process.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")


@lru_cache(maxsize=None)
def read_reference(name: str) -> tuple[dict[str, str], ...]:
    """Return the rows of ``data/<name>`` as dicts (header row = keys), in file order."""
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))

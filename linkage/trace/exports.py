"""The trace's CSV files: atomic and spreadsheet-safe (through ``linkage.outputs.write_csv``)."""

from __future__ import annotations

from pathlib import Path

from ..outputs import write_csv
from .worklist import TraceTables

FILES = {
    "cases": "cme_trace.csv",
    "timeline": "cme_timeline.csv",
    "not_in_education": "not_in_education.csv",
    "arrivals": "arrived_from_abroad_not_in_education.csv",
    "starting_school": "starting_school_without_place.csv",
    "check_first": "not_in_education_check.csv",
}


def write_trace_csvs(out_dir: str | Path, tables: TraceTables) -> list[Path]:
    """Write each of ``tables`` to its file in ``out_dir``; return the paths in ``FILES`` order."""
    out_dir = Path(out_dir)
    return [write_csv(out_dir / name, getattr(tables, field)) for field, name in FILES.items()]

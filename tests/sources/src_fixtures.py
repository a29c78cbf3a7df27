"""Helpers for the sources tests: write small input files and read them back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linkage.job import Job, SourceSpec
from linkage.sources import read_source


def write_text(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` byte-exact (no newline translation) in ``encoding``."""
    path.write_bytes(text.encode(encoding))
    return path


def write_parquet(path: Path, columns: dict, schema: pa.Schema | None = None) -> Path:
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def spec(path: Path, *, name: str = "src", type: str = "gp", columns: dict | None = None) -> SourceSpec:
    return SourceSpec(name=name, type=type, path=path, columns=columns or {})


def read(path: Path, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records (as pandas, object dtype with None for NULL) and rejects of one file."""
    table, rejects = read_source(spec(path, **kwargs))
    records = table.to_pandas().astype(object)
    return records.where(records.notna(), None), rejects


def job(tmp_path: Path, sources: list[SourceSpec], **kwargs) -> Job:
    return Job(path=tmp_path / "job.yaml", home_la="330", postcode_lookup=kwargs.pop("postcode_lookup", None),
               reference_date=dt.date(2026, 11, 1), sources=tuple(sources), **kwargs)

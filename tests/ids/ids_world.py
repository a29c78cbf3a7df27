"""Generated worlds in two versions, for persistent-ID and incremental tests.

``versions(world, out)`` writes ``v1/`` (the world without a share of its rows: the records that
arrive later) and ``v2/`` (every row, some GP rows changed, some school rows deleted), each with a
job file whose workspace is given per call, so tests can link versions into one workspace or
into fresh ones.
"""

from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import pandas as pd
import yaml

from linkage.job import Job, load_job


def _picked(key: bytes, share: float, salt: bytes) -> bool:
    """A stable pseudo-random choice of about ``share`` of keys."""
    return zlib.crc32(salt + key) % 10_000 < share * 10_000


def _write_version(world: Path, folder: Path, *, late: float, changed: float, deleted: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((world / "job.yaml").read_text())
    for source in raw["sources"]:
        path = world / source["path"]
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            keys = frame["record_id"].astype(str).str.encode("utf-8")
            frame = frame[~keys.map(lambda k: _picked(k, late, b"late"))].copy()
            edit = frame["record_id"].astype(str).str.encode("utf-8").map(lambda k: _picked(k, changed, b"chg"))
            frame.loc[edit, "postcode"] = "B99 9ZZ"            # moved house
            frame.to_parquet(folder / source["path"], index=False)
            continue
        # CSV rows are kept or dropped as whole lines, bytes untouched (encodings vary by source).
        lines = path.read_bytes().splitlines(keepends=True)
        drop = deleted if source["type"] == "education" else 0.0
        kept = [line for line in lines[1:] if not _picked(line, late, b"late") and not _picked(line, drop, b"del")]
        (folder / source["path"]).write_bytes(b"".join(lines[:1] + kept))
    for name in ("la_postcodes.csv", "cme_cases.csv"):
        shutil.copy(world / name, folder / name)
    (folder / "job.yaml").write_text(yaml.safe_dump(raw))


def versions(world: Path, out: Path, *, late: float = 0.01, changed: float = 0.0, deleted: float = 0.0) -> None:
    """``out/v1``: the world without ``late`` of its rows; ``out/v2``: all rows, ``changed`` of the GP
    rows with a new postcode and ``deleted`` of the school rows removed."""
    _write_version(world, out / "v1", late=late, changed=0.0, deleted=0.0)
    _write_version(world, out / "v2", late=0.0, changed=changed, deleted=deleted)


def job_in(folder: Path, workspace: Path, name: str | None = None, **linkage) -> Job:
    """The job of a version folder with its own workspace (and optional linkage settings)."""
    raw = yaml.safe_load((folder / "job.yaml").read_text())
    raw["linkage"] = {**(raw.get("linkage") or {}), "workspace": str(workspace), **linkage}
    path = folder / f"job_{name or workspace.name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_job(path)


def identities(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "identities.parquet")


def partition(run: Path) -> set[frozenset]:
    """A run's identities as sets of (source, record_id), whatever their IDs."""
    ids = identities(run)
    return {frozenset(zip(g.source, g.record_id)) for _, g in ids.groupby("child_id")}

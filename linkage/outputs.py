"""Writing outputs safely: atomically, and as CSV a spreadsheet will not execute.

Every file the tool writes goes through here. A file is written to a temporary name in the
same folder and renamed into place, so a killed run leaves the previous output intact.
CSV cells that a spreadsheet would read as a formula (leading ``=``, ``+``, ``-``, ``@``, tab
or carriage return) are prefixed with an apostrophe; the stored data is never changed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd

from .errors import ChildlinkError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise ChildlinkError(f"cannot write here ({exc.strerror})", file=str(target.parent)) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        raise ChildlinkError(f"cannot write output ({exc.strerror})", file=str(target)) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(target: str | Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with formula-leading text cells neutralised (vectorised per column)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            text = s.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False)
            if risky.any():
                out[col] = text.where(~risky, "'" + text)
    return out


def write_csv(target: str | Path, frame: pd.DataFrame) -> Path:
    """Write ``frame`` as UTF-8 CSV, atomically and spreadsheet-safe."""
    with atomic_path(target) as tmp:
        spreadsheet_safe(frame).to_csv(tmp, index=False, encoding="utf-8")
    return Path(target)


def write_parquet(target: str | Path, frame: pd.DataFrame) -> Path:
    with atomic_path(target) as tmp:
        frame.to_parquet(tmp, index=False)
    return Path(target)

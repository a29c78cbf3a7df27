"""Writing outputs safely: atomically, and as CSV a spreadsheet will not execute.

Every file the tool writes goes through here. A file is written to a temporary name in the
same folder and renamed into place, so a killed run leaves the previous output intact. Inside
``staged_outputs`` the renames wait until every file of the block is written, so a run killed or
failing half-way through its outputs leaves all the previous ones as they were (not a mix).
A temporary a killed run left behind (it holds children's data) is removed the next time that
file is written. Outputs are owner-only (mode 0600).
CSV cells that a spreadsheet would read as a formula (leading ``=``, ``+``, ``-``, ``@``, tab
or carriage return) are prefixed with an apostrophe; the stored data is never changed.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import glob
import os
import tempfile
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from .errors import ChildlinkError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# (temporary, target) pairs waiting for the end of the current ``staged_outputs`` block.
# A temporary of None means: remove the target (an output this run does not write).
_STAGED: contextvars.ContextVar[list[tuple[Path | None, Path]] | None] = contextvars.ContextVar(
    "childlink_staged", default=None)
# Errors worth naming when a writer (pandas, pyarrow, DuckDB) fails on the file system.
IO_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target`` (at the end
    of the enclosing ``staged_outputs`` block, if any). Any file-system failure is one ChildlinkError."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise ChildlinkError(f"cannot write here ({exc.strerror})", file=str(target.parent)) from None
    tmp_path, staged, done = Path(tmp), _STAGED.get(), False
    try:
        yield tmp_path
        if not tmp_path.is_symlink():   # never follow a link out of the folder
            os.chmod(tmp_path, 0o600)   # some writers (DuckDB COPY) make the file anew, world-readable
        if staged is None:
            os.replace(tmp_path, target)
        else:
            staged.append((tmp_path, target))
        done = True
    except (OSError, duckdb.IOException) as exc:
        raise ChildlinkError(f"cannot write output ({io_reason(exc)})", file=str(target)) from None
    finally:
        if not done:
            tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_outputs() -> Iterator[None]:
    """Put the files written through ``atomic_path`` in the block in place together when it ends
    without error; on any error (or a kill) every previous output stays as it was. Nested blocks
    join the outermost."""
    if _STAGED.get() is not None:
        yield
        return
    staged: list[tuple[Path | None, Path]] = []
    token = _STAGED.set(staged)
    try:
        yield
    except BaseException:
        _remove_temporaries(staged)
        raise
    finally:
        _STAGED.reset(token)
    for i, (tmp, target) in enumerate(staged):   # renames only: no data is written here
        try:
            if tmp is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(tmp, target)
        except OSError as exc:
            _remove_temporaries(staged[i:])
            raise ChildlinkError(f"cannot write output ({exc.strerror})", file=str(target)) from None


def _remove_temporaries(staged: list[tuple[Path | None, Path]]) -> None:
    for tmp, _ in staged:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def discard_output(target: str | Path) -> None:
    """Remove an output a previous run wrote (now, or when the ``staged_outputs`` block succeeds)."""
    target, staged = Path(target), _STAGED.get()
    if staged is None:
        target.unlink(missing_ok=True)
    else:
        staged.append((None, target))


def check_writable(folder: str | Path) -> Path:
    """Fail now, with one clear message, if outputs cannot be written into ``folder`` (created if
    missing): before a long run does its work and updates the workspace."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".childlink-write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ChildlinkError(f"cannot write here ({exc.strerror})", file=str(folder)) from None
    return folder


def _remove_stale_temporaries(target: Path) -> None:
    """Delete ``.<name>.<pid>.*.tmp`` files beside ``target`` whose process has ended (a killed run)."""
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = tmp.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # someone else's live process
        return True
    return True


def io_reason(exc: BaseException) -> str:
    """The plain reason of a file-system failure (DuckDB's messages carry it inside longer text)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    for code in IO_ERRORS:
        if os.strerror(code) in text:
            return os.strerror(code)
    return "input/output error"


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

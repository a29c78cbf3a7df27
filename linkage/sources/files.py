"""Checking an input file before reading it: it exists, is a readable file, and has content.

Every problem is one ChildlinkError naming the file, so a user can fix the job or the export.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ChildlinkError

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")


def file_format(path: Path, label: str) -> str:
    """Return ``"csv"`` or ``"parquet"`` from the file's extension (case-insensitive)."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    shown = suffix or "(none)"
    raise ChildlinkError(f"{label}: unsupported file extension {shown}; expected .csv, .parquet or .pq",
                         file=str(path))


def check_readable_file(path: Path, label: str) -> None:
    """Raise ChildlinkError unless ``path`` is an existing, readable, non-empty regular file."""
    if path.is_dir():
        raise ChildlinkError(f"{label}: is a folder, not a file", file=str(path))
    if not path.exists():
        raise ChildlinkError(f"{label}: file not found", file=str(path))
    try:
        with path.open("rb") as handle:
            first = handle.read(1)
    except PermissionError:
        raise ChildlinkError(f"{label}: cannot be read (permission denied)", file=str(path)) from None
    except OSError as exc:
        raise ChildlinkError(f"{label}: cannot be read ({exc.strerror})", file=str(path)) from None
    if not first:
        raise ChildlinkError(f"{label}: file is empty (0 bytes); expected at least a header row",
                             file=str(path))

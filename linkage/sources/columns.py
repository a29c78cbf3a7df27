"""Which file column holds which canonical field.

The job's ``columns`` mapping is used first (exact header names). Every other canonical field is
matched to a header by exact name, else by a name equal after lower-casing and removing spaces and
underscores (``Record ID`` -> record_id). Nothing fuzzier: ``DOB`` is not ``dob``'s only spelling,
so guessing would silently read the wrong column. Header names are not personal data, so
messages may list them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import ChildlinkError

_MAX_LISTED_COLUMNS = 40


@dataclass(frozen=True)
class ColumnPlan:
    """How a file's columns become canonical fields."""
    mapping: dict[str, str]     # canonical field -> file column name exactly as in the header
    extra: tuple[str, ...]      # file columns no field reads (ignored, counted in the quality summary)


def normalised_name(name: str) -> str:
    return name.strip().lower().replace(" ", "").replace("_", "")


def shown_name(name: str) -> str:
    """A column name as printed in a message: control and other unprintable characters escaped,
    so that a header cell holding a line break still gives a one-line error."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name)


def plan_columns(header: Sequence[str], *, fields: Sequence[str], explicit: Mapping[str, str],
                 required: Sequence[str], label: str, path: Path) -> ColumnPlan:
    """Map canonical ``fields`` to ``header`` columns; ChildlinkError for any mapping problem."""
    _check_unique_names(header, fields, explicit, label, path)
    by_name = {name.strip(): name for name in header if name.strip()}
    mapping: dict[str, str] = {}
    for canonical, wanted in explicit.items():
        if wanted.strip() not in by_name:
            raise ChildlinkError(
                f"{label}: this column (mapped to {canonical}) is not in the file; "
                f"{_describe(header, fields, explicit)}", file=str(path), column=shown_name(wanted))
        mapping[canonical] = by_name[wanted.strip()]
    claimed = set(mapping.values())
    unclaimed = [name for name in header if name.strip() and name not in claimed]
    for canonical in fields:
        if canonical not in mapping:
            found = _match(canonical, unclaimed, label, path)
            if found is not None:
                mapping[canonical] = found
    for canonical in required:
        if canonical not in mapping:
            raise ChildlinkError(f"{label}: the file has no such column (map one in the job's "
                                 f"'columns' section); {_describe(header, fields, explicit)}",
                                 file=str(path), column=canonical)
    used = set(mapping.values())
    ordered = {f: mapping[f] for f in fields if f in mapping}
    return ColumnPlan(mapping=ordered, extra=tuple(name for name in header if name not in used))


def _match(canonical: str, candidates: Sequence[str], label: str, path: Path) -> str | None:
    exact = [name for name in candidates if name.strip() == canonical]
    if exact:
        return exact[0]
    loose = [name for name in candidates if normalised_name(name) == normalised_name(canonical)]
    if len(loose) > 1:
        names = ", ".join(f"'{shown_name(n)}'" for n in loose)
        raise ChildlinkError(f"{label}: columns {names} could all be {canonical}; "
                             "say which one in the job's 'columns' mapping", file=str(path), column=canonical)
    return loose[0] if loose else None


def _check_unique_names(header: Sequence[str], fields: Sequence[str], explicit: Mapping[str, str],
                        label: str, path: Path) -> None:
    # Unnamed columns (trailing commas in spreadsheet exports) may repeat: nothing can map to them.
    counts = Counter(name.strip() for name in header if name.strip())
    repeated = sorted(name for name, n in counts.items() if n > 1)
    if repeated and not _recognised(header, fields, explicit):
        # A first row of data repeats values (a carer's surname is the child's): not to be echoed.
        raise ChildlinkError(f"{label}: {_describe(header, fields, explicit)}", file=str(path))
    if repeated:
        raise ChildlinkError(f"{label}: the header names this column {counts[repeated[0]]} times; "
                             "column names must be unique", file=str(path), column=shown_name(repeated[0]))


def _recognised(header: Sequence[str], fields: Sequence[str], explicit: Mapping[str, str]) -> bool:
    """Does any header name look like a column name we know? If none does, the header is probably data."""
    known = {normalised_name(f) for f in fields} | {normalised_name(c) for c in explicit.values()}
    return any(normalised_name(name) in known for name in header)


def _describe(header: Sequence[str], fields: Sequence[str], explicit: Mapping[str, str]) -> str:
    """List the header, unless no name in it is recognised: then the first row may be data,
    which must not be echoed into a message."""
    if not _recognised(header, fields, explicit):
        return f"none of its {len(header)} columns has a recognised name (is the header row missing?)"
    shown = [shown_name(name) for name in header[:_MAX_LISTED_COLUMNS]]
    more = len(header) - len(shown)
    return "it has: " + ", ".join(shown) + (f" (and {more} more)" if more > 0 else "")

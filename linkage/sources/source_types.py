"""What differs between the five source types, declared once.

A source of any type may carry the person and identifier fields; only its own type's event
fields are read (a ``role`` column in a GP file is ignored, not mistaken for a council-tax role).
Enumerated event fields have allowed spellings (schema.py); the fields a type is expected to carry
(source_type_fields.csv) let the quality summary warn about a likely mis-mapped column.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..schema import (COUNCIL_TAX_ROLES, DEREGISTRATION_REASONS, DIRECTIONS, EPISODE_TYPES, EVENT_FIELDS,
                      IDENTIFIER_FIELDS, PERSON_FIELDS, SOURCE_TYPES)

EXPECTED_FIELDS_FILE = Path(__file__).with_name("source_type_fields.csv")

ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "role": COUNCIL_TAX_ROLES,
    "deregistration_reason": DEREGISTRATION_REASONS,
    "episode_type": EPISODE_TYPES,
    "direction": DIRECTIONS,
}


@dataclass(frozen=True)
class SourceType:
    """The fields one source type reads and the values its enumerated fields allow."""
    name: str
    event_fields: tuple[str, ...]
    expected_fields: tuple[str, ...]
    allowed_values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def readable_fields(self) -> tuple[str, ...]:
        """Canonical fields read from a file of this type, record_id first."""
        return ("record_id",) + PERSON_FIELDS + IDENTIFIER_FIELDS + self.event_fields


@lru_cache(maxsize=None)
def source_type(name: str) -> SourceType:
    """The declaration of source type ``name`` (one of schema.SOURCE_TYPES)."""
    if name not in SOURCE_TYPES:
        raise KeyError(name)
    events = EVENT_FIELDS[name]
    return SourceType(
        name=name, event_fields=events, expected_fields=_expected_fields().get(name, ()),
        allowed_values={f: values for f, values in ALLOWED_VALUES.items() if f in events},
    )


@lru_cache(maxsize=1)
def _expected_fields() -> dict[str, tuple[str, ...]]:
    with EXPECTED_FIELDS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected: dict[str, list[str]] = {}
    for row in rows:
        expected.setdefault(row["type"], []).append(row["field"])
    return {name: tuple(fields) for name, fields in expected.items()}

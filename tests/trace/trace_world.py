"""A tiny hand-built world for trace tests: records of identities, CME cases and a postcode lookup.

Tests describe each record by its identity, type and the fields that matter; everything else is
NULL, as in std_records. ``World.connect()`` writes the four tables into a fresh DuckDB database,
each in the form the loader and standardisation give it.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from linkage.schema import CANONICAL_FIELDS, EVENT_DATE_FIELDS, KEY_COLUMNS
from linkage.standardise.postcodes import normalise_postcode

HOME = "330"
R = dt.date(2026, 11, 1)
# District -> LA. 'ZZ9' is deliberately absent (an unknown district).
DISTRICT_LA = {"B12": "330", "B13": "330", "B14": "330", "CV1": "331", "M1": "352"}

DATE_COLUMNS = set(EVENT_DATE_FIELDS) | {"dob_date"}
RECORD_COLUMNS = list(KEY_COLUMNS) + list(CANONICAL_FIELDS) + ["dob_date", "postcode_std", "postcode_district"]


def d(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


class World:
    def __init__(self) -> None:
        self.records: list[dict] = []
        self.cases: list[dict] = []
        self._counter = 0

    def add(self, identity: str | None, source_type: str, *, source: str | None = None,
            record_id: str | None = None, postcode: str | None = None, **fields) -> str:
        """Add a record (identity None = not linked); return 'source:record_id'."""
        self._counter += 1
        row = dict.fromkeys(RECORD_COLUMNS)
        row.update(source=source or source_type, source_type=source_type,
                   record_id=record_id or f"{source_type[:2].upper()}{self._counter}", row_number=self._counter)
        if postcode is not None:   # a parseable postcode: std form and district
            compact = postcode.replace(" ", "").upper()
            row.update(postcode=postcode, postcode_std=f"{compact[:-3]} {compact[-3:]}",
                       postcode_district=compact[:-3])
        for key, value in fields.items():
            assert key in row, key
            row[key] = d(value) if key in DATE_COLUMNS and isinstance(value, str) else value
        row["_identity"] = identity
        self.records.append(row)
        return f"{row['source']}:{row['record_id']}"

    def case(self, case_id: str, ref: str, referral_date: str | None) -> None:
        source, record_id = ref.split(":")
        self.cases.append({"case_id": case_id, "source": source, "record_id": record_id,
                           "referral_date": d(referral_date) if referral_date else None})

    def connect(self, *, full_postcodes: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        cols = ", ".join(f'"{c}" {"DATE" if c in DATE_COLUMNS else "BIGINT" if c == "row_number" else "VARCHAR"}'
                         for c in RECORD_COLUMNS)
        con.execute(f"CREATE TABLE std_records ({cols})")
        marks = ", ".join("?" for _ in RECORD_COLUMNS)
        con.executemany(f"INSERT INTO std_records VALUES ({marks})",
                        [[r[c] for c in RECORD_COLUMNS] for r in self.records])
        con.execute("CREATE TABLE identities (source VARCHAR, record_id VARCHAR, identity_id VARCHAR)")
        linked = [[r["source"], r["record_id"], r["_identity"]] for r in self.records if r["_identity"]]
        if linked:
            con.executemany("INSERT INTO identities VALUES (?, ?, ?)", linked)
        con.execute("CREATE TABLE cme_cases (case_id VARCHAR, source VARCHAR, record_id VARCHAR, referral_date DATE)")
        if self.cases:
            con.executemany("INSERT INTO cme_cases VALUES (?, ?, ?, ?)",
                            [[c["case_id"], c["source"], c["record_id"], c["referral_date"]] for c in self.cases])
        if full_postcodes is None:
            con.execute("CREATE TABLE postcode_lookup (postcode_district VARCHAR, la_code VARCHAR)")
            con.executemany("INSERT INTO postcode_lookup VALUES (?, ?)", list(DISTRICT_LA.items()))
        else:
            # keys as the loader stores them (linkage.sources.postcode_lookup): 'b129aa' -> 'B12 9AA'
            con.execute("CREATE TABLE postcode_lookup (postcode VARCHAR, la_code VARCHAR)")
            con.executemany("INSERT INTO postcode_lookup VALUES (?, ?)",
                            [(normalise_postcode(key), la) for key, la in full_postcodes.items()])
        return con

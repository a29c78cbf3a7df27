"""The evidence the trace rules read: each identity's records as dated spans, and residence.

``record_fields_sql``: every record with the type's own event fields reduced to one shape, so
the rules, confidence, arrivals and timelines need not know the five source types:

    start_date   entry_date | registration_date | occupancy_start | episode_start   (SPAN_COLUMNS;
    end_date     leaving_date | deregistration_date | occupancy_end | episode_end     NULL for border)
    travel_date, direction ('IN'/'OUT', NULL when missing or unrecognised)   border only
    deregistration_reason                                                     gp only
    school_urn (education), episode_type (social care)

Enumerated values are compared as the loader spells them (``linkage.sources.values``).

``_trace_rec``: those fields for one row per record of an identity, plus

    latest_date  the record's latest event date on or before R (dates after R have not happened);
                 event dates are the contract's list, which leaves out school leaving dates
    presence_date  the start date, or an IN crossing's travel date, on or before R
    la_code, is_home  the postcode's LA through the lookup; NULL when the postcode does not resolve
    citation     plain-English "source:record_id (what, date)" for evidence strings

``_trace_residence``: residence evidence current on R with a home postcode (rule 4 and
not_in_education), one row per qualifying record, with its start date and postcode.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Iterator

import duckdb

from ..schema import EVENT_DATE_FIELDS
from ..standardise.sqltext import quote_table
from .lookup import PostcodeAreas
from .tables import TEMP_PREFIX, drop_temp_tables, require_columns, sql_date

REC = f"{TEMP_PREFIX}rec"
RESIDENCE = f"{TEMP_PREFIX}residence"
LATEST_ADDRESS = f"{TEMP_PREFIX}latest_address"

RECORD_COLUMNS = ("source", "source_type", "record_id", "dob_date", "postcode_std", "postcode_district",
                  "school_urn", "deregistration_reason", "episode_type", "direction") + EVENT_DATE_FIELDS
IDENTITY_COLUMNS = ("source", "record_id", "identity_id")

# Each source type's span: the event date fields that open and close it. A border crossing has
# none (it happens on one day, its travel_date).
SPAN_COLUMNS = {
    "education": ("entry_date", "leaving_date"),
    "gp": ("registration_date", "deregistration_date"),
    "council_tax": ("occupancy_start", "occupancy_end"),
    "social_care": ("episode_start", "episode_end"),
}

# Source types whose postcode is address evidence for rule 3 and residence for rule 4.
ADDRESS_TYPES = "('gp', 'council_tax', 'social_care')"


@contextlib.contextmanager
def trace_workspace(con: duckdb.DuckDBPyConnection, *, records: str, identities: str, areas: PostcodeAreas,
                    reference_date: dt.date, only_identities_sql: str | None = None) -> Iterator[None]:
    """Build ``_trace_rec``, ``_trace_latest_address`` and ``_trace_residence``; drop them afterwards.

    ``areas`` is the postcode lookup the caller has built (lookup.postcode_areas).
    ``only_identities_sql`` (a query returning ``identity_id``) limits the work to those
    identities, e.g. the ones behind CME cases.
    """
    require_columns(con, records, RECORD_COLUMNS)
    require_columns(con, identities, IDENTITY_COLUMNS)
    try:
        _build_records(con, records, identities, areas, reference_date, only_identities_sql)
        _build_latest_address(con)
        _build_residence(con, reference_date)
        yield
    finally:
        drop_temp_tables(con, ("rec", "latest_address", "residence"))


def identities_sql(identities: str) -> str:
    """The identities table with text keys (joins never depend on how ids were typed)."""
    return f"""
        SELECT CAST(source AS VARCHAR) AS source, CAST(record_id AS VARCHAR) AS record_id,
               CAST(identity_id AS VARCHAR) AS identity_id
        FROM {quote_table(identities)}
        WHERE identity_id IS NOT NULL
    """


def span_sql(record: str) -> str:
    """``start_date, end_date`` of the std_records row ``record``, from its type's SPAN_COLUMNS."""
    def by_type(position: int) -> str:
        arms = " ".join(f"WHEN '{t}' THEN {record}.{columns[position]}" for t, columns in SPAN_COLUMNS.items())
        return f"CAST(CASE {record}.source_type {arms} END AS DATE)"
    return f"{by_type(0)} AS start_date, {by_type(1)} AS end_date"


def record_fields_sql(records: str) -> str:
    """Every record of ``records`` with text keys and its type's event fields in one shape
    (module docstring), plus ``dob_date, postcode_std, postcode_district``."""
    return f"""
        SELECT CAST(s.source AS VARCHAR) AS source, CAST(s.record_id AS VARCHAR) AS record_id, s.source_type,
               s.dob_date, s.postcode_std, s.postcode_district, {span_sql('s')},
               CASE WHEN s.source_type = 'border' THEN CAST(s.travel_date AS DATE) END AS travel_date,
               CASE WHEN s.source_type = 'border' AND s.direction IN ('IN', 'OUT') THEN s.direction END
                    AS direction,
               CASE WHEN s.source_type = 'gp' THEN s.deregistration_reason END AS deregistration_reason,
               CASE WHEN s.source_type = 'education' THEN s.school_urn END AS school_urn,
               CASE WHEN s.source_type = 'social_care' THEN s.episode_type END AS episode_type
        FROM {quote_table(records)} s
    """


def _build_records(con, records: str, identities: str, areas: PostcodeAreas, reference_date: dt.date,
                   only_identities_sql: str | None) -> None:
    r = sql_date(reference_date)
    limit = f"WHERE identity_id IN ({only_identities_sql})" if only_identities_sql else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {REC} AS
        WITH ids AS (SELECT * FROM ({identities_sql(identities)}) {limit}),
        spans AS (
            SELECT ids.identity_id, ids.source, f.source_type, ids.record_id, f.dob_date,
                   f.postcode_std AS postcode, pl.la_code, pl.is_home, f.start_date, f.end_date, f.travel_date,
                   f.direction, f.deregistration_reason, f.school_urn, f.episode_type
            FROM ids
            JOIN ({record_fields_sql(records)}) f ON f.source = ids.source AND f.record_id = ids.record_id
            {areas.join_sql('f')}
        ),
        seen AS (   -- event dates as they stand on R: later dates have not happened yet
            SELECT *,
                   CASE WHEN start_date <= {r} THEN start_date END AS start_seen,
                   CASE WHEN end_date <= {r} THEN end_date END AS end_seen,
                   CASE WHEN travel_date <= {r} THEN travel_date END AS travel_seen
            FROM spans
        )
        SELECT * EXCLUDE (start_seen, end_seen, travel_seen),
               -- the contract's event dates: a school leaving date is not one (L itself is one)
               greatest(start_seen, CASE WHEN source_type <> 'education' THEN end_seen END, travel_seen)
                   AS latest_date,
               CASE WHEN direction = 'IN' THEN travel_seen
                    WHEN source_type <> 'border' THEN start_seen END AS presence_date,
               {_citation_sql()} AS citation
        FROM seen
    """)


def _citation_sql() -> str:
    """'source:record_id (what happened, when)' in plain English, from a ``spans`` row."""
    what = """CASE source_type
        WHEN 'education' THEN concat_ws(', ', 'school entry ' || start_date, 'left ' || end_date,
                                        'school URN ' || school_urn)
        WHEN 'gp' THEN concat_ws(', ', 'GP registration ' || start_date,
                                 'deregistered ' || end_date || coalesce(' (' || deregistration_reason || ')', ''))
        WHEN 'council_tax' THEN concat_ws(', ', 'council tax occupancy from ' || start_date, 'to ' || end_date)
        WHEN 'social_care' THEN concat_ws(', ', coalesce(episode_type || ' ', '') || 'episode from ' || start_date,
                                          'to ' || end_date)
        WHEN 'border' THEN coalesce(direction, 'undirected') || ' crossing ' || travel_date
        END"""
    return f"source || ':' || record_id || ' (' || coalesce(nullif({what}, ''), 'undated') || ')'"


def _build_latest_address(con) -> None:
    """Each identity's latest record (any source type) whose postcode resolves to an LA.

    Latest by the record's latest event date, undated records last; ties go to a home
    postcode, then to source and record_id, so the choice is deterministic.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {LATEST_ADDRESS} AS
        SELECT identity_id, source, record_id, postcode, la_code, is_home, latest_date, citation
        FROM {REC}
        WHERE is_home IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY identity_id
                                   ORDER BY latest_date DESC NULLS LAST, is_home DESC, source, record_id) = 1
    """)


def _build_residence(con, reference_date: dt.date) -> None:
    """Residence evidence current on R with a home postcode (contract §4 rule 4).

    An open GP registration, council tax occupancy or social care episode (start NULL or on/before
    R, end NULL or after R) with a home postcode; or an IN crossing on/before R with no later OUT
    crossing and no later GP deregistration, placed at the child's latest address record, which
    must be a home postcode.
    """
    r = sql_date(reference_date)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {RESIDENCE} AS
        WITH last_exits AS (
            SELECT identity_id,
                   max(travel_date) FILTER (WHERE direction = 'OUT' AND travel_date <= {r}) AS last_out,
                   max(end_date) FILTER (WHERE source_type = 'gp' AND end_date <= {r}) AS last_deregistration
            FROM {REC}
            GROUP BY identity_id
        )
        SELECT identity_id, source, record_id, source_type, start_date, postcode, citation
        FROM {REC}
        WHERE source_type IN {ADDRESS_TYPES} AND is_home
          AND (start_date IS NULL OR start_date <= {r})
          AND (end_date IS NULL OR end_date > {r})
        UNION ALL
        SELECT b.identity_id, b.source, b.record_id, b.source_type, b.travel_date AS start_date,
               a.postcode, b.citation || ' at the address of ' || a.source || ':' || a.record_id AS citation
        FROM {REC} b
        JOIN last_exits x USING (identity_id)
        JOIN {LATEST_ADDRESS} a USING (identity_id)
        WHERE b.direction = 'IN' AND b.travel_date <= {r}
          AND (x.last_out IS NULL OR x.last_out <= b.travel_date)
          AND (x.last_deregistration IS NULL OR x.last_deregistration <= b.travel_date)
          AND a.is_home
    """)

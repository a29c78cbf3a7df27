"""Children not in education who arrived from abroad: listed separately so the LA can write in time.

A child on the not-in-education list *arrived from abroad* when their latest IN crossing (by R)
has no OUT crossing after it and either
* it is recent: within the year before R (after R minus one calendar year), or
* it is all that places the child in the area: every record of their residence evidence is a
  border crossing (no GP, council tax or social care record knows the family yet).

These children stay on not_in_education.csv (the contract's list) and are also written to
arrived_from_abroad_not_in_education.csv. Result: table ``_cme_arrivals``; SQL, all children at once.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from ..standardise.sqltext import quote_table
from .evidence import record_fields_sql
from .tables import sql_date

ARRIVALS = "_cme_arrivals"


def arrivals_from_abroad(con: duckdb.DuckDBPyConnection, listed: str, *, records: str, identities: str,
                         reference_date: dt.date) -> str:
    """Create ``_cme_arrivals`` (child_id, arrival_date, arrival_record, known_only_by_arrival) for
    the children of ``listed`` (a not_in_education table: child_id, evidence_records); return its name."""
    r = sql_date(reference_date)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {ARRIVALS} AS
        WITH child_records AS (
            SELECT i.identity_id AS child_id, i.source, i.record_id, f.source_type, f.direction, f.travel_date
            FROM {quote_table(identities)} i
            SEMI JOIN {quote_table(listed)} l ON l.child_id = i.identity_id
            JOIN ({record_fields_sql(records)}) f ON f.source = i.source AND f.record_id = i.record_id
        ),
        crossings AS (SELECT * FROM child_records WHERE direction IS NOT NULL AND travel_date <= {r}),
        last_in AS (
            SELECT child_id, travel_date AS arrival_date, source || ':' || record_id AS arrival_record
            FROM crossings WHERE direction = 'IN'
            QUALIFY row_number() OVER (PARTITION BY child_id ORDER BY travel_date DESC, source, record_id) = 1
        ),
        last_out AS (SELECT child_id, max(travel_date) AS last_out FROM crossings WHERE direction = 'OUT' GROUP BY ALL),
        residence AS (
            SELECT l.child_id, bool_and(c.source_type = 'border') AS known_only_by_arrival
            FROM (SELECT child_id, unnest(evidence_records) AS record_key FROM {quote_table(listed)}) l
            JOIN child_records c ON c.child_id = l.child_id AND c.source || ':' || c.record_id = l.record_key
            GROUP BY l.child_id
        )
        SELECT a.child_id, a.arrival_date, a.arrival_record, coalesce(v.known_only_by_arrival, FALSE)
                 AS known_only_by_arrival
        FROM last_in a
        LEFT JOIN last_out o USING (child_id)
        LEFT JOIN residence v USING (child_id)
        -- as in the residence reading, an OUT on the day of arrival is not later
        WHERE (o.last_out IS NULL OR o.last_out <= a.arrival_date)
          AND (a.arrival_date > CAST({r} - INTERVAL 1 YEAR AS DATE) OR v.known_only_by_arrival)
        ORDER BY a.child_id
    """)
    return ARRIVALS

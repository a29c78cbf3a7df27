"""trace.html: what a CME officer sees after ``childlink trace``.

Summary counts by destination, the ranked worklist with the reasons for each rank, and per case
a timeline across sources (dates, record ids and what happened), then the children living in
the area with no school place and those to check first (a pupil on roll may be the same child). The page shows case ids, child ids, record ids, dates of service
events, ages and LA codes; never names, dates of birth, identifiers or postcodes. Long tables
are rendered inside DuckDB (set-based) and every value is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from ..outputs import write_text
from ..standardise.sqltext import literal
from ..trace.reference import destination_labels
from ..trace.worklist import TraceTables
from .page import Page, bar_chart, sql_escape, sql_table, sql_table_row, table_head

WORKLIST_COLUMNS = ["rank", "case", "child", "destination", "confidence", "social care", "days missing",
                    "risk score", "why this rank", "needs review"]
TIMELINE_COLUMNS = ["date", "source", "record", "what happened", "where", "when", "link"]
LIST_COLUMNS = ["child", "age", "in the area on R because", "last recorded event"]
CHECK_COLUMNS = ["child", "age", "in the area on R because", "possible pupil", "match probability",
                 "records that may match", "arrived from abroad"]


def write_trace_report(tables: TraceTables, path: str | Path, *, job_name: str, home_la: str,
                       reference_date: dt.date, match_threshold: float) -> Path:
    """Write the officer's report for ``tables`` to ``path`` (self-contained HTML)."""
    con = duckdb.connect()
    for name in ("cases", "timeline", "not_in_education", "arrivals", "starting_school", "check_first"):
        con.register(name, getattr(tables, name))
    page = Page("childlink CME trace",
                f"Job {job_name}, home LA {home_la}, reference date R = {reference_date}, auto-link threshold "
                f"{match_threshold}. Destinations follow the contract's rules (docs/TRACE_RULES.md); links below "
                "the threshold never decide a destination and are shown for review.")
    _summary(page, tables)
    page.heading("Ranked worklist")
    page.paragraph("Cases in order of risk: the points behind each rank are listed (see docs/TRACE_RULES.md, "
                   "Triage). Confidence combines how surely the records belong to the child with how strong "
                   "the evidence is.", "note")
    page.markup(sql_table(con, _worklist_sql(), WORKLIST_COLUMNS))
    page.heading("Case timelines")
    page.paragraph("Every dated event of each child's linked records, earliest first. L is the date the child "
                   "left the roll (else the referral date); R is the reference date.", "note")
    page.markup(_timelines_html(con))
    _lists(page, con, tables)
    return write_text(path, page.render())


def _summary(page: Page, tables: TraceTables) -> None:
    cases = tables.cases
    labels = destination_labels()           # the rules' order, always all five
    counts = cases["destination"].value_counts().reindex(list(labels), fill_value=0)
    page.figures({"CME cases": len(cases), **{labels[d]: int(n) for d, n in counts.items()},
                  "known to social care": int(cases["known_to_social_care"].sum()),
                  "need review": int(cases["needs_review"].sum()),
                  "children not in education": len(tables.not_in_education),
                  "of them arrived from abroad": len(tables.arrivals),
                  "to check first (may be on a roll)": len(tables.check_first),
                  "starting school without a place": len(tables.starting_school)})
    page.heading("Destinations")
    summary = pd.DataFrame({"destination": list(labels.values()), "in cme_trace.csv": list(labels),
                            "cases": counts.to_numpy()})
    summary["share"] = summary["cases"] / max(len(cases), 1)
    page.table(summary)
    if len(cases):
        # Horizontal bars keep the rows' order (the rules' order) and room for the plain labels.
        page.chart(bar_chart(summary, "destination", "cases", title="CME cases by destination", horizontal=True,
                             height=160))


def _worklist_sql() -> str:
    return f"""
        SELECT risk_rank AS "rank", case_id AS "case", child_id AS "child", {_destination_label_sql()} AS destination,
               printf('%.2f', confidence) AS "confidence",
               CASE WHEN known_to_social_care THEN 'yes' ELSE 'no' END AS "social care",
               days_missing AS "days missing", risk_score AS "risk score", risk_reasons AS "why this rank",
               review_reason AS "needs review", risk_rank AS _order
        FROM cases
    """


def _timelines_html(con) -> str:
    """One collapsible block per case, in rank order: the evidence, then the timeline table."""
    cells = sql_table_row(TIMELINE_COLUMNS)
    body = con.execute(f"""
        WITH events AS (
            SELECT case_id, CAST(event_date AS VARCHAR) AS "date", source, record_id AS "record",
                   event AS "what happened", area AS "where", period AS "when", link,
                   row_number() OVER (PARTITION BY case_id
                                      ORDER BY event_date NULLS LAST, source, record_id, event) AS _order
            FROM timeline
        ),
        per_case AS (SELECT case_id, string_agg({cells}, '' ORDER BY _order) AS rows FROM events GROUP BY case_id)
        SELECT string_agg(
                   '<details><summary>' || {sql_escape("'#' || c.risk_rank || ' ' || c.case_id || ': ' "
                                                       f"|| {_destination_label_sql()} || ', confidence ' "
                                                       "|| printf('%.2f', c.confidence)")}
                   || '</summary><p>' || {sql_escape('c.evidence')} || '</p>'
                   || coalesce('<table>{table_head(TIMELINE_COLUMNS)}<tbody>' || p.rows || '</tbody></table>',
                               '<p class="note">no linked records</p>')
                   || '</details>', '' ORDER BY c.risk_rank)
        FROM cases c LEFT JOIN per_case p USING (case_id)
    """).fetchone()[0]
    return body or '<p class="note">(no CME cases)</p>'


def _destination_label_sql() -> str:
    arms = " ".join(f"WHEN {literal(d)} THEN {literal(label)}" for d, label in destination_labels().items())
    return f"CASE destination {arms} ELSE destination END"


def _lists(page: Page, con, tables: TraceTables) -> None:
    page.heading("Children in the area with no school place")
    page.paragraph("Compulsory school age (academic-year age 5 to 15) on R, living in the area by current "
                   "service evidence, with no school enrolment open on R and no pupil on roll who may be the "
                   "same child (not_in_education.csv has the evidence for each child). 'In the area on R "
                   "because' is the service record that still places the child here; 'last recorded event' is "
                   "the latest dated event in any service, which for a registration still open is its start.",
                   "note")
    page.markup(sql_table(con, _list_sql("not_in_education", extra=", CASE WHEN arrived_from_abroad THEN 'yes' "
                                                                   "ELSE '' END AS \"arrived from abroad\""),
                          LIST_COLUMNS + ["arrived from abroad"]))
    page.heading("Check first: may already be on a school roll")
    page.paragraph("The rules above would list these children too, but one of their records may be the same "
                   "child as a pupil on roll under another child ID: a scored pair at or above the review band's "
                   "low end, or the same date of birth, postcode and a name (a pair never scored). Often these "
                   "are one child whose records were not joined. Check the pupil's record before contacting the "
                   "family (not_in_education_check.csv).", "note")
    page.markup(sql_table(con, _check_sql(), CHECK_COLUMNS))
    page.heading("Arrived from abroad, not in education")
    page.paragraph("Of the children not in education, those who arrived from abroad in the year before R, or "
                   "whom only an arrival places in the area.", "note")
    page.markup(sql_table(con, _list_sql("arrivals", extra=", CAST(arrival_date AS VARCHAR) AS \"arrived on\""),
                          LIST_COLUMNS + ["arrived on"]))
    page.heading("Starting school next September without a place")
    page.paragraph("Academic-year age 4 on R, living in the area, with no school place (a place starting "
                   "later counts as a place): write to the family in time.", "note")
    page.markup(sql_table(con, _list_sql("starting_school"), LIST_COLUMNS))


def _list_sql(table: str, extra: str = "") -> str:
    return f"""
        SELECT child_id AS "child", age, current_evidence AS "in the area on R because",
               concat_ws(' on ', last_seen_source, CAST(last_seen_date AS VARCHAR)) AS "last recorded event"{extra},
               row_number() OVER (ORDER BY child_id) AS _order
        FROM {table}
    """


def _check_sql() -> str:
    return """
        SELECT child_id AS "child", age, current_evidence AS "in the area on R because",
               possible_match_child_id || CASE WHEN possible_matches > 1
                                               THEN ' (and ' || (possible_matches - 1) || ' more)' ELSE '' END
                 AS "possible pupil",
               coalesce(printf('%.2f', possible_match_probability), 'not scored: same birth date, postcode, name')
                 AS "match probability",
               listed_record || ' ~ ' || possible_match_record AS "records that may match",
               CASE WHEN arrived_from_abroad THEN 'yes' ELSE '' END AS "arrived from abroad",
               row_number() OVER (ORDER BY possible_match_probability DESC, child_id) AS _order
        FROM check_first
    """

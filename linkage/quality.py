"""Data-quality summary of a job's sources: what was read, what was refused, what looks wrong.

Counted set-based in DuckDB over ``std_records`` (records plus standardisation's ``dq_flags``),
the rejects of loading, and, when present, the ``source_columns`` table written by
``linkage.sources`` (which fields each file carries, which columns were ignored). The summary holds
counts and column names only, never a value from the data, so it is safe to print and share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from .errors import ChildlinkError
from .schema import ALL_EVENT_FIELDS, IDENTIFIER_FIELDS, PERSON_FIELDS
from .sources import SOURCE_COLUMNS_TABLE
from .sources.rejects import reason_categories
from .sources.source_types import ALLOWED_VALUES, source_type
from .standardise.sqltext import ident, literal, quote_table, table_columns

COMPLETENESS_FIELDS = PERSON_FIELDS + IDENTIFIER_FIELDS
# Flags in the order an officer reads them; any other flag follows alphabetically.
FLAG_ORDER = ("invalid_nhs_number", "invalid_upn", "invalid_former_upn", "bad_dob", "dob_in_future",
              "dob_before_1990", "unparseable_postcode", "bad_uprn", "bad_sex")
HIGH_REJECT_SHARE = 0.10      # warn when more than this share of a source's rows is rejected


@dataclass
class SourceQuality:
    """Counts for one source. Percentages are of the source's records."""
    source: str
    source_type: str | None
    rows_read: int
    records: int
    rejects: dict[str, int] = field(default_factory=dict)            # reason (without row detail) -> rows
    completeness: dict[str, float] = field(default_factory=dict)     # carried field -> % records with a value
    flags: dict[str, int] = field(default_factory=dict)              # dq flag -> records flagged
    unexpected_values: dict[str, int] = field(default_factory=dict)  # enumerated field -> records off-list
    extra_columns: tuple[str, ...] = ()                              # file columns no field reads
    missing_expected: tuple[str, ...] = ()                           # fields the type should carry, absent

    @property
    def rejected(self) -> int:
        return sum(self.rejects.values())


@dataclass
class QualitySummary:
    sources: list[SourceQuality]
    fatal_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    rejects: pd.DataFrame | None = None      # the rows themselves: source, record_id, row_number, reason

    @property
    def fatal(self) -> bool:
        return bool(self.fatal_problems)

    def table(self) -> pd.DataFrame:
        """One row per source and measure (counts and percentages only, no data values)."""
        rows = []
        for q in self.sources:
            rows += [{"source": q.source, "measure": "rows read", "value": q.rows_read},
                     {"source": q.source, "measure": "records", "value": q.records}]
            rows += [{"source": q.source, "measure": f"rejected: {k}", "value": v} for k, v in q.rejects.items()]
            rows += [{"source": q.source, "measure": f"completeness % {k}", "value": v}
                     for k, v in q.completeness.items()]
            rows += [{"source": q.source, "measure": f"flag: {k}", "value": v} for k, v in q.flags.items()]
        return pd.DataFrame(rows, columns=["source", "measure", "value"], dtype=object)   # counts stay whole


def quality_summary(con: duckdb.DuckDBPyConnection, *, std_records: str = "std_records",
                    rejects: pd.DataFrame, row_counts: dict[str, int]) -> QualitySummary:
    """Summarise every source's quality from ``std_records``, the load's rejects and rows read."""
    counts = _count_everything(con, std_records, rejects)
    names = list(row_counts) + sorted((set(counts.per_source) | set(counts.rejects)) - set(row_counts))
    sources = [_source_quality(name, counts, row_counts) for name in names]
    return QualitySummary(sources=sources, fatal_problems=_fatal_problems(sources), warnings=_warnings(sources),
                          rejects=rejects)


@dataclass
class _Counts:
    """Every count the summary needs, gathered in a few set-based queries."""
    fields: list[str]                            # completeness fields std_records has
    counted: list[str]                           # fields whose non-NULL values were counted
    per_source: dict[str, dict]                  # source -> _records, _source_type, field -> non-NULL count
    flags: dict[str, dict[str, int]]
    unexpected: dict[str, dict[str, int]]
    carried: dict[str, set[str]]                 # from source_columns, when the loader wrote it
    extra: dict[str, tuple[str, ...]]
    rejects: dict[str, dict[str, int]]


def _count_everything(con, std_records: str, rejects: pd.DataFrame) -> _Counts:
    present = set(table_columns(con, std_records))
    if not present:
        raise ChildlinkError(f"table {std_records} not found: standardise the records first")
    fields = [f for f in COMPLETENESS_FIELDS if f in present]
    # Event fields are counted too: without source_columns, "carries a field" means "has a value in it".
    counted = fields + [f for f in ALL_EVENT_FIELDS if f in present]
    carried, extra = _source_columns(con)
    return _Counts(
        fields=fields, counted=counted, per_source=_field_counts(con, std_records, counted),
        flags=_flag_counts(con, std_records) if "dq_flags" in present else {},
        unexpected=_unexpected_values(con, std_records, present),
        carried=carried, extra=extra, rejects=_reject_counts(rejects))


def _source_quality(name: str, counts: _Counts, row_counts: dict[str, int]) -> SourceQuality:
    row = counts.per_source.get(name, {})
    records = int(row.get("_records", 0))
    rejects = counts.rejects.get(name, {})
    carried = counts.carried[name] if name in counts.carried else {f for f in counts.counted if row.get(f, 0) > 0}
    stype = row.get("_source_type")
    return SourceQuality(
        source=name, source_type=stype,
        rows_read=int(row_counts.get(name, records + sum(rejects.values()))),
        records=records, rejects=rejects,
        completeness={f: _percent(row.get(f, 0), records) for f in counts.fields if f in carried},
        flags=_ordered_flags(counts.flags.get(name, {})),
        unexpected_values={f: n for f, n in counts.unexpected.get(name, {}).items() if n},
        extra_columns=counts.extra.get(name, ()),
        missing_expected=tuple(f for f in _expected(stype) if f not in carried),
    )


def _field_counts(con, table: str, fields: list[str]) -> dict[str, dict]:
    """Per source: record count, source type and non-NULL count of each field, in one scan."""
    non_null = "".join(f", count({ident(f)}) AS {ident(f)}" for f in fields)
    frame = con.execute(f"""
        SELECT source, min(source_type) AS _source_type, count(*) AS _records{non_null}
        FROM {quote_table(table)} GROUP BY source""").df()
    return {row["source"]: row for row in frame.to_dict("records")}


def _flag_counts(con, table: str) -> dict[str, dict[str, int]]:
    """Per source: records carrying each data-quality flag (a flag repeated in one record counts once)."""
    rows = con.execute(f"""
        SELECT source, flag, count(*) AS n
        FROM (SELECT source, unnest(list_distinct(dq_flags)) AS flag FROM {quote_table(table)})
        GROUP BY source, flag""").fetchall()
    out: dict[str, dict[str, int]] = {}
    for source, flag, n in rows:
        out.setdefault(source, {})[flag] = int(n)
    return out


def _unexpected_values(con, table: str, present: set[str]) -> dict[str, dict[str, int]]:
    """Per source: records whose enumerated field (role, direction ...) holds an off-list value."""
    checks = [(f, allowed) for f, allowed in ALLOWED_VALUES.items() if f in present]
    if not checks:
        return {}
    parts = ", ".join(
        f"""count(*) FILTER (WHERE {ident(f)} IS NOT NULL AND {ident(f)} NOT IN ({", ".join(map(literal, allowed))}))
            AS {ident(f)} """ for f, allowed in checks)
    frame = con.execute(f"SELECT source, {parts} FROM {quote_table(table)} GROUP BY source").df()
    return {row.pop("source"): {k: int(v) for k, v in row.items()} for row in frame.to_dict("records")}


def _source_columns(con) -> tuple[dict[str, set[str]], dict[str, tuple[str, ...]]]:
    """Fields each source's file carries and its ignored columns, if the loader recorded them."""
    if not table_columns(con, SOURCE_COLUMNS_TABLE):
        return {}, {}
    rows = con.execute(f"SELECT source, file_column, field FROM {SOURCE_COLUMNS_TABLE}").fetchall()
    carried: dict[str, set[str]] = {}
    extra: dict[str, list[str]] = {}
    for source, column, canonical in rows:
        if canonical is None:
            extra.setdefault(source, []).append(column)
        else:
            carried.setdefault(source, set()).add(canonical)
    for source in extra:
        carried.setdefault(source, set())
    return carried, {s: tuple(cols) for s, cols in extra.items()}


def _reject_counts(rejects: pd.DataFrame) -> dict[str, dict[str, int]]:
    if rejects is None or rejects.empty:
        return {}
    kinds = rejects.assign(kind=reason_categories(rejects["reason"].astype(str)))
    grouped = kinds.groupby(["source", "kind"], sort=True).size()
    out: dict[str, dict[str, int]] = {}
    for (source, kind), n in grouped.items():
        out.setdefault(str(source), {})[kind] = int(n)
    return out


def _expected(stype: str | None) -> tuple[str, ...]:
    try:
        return source_type(stype).expected_fields if stype else ()
    except KeyError:
        return ()


def _ordered_flags(flags: dict[str, int]) -> dict[str, int]:
    known = [f for f in FLAG_ORDER if f in flags]
    return {f: flags[f] for f in known + sorted(set(flags) - set(known))}


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _fatal_problems(sources: list[SourceQuality]) -> list[str]:
    problems = [f"source '{s.source}' has no usable records ({s.rows_read} rows read, {s.rejected} rejected)"
                for s in sources if s.records == 0]
    if not sources:
        problems.append("no sources were read")
    return problems


def _warnings(sources: list[SourceQuality]) -> list[str]:
    out = []
    for s in sources:
        if s.records and s.rows_read and s.rejected / s.rows_read > HIGH_REJECT_SHARE:
            out.append(f"source '{s.source}': {_percent(s.rejected, s.rows_read)}% of rows were rejected")
        for f in s.missing_expected:
            out.append(f"source '{s.source}' has no {f} column; a {s.source_type} source normally carries it "
                       "(check the job's 'columns' mapping)")
        for f, pct in s.completeness.items():
            if s.records and pct == 0.0:
                out.append(f"source '{s.source}': the column for {f} is empty in every record")
    return out


# ----------------------------------------------------------------------------------------------
# Plain-text rendering for the terminal.

def format_summary(summary: QualitySummary) -> str:
    """The summary as plain-text tables: sources, rejects, completeness, flags, then problems."""
    sections = [_overview_table(summary), _rejects_table(summary), _completeness_table(summary),
                _flags_table(summary), _extra_columns_text(summary), _problems_text(summary)]
    return "\n\n".join(s for s in sections if s) + "\n"


def _overview_table(summary: QualitySummary) -> str:
    rows = [[s.source, s.source_type or "?", _n(s.rows_read), _n(s.records), _n(s.rejected)]
            for s in summary.sources]
    return "Sources\n" + _table(["source", "type", "rows read", "records", "rejected"], rows, text_columns=2)


def _rejects_table(summary: QualitySummary) -> str:
    rows = [[s.source, kind, _n(n)] for s in summary.sources for kind, n in s.rejects.items()]
    return "Rejected rows by reason\n" + _table(["source", "reason", "rows"], rows, text_columns=2) if rows else ""


def _completeness_table(summary: QualitySummary) -> str:
    fields = [f for f in COMPLETENESS_FIELDS if any(f in s.completeness for s in summary.sources)]
    rows = [[f] + [f"{s.completeness[f]:.1f}" if f in s.completeness else "-" for s in summary.sources]
            for f in fields]
    if not rows:
        return ""
    return ("Completeness (% of records with a value; - = the source has no such column)\n"
            + _table(["field"] + [s.source for s in summary.sources], rows))


def _flags_table(summary: QualitySummary) -> str:
    names = _ordered_flags({f: 0 for s in summary.sources for f in s.flags})
    names.update({f"unexpected {f}": 0 for s in summary.sources for f in s.unexpected_values})
    rows = []
    for name in names:
        counts = []
        for s in summary.sources:
            value = (s.unexpected_values.get(name.removeprefix("unexpected "), 0)
                     if name.startswith("unexpected ") else s.flags.get(name, 0))
            counts.append(_n(value))
        rows.append([name] + counts)
    if not rows:
        return "Data-quality flags: none"
    return ("Data-quality flags (records affected)\n"
            + _table(["flag"] + [s.source for s in summary.sources], rows))


def _extra_columns_text(summary: QualitySummary) -> str:
    lines = [f"  {s.source}: {len(s.extra_columns)} ({', '.join(s.extra_columns)})"
             for s in summary.sources if s.extra_columns]
    return "Columns ignored (not a field of the source type)\n" + "\n".join(lines) if lines else ""


def _problems_text(summary: QualitySummary) -> str:
    lines = [f"FATAL: {p}" for p in summary.fatal_problems] + [f"warning: {w}" for w in summary.warnings]
    return "\n".join(lines)


def _n(value: int) -> str:
    return f"{value:,}"


def _table(headers: list[str], rows: list[list[str]], *, text_columns: int = 1) -> str:
    """A plain-text table: the first ``text_columns`` columns left-aligned, the (numeric) rest right-aligned."""
    widths = [max(len(x) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < text_columns else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])

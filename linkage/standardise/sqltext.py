"""Small SQL helpers used across the package: quoting names and literals, listing a table's columns."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

# trim() alone removes spaces but not tabs or newlines.
ASCII_WHITESPACE_SQL = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


def ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_table(name: str) -> str:
    """A quoted table name, keeping an optional ``schema.table`` qualification."""
    return ".".join(ident(part) for part in str(name).split("."))


def literal(value: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def literal_array(values: Iterable[str]) -> str:
    """A SQL list literal ``['a', 'b']``.

    Used with list_contains rather than ``IN (...)``: DuckDB plans a long IN list as a join,
    which costs far more than a per-row lookup and can reorder rows.
    """
    return "[" + ", ".join(literal(v) for v in values) + "]"


def raw_text(expr: str) -> str:
    """The SQL expression as trimmed text, NULL when empty: every rule starts from this."""
    return f"nullif(trim(CAST({expr} AS VARCHAR), {ASCII_WHITESPACE_SQL}), '')"


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The column names of ``table`` (or view), in order; empty when there is no such table."""
    try:
        described = con.execute(f"DESCRIBE {quote_table(table)}").fetchall()
    except duckdb.Error:
        return []      # a table always has a column, so empty can only mean "not there"
    return [str(row[0]) for row in described]

"""The shared SQL helpers: quoting names and literals, listing a table's columns."""

from __future__ import annotations

import duckdb

from linkage.standardise.sqltext import ident, literal, quote_table, table_columns


def test_names_and_literals_are_quoted_so_odd_text_cannot_break_out():
    con = duckdb.connect()
    table, column, value = 'we"ird', "a b", "O'Neill"
    con.execute(f"CREATE TABLE {ident(table)} ({ident(column)} VARCHAR)")
    con.execute(f"INSERT INTO {quote_table('main.' + table)} VALUES ({literal(value)})")
    assert con.execute(f"SELECT {ident(column)} FROM {quote_table(table)}").fetchall() == [(value,)]
    assert quote_table("main.t") == '"main"."t"' and ident("main.t") == '"main.t"'


def test_table_columns_in_order_and_empty_for_a_missing_table():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (b INTEGER, a VARCHAR, \"Mixed\" DATE)")
    con.execute("CREATE VIEW v AS SELECT a FROM t")
    assert table_columns(con, "t") == ["b", "a", "Mixed"]
    assert table_columns(con, "main.t") == ["b", "a", "Mixed"]
    assert table_columns(con, "v") == ["a"]
    assert table_columns(con, "no_such_table") == []

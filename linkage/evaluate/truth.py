"""Reading ground truth files (evaluation only: linking never reads them)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..errors import ChildlinkError

TRUTH_COLUMNS = ("source", "record_id", "person_id")


def read_required_csv(con: duckdb.DuckDBPyConnection, path: str | Path, required: tuple[str, ...], what: str):
    """A CSV of evaluation inputs as text, after checking it exists and has the ``required`` columns."""
    path = Path(path)
    if not path.is_file():
        raise ChildlinkError(f"{what} file not found", file=str(path))
    try:
        rel = con.read_csv(str(path), all_varchar=True, header=True)
    except duckdb.Error:   # DuckDB's message may quote a line of the file: not shown
        raise ChildlinkError(f"{what} file is not a CSV childlink can read (check its quoting, delimiter and "
                             "encoding)", file=str(path)) from None
    missing = [c for c in required if c not in rel.columns]
    if missing:
        raise ChildlinkError(f"{what} file lacks a required column", file=str(path), column=missing[0])
    return rel


def read_truth(con: duckdb.DuckDBPyConnection, path: str | Path, table: str = "truth") -> str:
    """Load ``truth.csv`` (source, record_id, person_id) into ``table``."""
    rel = read_required_csv(con, path, TRUTH_COLUMNS, "truth")  # noqa: F841 - read by name in the SQL below
    try:
        con.execute(f"create or replace table {table} as select source, record_id, person_id from rel")
    except duckdb.InvalidInputException:   # a malformed row further in; the message may quote it
        raise ChildlinkError("truth file is not a CSV childlink can read (a row breaks its quoting or has "
                             "the wrong number of fields)", file=str(Path(path))) from None
    dupes = con.execute(f"""select count(*) from (select 1 from {table} group by source, record_id
                            having count(*) > 1)""").fetchall()[0][0]
    if dupes:
        raise ChildlinkError(f"{dupes} (source, record_id) keys appear more than once", file=str(Path(path)))
    return table


def read_people(con: duckdb.DuckDBPyConnection, path: str | Path, table: str = "truth_people") -> str | None:
    """Load ``truth_people.csv`` if it exists (person_id, dob, sex, name_group, ...)."""
    path = Path(path)
    if not path.is_file():
        return None
    rel = con.read_csv(str(path), all_varchar=True, header=True)
    con.execute(f"create or replace table {table} as select * from rel")
    return table

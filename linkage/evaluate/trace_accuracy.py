"""Accuracy of a trace against the world's truth: destinations and the not-in-education list.

A traced child_id stands for the true person who holds most of its records (ties: the
smallest person_id), so a listed identity counts as right when that person is in the truth.
When the trace folder has ``not_in_education_check.csv`` (children the rules would list whom a
pupil on roll may be), its rows are scored too: how many are truly not in education, and the
recall of the list and the check file together (what an officer finds after checking).
File paths reach DuckDB as query parameters, never spliced into the SQL.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..errors import ChildlinkError

CHECK_FILE = "not_in_education_check.csv"


def _require(path: Path) -> str:
    if not path.is_file():
        raise ChildlinkError("file not found", file=str(path))
    return path.as_posix()


def trace_accuracy(trace_dir: str | Path, identities: str | Path, truth_dir: str | Path) -> dict:
    """Destination accuracy against ``cme_truth.csv`` and not-in-education precision/recall against
    ``truth_not_in_education.csv``, for a trace folder and the identities it was traced on."""
    trace_dir, truth_dir = Path(trace_dir), Path(truth_dir)
    con = duckdb.connect()
    con.execute("create table ids as select * from read_parquet(?)", [_require(Path(identities))])
    con.execute("create table truth as select * from read_csv(?, all_varchar=true)", [_require(truth_dir / "truth.csv")])
    n_cases, right, sc_right, le_calls, le_right = con.execute("""
        with got as (select * from read_csv(?, all_varchar=true)),
             want as (select * from read_csv(?, all_varchar=true))
        select count(*), count(*) filter (where g.destination = w.destination),
               count(*) filter (where lower(g.known_to_social_care) = lower(w.known_to_social_care)),
               count(*) filter (where g.destination = 'left_england'),
               count(*) filter (where g.destination = 'left_england' and w.destination = 'left_england')
        from want w left join got g using (case_id)
    """, [_require(trace_dir / "cme_trace.csv"), _require(truth_dir / "cme_truth.csv")]).fetchone()
    con.execute("create table want as select person_id from read_csv(?, all_varchar=true)",
                [_require(truth_dir / "truth_not_in_education.csv")])
    con.execute("""create table person_of as
                   select child_id, arg_min(person_id, (-n, person_id)) as person_id from (
                       select i.child_id, t.person_id, count(*) as n
                       from ids i join truth t using (source, record_id) group by 1, 2) group by child_id""")
    n_true = con.execute("select count(*) from want").fetchone()[0]
    n_listed, found = _listed(con, trace_dir / "not_in_education.csv", "listed")
    scores = {"cases": n_cases, "destination_accuracy": right / n_cases if n_cases else 1.0,
              "known_to_social_care_accuracy": sc_right / n_cases if n_cases else 1.0,
              "left_england_precision": le_right / le_calls if le_calls else 1.0,
              "not_in_education_listed": n_listed, "not_in_education_true": n_true,
              "not_in_education_precision": found / n_listed if n_listed else 1.0,
              "not_in_education_recall": found / n_true if n_true else 1.0}
    if (trace_dir / CHECK_FILE).is_file():
        n_check, check_true = _listed(con, trace_dir / CHECK_FILE, "checked")
        either = con.execute("""select count(*) from (select person_id from listed union select person_id from checked)
                                where person_id in (select person_id from want)""").fetchone()[0]
        scores.update({"check_first_listed": n_check, "check_first_truly_not_in_education": check_true,
                       "not_in_education_recall_with_check": either / n_true if n_true else 1.0})
    return scores


def _listed(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> tuple[int, int]:
    """Table ``name`` (the distinct true persons of a list's child_ids); return the list's rows and
    how many distinct persons of it are truly not in education."""
    con.execute(f"""create table {name} as
                    select distinct p.person_id from read_csv(?, all_varchar=true) l left join person_of p using (child_id)""",
                [_require(path)])
    rows = con.execute("select count(*) from read_csv(?, all_varchar=true)", [path.as_posix()]).fetchone()[0]
    found = con.execute(f"select count(*) from {name} where person_id in (select person_id from want)").fetchone()[0]
    return rows, found

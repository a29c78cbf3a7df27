"""Accuracy of identities against ground truth: pairwise, B-cubed, exact reconstruction, equity.

Counting is set-based: a cluster of n records holds n(n-1)/2 pairs, so pair counts come
from group sizes without ever listing the pairs.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

# Age bands for the equity breakdown (age on the reference date).
AGE_BANDS = ((0, 4, "0-4"), (5, 10, "5-10"), (11, 15, "11-15"), (16, 200, "16+"))


def _ratio(a: float, b: float) -> float:
    return a / b if b else 1.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _joined(con: duckdb.DuckDBPyConnection, identities: str, truth: str, focus_sql: str | None = None) -> None:
    """Records with both their predicted child and true person (only records in both tables).

    ``focus`` marks the records of the persons ``focus_sql`` returns (all records without it).
    """
    focus = f"t.person_id in ({focus_sql})" if focus_sql else "true"
    con.execute(f"""
        create or replace temp table _ev as
        select i.source, i.record_id, i.child_id, t.person_id, {focus} as focus
        from {identities} i join {truth} t on t.source = i.source and t.record_id = i.record_id
    """)


def pairwise_metrics(con: duckdb.DuckDBPyConnection, identities: str, truth: str,
                     focus_sql: str | None = None) -> dict:
    """Pairwise precision/recall/F1, B-cubed precision/recall/F1 and exact reconstruction.

    With ``focus_sql`` (a query returning person_id), the figures are about those persons, e.g.
    the children of a world that also holds adults and unrelated travellers: recall over their
    true pairs, precision over every predicted pair that touches one of their records (so a
    traveller wrongly merged into a child's identity counts against it).
    """
    _joined(con, identities, truth, focus_sql)
    tp, pred, true = con.execute("""
        with both_ as (select count(*) n from _ev where focus group by child_id, person_id),
             pred as (select count(*) n, count(*) filter (where not focus) m from _ev group by child_id),
             tru as (select count(*) n from _ev where focus group by person_id)
        select (select coalesce(sum(n*(n-1)/2), 0) from both_),
               (select coalesce(sum(n*(n-1)/2 - m*(m-1)/2), 0) from pred),
               (select coalesce(sum(n*(n-1)/2), 0) from tru)
    """).fetchall()[0]
    b3p, b3r = con.execute("""
        with x as (
            select focus, count(*) over (partition by child_id, person_id) as both_n,
                   count(*) over (partition by child_id) as c_n, count(*) over (partition by person_id) as t_n
            from _ev)
        -- Averaged as DECIMAL: summing doubles in whatever order the threads deliver them gave
        -- figures that differed in the last digits from run to run.
        select avg(cast(both_n / c_n as decimal(38, 18))), avg(cast(both_n / t_n as decimal(38, 18)))
        from x where focus
    """).fetchall()[0]
    exact, persons = con.execute("""
        with per_person as (
            select person_id, count(distinct child_id) as n_children, min(child_id) as child_id, count(*) as n
            from _ev where focus group by person_id),
        per_child as (select child_id, count(*) as n from _ev group by child_id)
        select count(*) filter (where p.n_children = 1 and c.n = p.n), count(*)
        from per_person p join per_child c on c.child_id = p.child_id
    """).fetchall()[0]
    precision, recall = _ratio(tp, pred), _ratio(tp, true)
    b3p, b3r = float(b3p or 1.0), float(b3r or 1.0)
    return {"records": con.execute("select count(*) from _ev where focus").fetchall()[0][0],
            "true_pairs": int(true), "predicted_pairs": int(pred), "true_positive_pairs": int(tp),
            "precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "bcubed_precision": b3p, "bcubed_recall": b3r, "bcubed_f1": _f1(b3p, b3r),
            "exactly_reconstructed": _ratio(exact, persons), "persons": int(persons)}


def recall_by_group(con: duckdb.DuckDBPyConnection, identities: str, truth: str, people: str,
                    reference_date: dt.date) -> pd.DataFrame:
    """Pairwise recall of children's true pairs by sex, age band and name-origin group."""
    _joined(con, identities, truth)
    cols = {r[0] for r in con.execute(f"describe {people}").fetchall()}
    kind_filter = "where p.kind = 'child'" if "kind" in cols else ""
    bands = " ".join(f"when age between {lo} and {hi} then '{name}'" for lo, hi, name in AGE_BANDS)
    groups = [("sex", "p.sex")]
    groups.append(("age_band", f"case {bands} end"))
    if "name_group" in cols:
        groups.append(("name_group", "p.name_group"))
    con.execute(f"""
        create or replace temp table _people as
        select p.*, date_diff('year', try_cast(p.dob as date), DATE '{reference_date.isoformat()}')
                    - case when strftime(try_cast(p.dob as date), '%m-%d') > '{reference_date.strftime('%m-%d')}'
                           then 1 else 0 end as age
        from {people} p
    """)
    frames = []
    for dim, expr in groups:
        frames.append(con.execute(f"""
            with g as (select e.person_id, e.child_id, cast({expr} as varchar) as grp
                       from _ev e join _people p using (person_id) {kind_filter}),
            both_ as (select grp, count(*) n from g group by grp, person_id, child_id),
            tru as (select grp, count(*) n from g group by grp, person_id)
            select '{dim}' as dimension, t.grp as "group", cast(t.true_pairs as bigint) as true_pairs,
                   cast(coalesce(b.tp, 0) as bigint) as true_positive_pairs,
                   case when t.true_pairs = 0 then null else coalesce(b.tp, 0) / t.true_pairs end as recall
            from (select grp, sum(n*(n-1)/2) true_pairs, count(*) children from tru group by grp) t
            left join (select grp, sum(n*(n-1)/2) tp from both_ group by grp) b using (grp)
            order by t.grp
        """).fetchdf())
    return pd.concat(frames, ignore_index=True)

"""Clerical decisions as clustering constraints, and what they changed.

``load_decisions`` reads the job's current decisions (if the job has a review store) into a
DuckDB table keyed by the run's ``rec_key``: "same child" becomes a must-link and "different
children" a cannot-link (``linkage.cluster`` applies them); "not sure" constrains nothing.
``decision_effect`` compares identities clustered with and without the decisions.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from .store import STORE_NAME, DecisionStore

DECISIONS_TABLE = "review_decisions"
CONSTRAINTS = ("same", "different")


def load_decisions(con: duckdb.DuckDBPyConnection, job, *, records: str = "link_input",
                   out: str = DECISIONS_TABLE) -> tuple[str | None, dict]:
    """Table ``out`` (rec_key_l < rec_key_r, decision, source/record ids) of the job's must-link and
    cannot-link decisions on records present in ``records``; None when there are none.

    Also returns counts, including decisions naming records no longer in the sources (kept in the
    store, not applied, and counted so nothing is dropped silently).
    """
    path = job.workspace_dir / STORE_NAME
    if not path.is_file():
        return None, {}
    current = DecisionStore(path, create=False).current()
    constraints = current[current["decision"].isin(CONSTRAINTS)]
    counts = {"review_decisions": int(current["decision"].notna().sum()),
              "review_not_sure": int((current["decision"] == "not_sure").sum())}
    if constraints.empty:
        return None, counts
    con.register("_decided", constraints[["source_a", "record_id_a", "source_b", "record_id_b", "decision"]])
    try:
        con.execute(f"""
            create or replace table {out} as
            select least(a.rec_key, b.rec_key) as rec_key_l, greatest(a.rec_key, b.rec_key) as rec_key_r,
                   d.decision, d.source_a, d.record_id_a, d.source_b, d.record_id_b
            from _decided d
            join {records} a on a.source = d.source_a and a.record_id = d.record_id_a
            join {records} b on b.source = d.source_b and b.record_id = d.record_id_b
            order by rec_key_l, rec_key_r
        """)
    finally:
        con.unregister("_decided")
    applied = con.execute(f"select count(*) from {out}").fetchall()[0][0]
    counts.update(review_constraints=applied, review_stale=len(constraints) - applied)
    return out, counts


def decision_effect(con: duckdb.DuckDBPyConnection, decisions: str, model_only: str, final: str
                    ) -> tuple[dict, pd.DataFrame]:
    """How many decisions changed identities, and how many records changed identity; plus one row
    per applied decision (its records, decision, and whether it changed identities).

    A decision changed identities when its two records are together in one clustering and apart in
    the other. A record changed identity when the set of records it is with differs: it is unchanged
    only if its model-only identity and its final identity hold exactly the same records.
    """
    applied = con.execute(f"""
        select d.source_a as source_l, d.record_id_a as record_id_l, d.source_b as source_r,
               d.record_id_b as record_id_r, d.decision,
               (bl.identity = br.identity) <> (fl.identity = fr.identity) as changed_identities
        from {decisions} d
        join {model_only} bl on bl.rec_key = d.rec_key_l join {model_only} br on br.rec_key = d.rec_key_r
        join {final} fl on fl.rec_key = d.rec_key_l join {final} fr on fr.rec_key = d.rec_key_r
        order by source_l, record_id_l, source_r, record_id_r
    """).fetchdf()
    moved = con.execute(f"""
        with j as (select b.identity as before_id, f.identity as after_id from {model_only} b join {final} f using (rec_key)),
        overlap as (select before_id, after_id, count(*) as n from j group by all),
        before_n as (select before_id, count(*) as n from j group by all),
        after_n as (select after_id, count(*) as n from j group by all)
        select coalesce(sum(o.n), 0) from overlap o join before_n b using (before_id) join after_n a using (after_id)
        where not (o.n = b.n and o.n = a.n)
    """).fetchall()[0][0]
    counts = {"decisions_changed_identities": int(applied["changed_identities"].sum()),
              "records_changed_identity": int(moved)}
    return counts, applied


def describe_effect(stats: dict) -> str | None:
    """One phrase for the link summary and report (counts only), or None without decisions."""
    if "review_decisions" not in stats:
        return None
    text = (f"{stats.get('review_constraints', 0)} review decision(s) applied, "
            f"{stats.get('decisions_changed_identities', 0)} changed identities "
            f"({stats.get('records_changed_identity', 0)} records moved)")
    if stats.get("review_stale"):
        text += f"; {stats['review_stale']} name records no longer in the sources"
    if stats.get("must_links_cut"):
        text += f"; {stats['must_links_cut']} 'same child' decision(s) overruled by a contradicting 'different'"
    return text

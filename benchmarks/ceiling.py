"""How close is childlink's scoring to the physical limit? And how does a peer toolkit fare?

    python benchmarks/ceiling.py JOB [--export DIR]

1. childlink: ``score_pairs`` (Splink's predict: blocking, comparison vectors, term-frequency
   adjustments, weights, probabilities; every pair kept with its levels and weights).
2. Ceiling: DuckDB alone computing the comparison vectors (every level's SQL condition, as a
   CASE per comparison) for exactly the same pairs, already blocked, into a table. Nothing can
   score these pairs with this model faster on this machine than it computes the vectors.
3. With ``--export DIR``: the pairs and records as Parquet for ``peer.py`` (the Python
   recordlinkage toolkit, run in a scratch virtualenv: it is not a childlink dependency).

Prints one JSON line of figures; ``README.md`` quotes them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def gamma_sql(model: dict) -> str:
    """One CASE per comparison giving its level (gamma) from the model's own SQL conditions."""
    cases = []
    for comp in model["comparisons"]:
        levels = comp["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        whens = [f"when {lv['sql_condition']} then -1" for lv in levels if lv.get("is_null_level")]
        for i, lv in enumerate(non_null):
            if lv["sql_condition"].strip().upper() == "ELSE":
                whens.append(f"else {len(non_null) - 1 - i}")
            else:
                whens.append(f"when {lv['sql_condition']} then {len(non_null) - 1 - i}")
        cases.append(f"case {' '.join(whens)} end as gamma_{comp['output_column_name']}")
    return ",\n".join(cases)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job")
    parser.add_argument("--export", help="folder for pairs.parquet and records.parquet (for peer.py)")
    args = parser.parse_args(argv)
    from linkage.blocking import load_rule_set
    from linkage.comparisons import MODEL_COLUMNS
    from linkage.job import load_job
    from linkage.model import DEFAULT_MODEL, create_model_input, load_model, with_prior_for, with_rule_set
    from linkage.prepare import prepare
    from linkage.score import score_pairs
    from linkage.workspace import open_workspace

    job = load_job(args.job)
    con = open_workspace()
    prepare(job, con)
    table = create_model_input(con, job.reference_date)
    model = with_prior_for(con, table, with_rule_set(load_model(DEFAULT_MODEL),
                                                     load_rule_set(job.linkage.blocking_rules)))
    start = time.perf_counter()
    n_pairs = score_pairs(con, table, model)
    childlink_s = time.perf_counter() - start

    # The same pairs, already blocked; then only the comparison vectors.
    con.execute("create table blocked as select rec_key_l, rec_key_r from pairs")
    cols = ", ".join(f"l.{c} as {c}_l, r.{c} as {c}_r" for c in MODEL_COLUMNS)
    start = time.perf_counter()
    con.execute(f"""
        create table vectors as
        with blocked_with_cols as (
            select b.rec_key_l, b.rec_key_r, {cols}
            from blocked b join {table} l on l.rec_key = b.rec_key_l join {table} r on r.rec_key = b.rec_key_r)
        select rec_key_l, rec_key_r, {gamma_sql(model)} from blocked_with_cols""")
    ceiling_s = time.perf_counter() - start
    agree = con.execute("""select count(*) from vectors v join pairs p using (rec_key_l, rec_key_r)
                           where v.gamma_forename = p.gamma_forename and v.gamma_dob = p.gamma_dob""").fetchall()[0][0]
    figures = {"records": con.execute(f"select count(*) from {table}").fetchall()[0][0], "pairs": n_pairs,
               "childlink_score_s": round(childlink_s, 2), "childlink_pairs_per_s": round(n_pairs / childlink_s),
               "duckdb_vectors_s": round(ceiling_s, 2), "duckdb_pairs_per_s": round(n_pairs / ceiling_s),
               "fraction_of_ceiling": round(ceiling_s / childlink_s, 3),
               "vectors_agree_with_childlink": agree == n_pairs}
    if args.export:
        out = Path(args.export)
        out.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy blocked to '{out / 'pairs.parquet'}' (format parquet)")
        con.execute(f"""copy (select rec_key, forename1, surname1, dob_iso, sex_std, postcode_std, uprn_std,
                                     nhs_number_std, passport_std, carer_surname_std, life_stage
                              from {table}) to '{out / 'records.parquet'}' (format parquet)""")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

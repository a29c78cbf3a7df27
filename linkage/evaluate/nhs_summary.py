"""Summaries of the NHS-number what-if: the spread over seeds, and what full coverage can reach."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from .nhs_masking import MaskPlan
from .nhs_strategies import STRATEGIES
from .truth import read_people

# The figures summarised over seeds, in the order the report shows them.
MEASURES = ("recall", "precision", "f1", "exactly_reconstructed", "nhs_linked_precision", "nhs_linked_recall",
            "cme_trace_accuracy", "known_to_social_care_accuracy", "not_in_education_found",
            "not_in_education_precision")
GROUP_PREFIX = "recall_"


def measure_columns(runs: pd.DataFrame) -> list[str]:
    """The summarised figures present in ``runs``: MEASURES, then recall by name-origin group."""
    groups = sorted(c for c in runs.columns if c.startswith(GROUP_PREFIX))
    return [m for m in MEASURES if m in runs.columns] + groups


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean, lowest and highest value over seeds: strategy, coverage, measure, mean, low, high, seeds."""
    measures = measure_columns(runs)
    long = runs.melt(id_vars=["strategy", "coverage", "seed"], value_vars=measures, var_name="measure")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    out = (long.groupby(["strategy", "coverage", "measure"], sort=False)["value"]
           .agg(mean="mean", low="min", high="max", seeds="count").reset_index())
    out["strategy"] = pd.Categorical(out["strategy"], categories=STRATEGIES, ordered=True)
    out["measure"] = pd.Categorical(out["measure"], categories=measures, ordered=True)
    out = out.sort_values(["measure", "strategy", "coverage"], ignore_index=True)
    out["strategy"] = out["strategy"].astype(str)
    out["measure"] = out["measure"].astype(str)
    return out


def full_coverage_context(con: duckdb.DuckDBPyConnection, plan: MaskPlan, eligible: pd.DataFrame,
                          truth: Path) -> dict:
    """How many children's records could carry an NHS number at full coverage, and from which sources.

    A record can carry one when it is an eligible record of a chosen source, or when it already
    holds a valid number in a source left as it is. Needs ``std_records`` and the ``truth`` table.
    """
    people = read_people(con, truth.parent / "truth_people.csv")
    has_kind = people is not None and "kind" in {r[0] for r in con.execute(f"describe {people}").fetchall()}
    children = f"join {people} p using (person_id) where p.kind = 'child'" if has_kind else ""
    chosen = ", ".join("'" + s.replace("'", "''") + "'" for s in plan.sources)
    con.register("_eligible_records", eligible[["source", "record_id"]])
    try:
        per_source = con.execute(f"""
            select s.source, count(*) as records,
                   count(*) filter (where e.record_id is not null
                                    or (s.source not in ({chosen}) and s.nhs_number_std is not null)) as can_carry
            from std_records s join truth t using (source, record_id)
            left join _eligible_records e on e.source = s.source and e.record_id = s.record_id
            {children}
            group by s.source order by s.source""").fetchdf()
    finally:
        con.unregister("_eligible_records")
    records, can_carry = int(per_source["records"].sum()), int(per_source["can_carry"].sum())
    never = per_source[per_source["can_carry"] == 0]["source"].tolist()
    return {"population": "children's records" if has_kind else "all records", "records": records,
            "without_number_at_full_coverage": records - can_carry,
            "share_without_number": (records - can_carry) / records if records else 0.0,
            "sources_never_numbered": never, "chosen_sources": list(plan.sources),
            "error_rate": plan.error_rate, "undetected_share": plan.undetected_share, "numbers": plan.numbers}

"""What each strategy of the NHS-number what-if is scored on, against the world's truth.

Linkage: pairwise precision, recall and F1 and the share of children exactly reconstructed, over
children's records when the truth says who is a child (else over every record); recall by
name-origin group; and precision and recall over the *NHS-linked* records alone (those carrying a
valid NHS number in the strategy's shared inputs). Tracing: the share of CME cases traced to the
right destination and the share of truly not-in-education children found (``trace_accuracy``).
All of it reuses ``linkage.evaluate``; truth is read here only, after the strategies have run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ..errors import ChildlinkError
from .metrics import pairwise_metrics
from .run import evaluate_identities
from .trace_accuracy import trace_accuracy

TRUTH_FILES = ("truth.csv", "cme_truth.csv", "truth_not_in_education.csv")


def check_truth_folder(truth: Path) -> None:
    """The trace scores need the truth files side by side, named as ``childlink sample generate`` writes them."""
    if truth.name != "truth.csv":
        raise ChildlinkError("the truth file must be named truth.csv, with cme_truth.csv and "
                             "truth_not_in_education.csv beside it", file=str(truth))
    for name in TRUTH_FILES:
        if not (truth.parent / name).is_file():
            raise ChildlinkError(f"{name} not found beside the truth file (it scores the CME trace)",
                                 file=str(truth.parent / name))


def load_identities(con: duckdb.DuckDBPyConnection, parquet: Path, table: str) -> str:
    """A run's identities.parquet as table ``table`` (source, record_id, child_id)."""
    con.execute(f"create or replace table {table} as select source, record_id, child_id "
                f"from read_parquet('{parquet.as_posix()}')")
    return table


def linkage_metrics(con: duckdb.DuckDBPyConnection, identities: str, truth: Path, reference_date: dt.date) -> dict:
    """Pairwise figures, exact reconstruction and recall by name-origin group of one set of identities."""
    evaluation = evaluate_identities(con, identities, truth, reference_date)
    population, m = ("children's records", evaluation.children) if evaluation.children else \
        ("all records", evaluation.metrics)
    row = {"population": population, "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
           "exactly_reconstructed": m["exactly_reconstructed"]}
    groups = evaluation.by_group
    if not groups.empty:
        names = groups[groups["dimension"] == "name_group"]
        row |= {f"recall_{g}": float(r) for g, r in zip(names["group"], names["recall"])}
    return row


def nhs_linked_metrics(con: duckdb.DuckDBPyConnection, identities: str, records: str = "std_records") -> dict:
    """Precision and recall among the records that carry a valid NHS number in ``records``.

    The ``truth`` table must be loaded (``linkage_metrics`` does it). ``records`` is the strategies'
    shared input, so every strategy is scored on the same records.
    """
    con.execute(f"""create or replace temp view _nhs_linked as
                    select i.source, i.record_id, i.child_id from {identities} i
                    semi join {records} s on s.source = i.source and s.record_id = i.record_id
                                          and s.nhs_number_std is not null""")
    m = pairwise_metrics(con, "_nhs_linked", "truth")
    return {"nhs_linked_records": m["records"], "nhs_linked_precision": m["precision"],
            "nhs_linked_recall": m["recall"]}


def trace_metrics(trace_dir: Path, identities: Path, truth: Path) -> dict:
    """CME destinations right, and not-in-education children found, for one strategy's trace."""
    got = trace_accuracy(trace_dir, identities, truth.parent)
    return {"cme_cases": got["cases"], "cme_trace_accuracy": got["destination_accuracy"],
            "known_to_social_care_accuracy": got["known_to_social_care_accuracy"],
            "left_england_precision": got["left_england_precision"],
            "not_in_education_found": got["not_in_education_recall"],
            "not_in_education_precision": got["not_in_education_precision"]}

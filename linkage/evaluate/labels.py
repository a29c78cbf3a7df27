"""Accuracy against clerical labels (``childlink evaluate --labels``).

Labels are pairs an officer decided (``childlink review export``): "same child" or "different
children" ("not sure" is not a label). Two verdicts are scored against them:

- the run's identities: are the two records in one identity?
- the model's score alone: is the pair's match probability at or above the threshold? (a pair
  never scored counts as "different"). This is the model's accuracy, untouched by clustering
  or by review decisions.

A run linked with the decisions applied agrees with them by construction, so its identities'
figures are then not an independent measure; the result says so (``decisions_applied``).
Labels made in blind mode (the score hidden) are scored separately as well: they are not
anchored on the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import ChildlinkError
from ..outputs import write_csv
from .truth import read_required_csv

REQUIRED = ("source_l", "record_id_l", "source_r", "record_id_r", "decision")
DECISION_VALUES = ("same", "different", "not_sure")


def read_labels(con: duckdb.DuckDBPyConnection, path: str | Path, table: str = "labels") -> str:
    """Load a labels CSV into ``table``; every row must name a valid decision."""
    path = Path(path)
    rel = read_required_csv(con, path, REQUIRED, "labels")
    blind = "coalesce(lower(blind) in ('true', '1'), false)" if "blind" in rel.columns else "false"
    con.execute(f"""create or replace table {table} as
                    select row_number() over () + 1 as row_number, source_l, record_id_l, source_r, record_id_r,
                           lower(trim(decision)) as decision, {blind} as blind from rel""")
    bad = con.execute(f"""select min(row_number) from {table}
                          where decision is null or decision not in {DECISION_VALUES}""").fetchall()[0][0]
    if bad is not None:
        raise ChildlinkError("decision must be one of same, different, not_sure", file=str(path), row=int(bad),
                             column="decision")
    return table


@dataclass
class LabelEvaluation:
    table_: pd.DataFrame
    decisions_applied: bool
    not_in_run: int = 0

    def table(self) -> pd.DataFrame:
        return self.table_

    def format(self) -> str:
        lines = []
        for r in self.table_.itertuples():
            lines.append(f"{r.verdict} vs {r.labels}: {r.labelled_same} same / {r.labelled_different} different; "
                         f"accuracy {r.accuracy:.4f}, precision {r.precision:.4f}, recall {r.recall:.4f}")
        if self.not_in_run:
            lines.append(f"{self.not_in_run} label(s) name records that are not in this run: not scored")
        if self.decisions_applied:
            lines.append("note: this run applied review decisions, so its identities agree with them by "
                         "construction; the model's score is the independent measure")
        return "\n".join(lines) or "no same/different labels to score"


def _scores(frame: pd.DataFrame) -> dict:
    tp = int(((frame.label == "same") & frame.predicted).sum())
    fp = int(((frame.label == "different") & frame.predicted).sum())
    fn = int(((frame.label == "same") & ~frame.predicted).sum())
    n = len(frame)
    return {"labelled_same": int((frame.label == "same").sum()),
            "labelled_different": int((frame.label == "different").sum()),
            "accuracy": (n - fp - fn) / n if n else float("nan"),
            "precision": tp / (tp + fp) if tp + fp else float("nan"),
            "recall": tp / (tp + fn) if tp + fn else float("nan")}


def label_accuracy(con: duckdb.DuckDBPyConnection, identities: str, pairs: str, labels: str,
                   match_threshold: float) -> tuple[pd.DataFrame, int]:
    """Accuracy, precision and recall of the identities and of the model's score against the labels,
    and how many labels name a record that is not in the run (not scored, but counted)."""
    joined = con.execute(f"""
        select l.decision as label, l.blind, a.child_id is not null and b.child_id is not null as in_run,
               coalesce(a.child_id = b.child_id, false) as by_identities,
               coalesce(greatest(p.match_probability, q.match_probability) >= {match_threshold}, false) as by_score
        from {labels} l
        left join {identities} a on a.source = l.source_l and a.record_id = l.record_id_l
        left join {identities} b on b.source = l.source_r and b.record_id = l.record_id_r
        -- a scored pair may be stored either way round: two equi-joins, never an OR join over every pair
        left join {pairs} p on p.source_l = l.source_l and p.record_id_l = l.record_id_l
                           and p.source_r = l.source_r and p.record_id_r = l.record_id_r
        left join {pairs} q on q.source_l = l.source_r and q.record_id_l = l.record_id_r
                           and q.source_r = l.source_l and q.record_id_r = l.record_id_l
        where l.decision in ('same', 'different')
        order by l.row_number
    """).fetchdf()
    not_in_run = int((~joined["in_run"]).sum())
    joined = joined[joined["in_run"]]
    rows = []
    for verdict, column in (("identities", "by_identities"), ("model score", "by_score")):
        for subset, mask in (("all labels", slice(None)), ("blind labels", joined["blind"].astype(bool))):
            part = joined[mask]
            if subset == "blind labels" and part.empty:
                continue
            rows.append({"verdict": verdict, "labels": subset,
                         **_scores(part.assign(predicted=part[column].astype(bool)))})
    return pd.DataFrame(rows), not_in_run


def _sql_path(path: Path) -> str:
    return "'" + path.as_posix().replace("'", "''") + "'"


def evaluate_labels_run(run_dir: str | Path, labels_path: str | Path, *, match_threshold: float) -> LabelEvaluation:
    """Score ``run_dir`` against clerical labels; writes label_evaluation.csv into the run."""
    run_dir = Path(run_dir)
    for name in ("identities.parquet", "pairs.parquet"):
        if not (run_dir / name).is_file():
            raise ChildlinkError(f"no {name} here; run 'childlink link' first", file=str(run_dir))
    con = duckdb.connect()
    ids, pairs = (_sql_path(run_dir / n) for n in ("identities.parquet", "pairs.parquet"))
    con.execute(f"create table identities as select * from read_parquet({ids})")
    con.execute(f"""create table run_pairs as select source_l, record_id_l, source_r, record_id_r, match_probability
                    from read_parquet({pairs})""")
    read_labels(con, labels_path)
    table, not_in_run = label_accuracy(con, "identities", "run_pairs", "labels", match_threshold)
    result = LabelEvaluation(table, decisions_applied=(run_dir / "review_decisions.csv").is_file(),
                             not_in_run=not_in_run)
    write_csv(run_dir / "label_evaluation.csv", result.table())
    return result

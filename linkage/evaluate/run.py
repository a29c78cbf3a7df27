"""Evaluating a finished linkage run against truth: ``childlink evaluate``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import ChildlinkError
from ..outputs import write_csv, write_text
from ..progress import PhaseTimer, Progress
from ..report.page import Page, bar_chart
from .metrics import pairwise_metrics, recall_by_group
from .truth import read_people, read_truth


@dataclass
class Evaluation:
    metrics: dict                  # over every record of the truth
    by_group: pd.DataFrame
    children: dict | None = None   # over children's records only, when the truth says who is a child

    def table(self) -> pd.DataFrame:
        rows = [{"population": "all records", **self.metrics}]
        if self.children:
            rows.append({"population": "children's records", **self.children})
        return pd.DataFrame(rows)

    def by_measure(self) -> pd.DataFrame:
        """The table turned on its side for a page: one row per measure, a column per population."""
        return self.table().set_index("population").T.reset_index().rename(columns={"index": "measure"}).astype(str)

    def format(self) -> str:
        lines = []
        for name, m in (("all records", self.metrics), ("children's records", self.children)):
            if not m:
                continue
            lines += [f"{name}: {m['records']} records of {m['persons']} persons, {m['true_pairs']} true pairs",
                      f"  pairwise   precision {m['precision']:.4f}  recall {m['recall']:.4f}  F1 {m['f1']:.4f}",
                      f"  B-cubed    precision {m['bcubed_precision']:.4f}  recall {m['bcubed_recall']:.4f}  "
                      f"F1 {m['bcubed_f1']:.4f}",
                      f"  persons exactly reconstructed {m['exactly_reconstructed']:.4f}"]
        if not self.by_group.empty:
            lines.append("recall by group:")
            for r in self.by_group.itertuples():
                rec = "n/a" if pd.isna(r.recall) else f"{r.recall:.4f}"
                lines.append(f"  {r.dimension:<10} {str(r.group):<14} {rec}  ({r.true_pairs} true pairs)")
        return "\n".join(lines)


def evaluate_identities(con: duckdb.DuckDBPyConnection, identities: str, truth_path: Path,
                        reference_date: dt.date) -> Evaluation:
    read_truth(con, truth_path)
    metrics = pairwise_metrics(con, identities, "truth")
    people = read_people(con, truth_path.parent / "truth_people.csv")
    groups = recall_by_group(con, identities, "truth", people, reference_date) if people else pd.DataFrame()
    children = None
    if people and "kind" in {r[0] for r in con.execute(f"describe {people}").fetchall()}:
        children = pairwise_metrics(con, identities, "truth",
                                    focus_sql=f"select person_id from {people} where kind = 'child'")
    return Evaluation(metrics, groups, children)


def evaluate_run(run_dir: str | Path, truth: str | Path, *, reference_date: dt.date,
                 progress: Progress | None = None) -> Evaluation:
    """Score ``run_dir``'s identities against ``truth``; writes evaluation.csv/.html into the run.

    ``progress`` hears each phase as it starts and ends (``linkage.progress``).
    """
    run_dir, truth = Path(run_dir), Path(truth)
    ids = run_dir / "identities.parquet"
    if not ids.is_file():
        raise ChildlinkError("no identities.parquet here; run 'childlink link' first", file=str(run_dir))
    timer = PhaseTimer(progress)
    timer.start("score against truth")
    con = duckdb.connect()
    con.read_parquet(str(ids)).create("identities")   # the path is passed as data, never spliced into SQL
    result = evaluate_identities(con, "identities", truth, reference_date)
    timer.start("write outputs")
    write_csv(run_dir / "evaluation.csv", result.table())
    if not result.by_group.empty:
        write_csv(run_dir / "recall_by_group.csv", result.by_group)
    write_text(run_dir / "evaluation.html", evaluation_page(result).render())
    timer.stop()
    return result


def evaluation_page(result: Evaluation) -> Page:
    page = Page("childlink evaluation against truth")
    m = result.metrics
    page.figures({"pairwise precision": f"{m['precision']:.4f}", "pairwise recall": f"{m['recall']:.4f}",
                  "F1": f"{m['f1']:.4f}", "B-cubed F1": f"{m['bcubed_f1']:.4f}",
                  "children exactly reconstructed": f"{m['exactly_reconstructed']:.4f}"})
    page.table(result.by_measure())
    if not result.by_group.empty:
        page.heading("Recall by group (equity)")
        page.table(result.by_group)
        page.chart(bar_chart(result.by_group.assign(label=result.by_group["dimension"] + ": "
                                                    + result.by_group["group"].astype(str)),
                             "label", "recall", horizontal=True, title="Pairwise recall by group",
                             height=20 * len(result.by_group)))
    return page

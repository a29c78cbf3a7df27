"""Review decisions as labels: ``childlink review export``.

``labels.csv`` has one row per decided pair (the current decision; undone pairs are left out):
source_l, record_id_l, source_r, record_id_r, decision, reviewer, decided_at, match_probability,
match_weight, blind, note. ``childlink evaluate --labels`` reads it.

With ``truth_out``, the decisions are also written as a truth file (source, record_id,
person_id) that ``childlink train --labels`` reads: records joined by "same child" decisions
share a person_id; every other labelled record has its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ..cluster import connected_components
from ..job import Job
from ..outputs import write_csv
from ..progress import PhaseTimer, Progress
from .store import DecisionStore

LABEL_COLUMNS = ("source_l", "record_id_l", "source_r", "record_id_r", "decision", "reviewer", "decided_at",
                 "match_probability", "match_weight", "blind", "note")


@dataclass(frozen=True)
class ExportResult:
    labels: int
    by_decision: dict[str, int]
    truth_records: int | None = None

    def summary(self, out: Path, truth_out: Path | None) -> str:
        counts = ", ".join(f"{n} {d}" for d, n in sorted(self.by_decision.items())) or "none"
        text = f"{self.labels} decided pair(s) written to {out} ({counts})"
        if truth_out is not None:
            text += f"; {self.truth_records} labelled record(s) written to {truth_out} for train --labels"
        return text


def decision_labels(store: DecisionStore) -> pd.DataFrame:
    """The current decision of every decided pair, as a labels table."""
    current = store.current()
    current = current[current["decision"].notna()]
    return current.rename(columns={"source_a": "source_l", "record_id_a": "record_id_l",
                                   "source_b": "source_r", "record_id_b": "record_id_r"})[list(LABEL_COLUMNS)] \
        .reset_index(drop=True)


def labels_as_truth(labels: pd.DataFrame) -> pd.DataFrame:
    """source, record_id, person_id for every record of a same/different label (set-based)."""
    con = duckdb.connect()
    con.register("labels", labels[labels["decision"].isin(("same", "different"))])
    con.execute("""
        create table keys as
        select row_number() over (order by source, record_id) as rec_key, source, record_id from (
            select source_l as source, record_id_l as record_id from labels
            union select source_r, record_id_r from labels)
    """)
    connected_components(con, "select rec_key from keys", """
        select a.rec_key as rec_key_l, b.rec_key as rec_key_r from labels l
        join keys a on a.source = l.source_l and a.record_id = l.record_id_l
        join keys b on b.source = l.source_r and b.record_id = l.record_id_r
        where l.decision = 'same'""", "groups")
    return con.execute("""
        select k.source, k.record_id, 'R' || lpad(cast(g.component as varchar), 7, '0') as person_id
        from keys k join groups g using (rec_key) order by k.source, k.record_id
    """).fetchdf()


def export_labels(job: Job, out: str | Path, *, truth_out: str | Path | None = None,
                  progress: Progress | None = None) -> ExportResult:
    """Write the job's review decisions to ``out`` (and as a truth file to ``truth_out``).

    ``progress`` hears each phase as it starts and ends (``linkage.progress``).
    """
    timer = PhaseTimer(progress)
    timer.start("read decisions")
    labels = decision_labels(DecisionStore.for_job(job, create=False))
    timer.start("write labels")
    write_csv(out, labels)
    truth_records = None
    if truth_out is not None:
        timer.start("write truth")
        truth = labels_as_truth(labels)
        write_csv(truth_out, truth)
        truth_records = len(truth)
    timer.stop()
    return ExportResult(labels=len(labels), by_decision=labels["decision"].value_counts().to_dict(),
                        truth_records=truth_records)

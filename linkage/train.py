"""Training a model for a job: read, standardise, train, check, save.

``childlink train`` calls ``train_job``. With ``truth`` (a truth.csv of source, record_id,
person_id) m probabilities are estimated from the labels instead of by EM; that is for
measuring how close unsupervised training gets, or for LAs holding clerical labels.
"""

from __future__ import annotations

from pathlib import Path

from .blocking import load_rule_set
from .job import Job
from .model import DEFAULT_MODEL, TrainingResult, read_model_input, save_model, train
from .progress import PhaseTimer, Progress
from .evaluate.truth import read_truth


def train_job(job: Job, out: str | Path, *, truth: str | Path | None = None,
              fallback: Path | None = DEFAULT_MODEL, progress: Progress | None = None) -> TrainingResult:
    """Train on ``job``'s records and save the model JSON to ``out``.

    If training fails the EM guard, the ``fallback`` model is saved instead (and the result
    says so); with ``fallback=None`` the failed model is saved as it is.
    """
    timer = PhaseTimer(progress)
    con, table = read_model_input(job, timer)
    label_column = None
    if truth is not None:
        read_truth(con, truth)
        con.execute(f"""create or replace table {table} as
                        select i.*, t.person_id from {table} i left join truth t using (source, record_id)
                        order by rec_key""")
        label_column = "person_id"
    with timer.phase("train"):
        result = train(con, table, load_rule_set(job.linkage.blocking_rules), seed=job.linkage.seed,
                       max_pairs=job.linkage.max_pairs_em, label_column=label_column, fallback=fallback,
                       progress=timer.counter("train"))
    with timer.phase("save model"):
        save_model(result.model, out)
    return result

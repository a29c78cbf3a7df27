"""Truth for tracing: the contract's rules applied to the TRUE identities (SOURCES.md §5).

The generator knows who is who; grouping the generated records by their true person and
running the same destination and not-in-education rules that ``childlink trace`` runs on
linked identities gives truth files on which a perfect linkage with correct rules scores 1.0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..evaluate.truth import read_truth
from ..job import load_job
from ..outputs import write_csv
from ..prepare import prepare
from ..progress import PhaseTimer, Progress, within
from ..trace import case_destinations, not_in_education
from ..workspace import open_workspace


def write_rule_truth(world: str | Path, *, progress: Progress | None = None) -> dict[str, int]:
    """Write ``cme_truth.csv`` and ``truth_not_in_education.csv`` into the world folder."""
    world = Path(world)
    job = load_job(world / "job.yaml")
    con = open_workspace()
    prepared = prepare(job, con, progress=progress)
    read_truth(con, world / "truth.csv")
    # Only usable records: a rejected row is invisible to linkage and so to the truth too.
    con.execute("""create table true_identities as
                   select t.source, t.record_id, t.person_id as identity_id
                   from truth t join std_records s using (source, record_id)""")
    rules = dict(records="std_records", identities="true_identities", postcode_lookup="postcode_lookup",
                 home_la=job.home_la, reference_date=job.reference_date)
    cases = pd.DataFrame(columns=["case_id", "destination", "known_to_social_care"])
    if prepared.has_cme_cases:
        cases = case_destinations(con, cases="cme_cases", **rules)[
            ["case_id", "destination", "known_to_social_care"]]
    write_csv(world / "cme_truth.csv", cases)
    missing = not_in_education(con, **rules)[["child_id"]].rename(columns={"child_id": "person_id"})
    write_csv(world / "truth_not_in_education.csv", missing.sort_values("person_id"))
    return {"cme_cases": len(cases), "not_in_education": len(missing)}


def generate_with_truth(children: int, seed: int, out: str | Path, *, nhs_coverage: float = 0.0,
                        progress: Progress | None = None):
    """Generate a world and its rule-based truth files: what ``childlink sample generate`` does.

    ``progress`` hears each phase, those of the truth files as "truth files: <phase>" (``linkage.progress``).
    """
    from .world import generate

    summary = generate(children, seed, out, nhs_coverage=nhs_coverage, progress=progress)
    timer = PhaseTimer(progress)
    with timer.phase("truth files"):
        counts = write_rule_truth(out, progress=within(progress, "truth files"))
    return summary, counts

"""Coverage masking for the NHS-number what-if: copies of a job's sources in which exactly a
chosen share of the chosen sources' records carry an NHS number, some of them mistyped.

Which number a record gets:

``truth``     (synthetic worlds) the record's true person's NHS number: the valid number on that
              person's GP records, the most frequent one (ties: the smallest). A person with no
              valid GP number gets none, so such records are not *eligible*.
``existing``  (pilot data) the record's own valid NHS number; eligible records are those that
              have one, and coverage decides which of them keep it.

Coverage is the share of a chosen source's *eligible* records that carry a number, exactly
(rounded half up). Records are picked in a random order drawn once per seed, so a higher
coverage keeps every record a lower one had: curves over coverage differ only by what was added.
Every other record of a chosen source has its NHS number removed.

Errors, exactly ``error_rate`` of the covered records (rounded half up):
- a *mistype* changes one digit. A single-digit change always fails the modulus-11 check (the
  weights 10..2 and the check digit itself are all non-zero mod 11, and a digit changes by 1..9),
  so validation flags the number and no strategy uses it: a mistyped number is a missing one that
  a data-quality report can count.
- an *undetected* error (``undetected_share`` of the errors) is another person's valid number,
  as when a number is copied from the wrong child's record; the check digit cannot catch it.

The copies are written from the job's ``records`` table (canonical columns, as text) as Parquet,
so every strategy reads exactly the same values; rows the job rejects are rejected before the copy
and are not in it. Every copy carries an empty ``nhs_number_withheld`` column: a job that maps
``nhs_number`` to it reads the same records with no NHS numbers (the probabilistic strategy).
The copies never hold truth: no person_id, only the number a record would carry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from ..errors import ChildlinkError
from ..job import Job
from ..outputs import atomic_path, write_text
from ..sources.source_types import source_type
from ..synthetic.identifiers import mistype_digit

NUMBERS_FROM = ("truth", "existing")
WITHHELD_COLUMN = "nhs_number_withheld"
STATES = ("covered", "mistyped", "undetected")     # what a covered record carries


@dataclass(frozen=True)
class MaskPlan:
    """What to mask: which sources, where the numbers come from, and how many are wrong."""
    sources: tuple[str, ...]
    error_rate: float = 0.0          # share of covered records whose number is wrong
    undetected_share: float = 0.0    # share of the wrong numbers that pass the check (another person's)
    numbers: str = "truth"           # "truth" or "existing"


def resolve_plan(job: Job, plan: MaskPlan) -> MaskPlan:
    """The plan with its default sources filled in (the job's education sources), checked."""
    plan = replace(plan, sources=tuple(dict.fromkeys(plan.sources))
                   or tuple(s.name for s in job.sources if s.type == "education"))
    check_plan(job, plan)
    return plan


def check_plan(job: Job, plan: MaskPlan) -> None:
    """ChildlinkError when the plan names unknown sources or impossible rates."""
    names = [s.name for s in job.sources]
    if not plan.sources:
        raise ChildlinkError("name at least one source to give NHS numbers to (the job has no education source)",
                             file=str(job.path))
    unknown = [s for s in plan.sources if s not in names]
    if unknown:
        raise ChildlinkError(f"no source named '{unknown[0]}' in the job; its sources are {', '.join(names)}",
                             file=str(job.path))
    for label, value in (("error rate", plan.error_rate), ("undetected share", plan.undetected_share)):
        if not 0.0 <= value <= 1.0:
            raise ChildlinkError(f"the {label} must be a share between 0 and 1")
    if plan.numbers not in NUMBERS_FROM:
        raise ChildlinkError(f"NHS numbers come from one of {', '.join(NUMBERS_FROM)}")


def share_count(share: float, total: int) -> int:
    """``share`` of ``total``, rounded half up (the exact number of records a share means)."""
    return int(np.floor(share * total + 0.5))


# ------------------------------------------------------------------ eligible records and their numbers

def eligible_numbers(con: duckdb.DuckDBPyConnection, plan: MaskPlan, truth: str = "truth") -> pd.DataFrame:
    """Records of the chosen sources that can carry a number: source, record_id, number.

    Needs ``std_records`` and, for numbers from the truth, the ``truth`` table. Sorted by source and
    record_id, so that a seed draws the same records whatever order the files were in.
    """
    chosen = ", ".join("'" + s.replace("'", "''") + "'" for s in plan.sources)
    if plan.numbers == "existing":
        query = f"""select source, record_id, nhs_number_std as number from std_records
                    where source in ({chosen}) and nhs_number_std is not null"""
    else:
        query = f"""
            with gp_numbers as (
                select t.person_id, s.nhs_number_std as number, count(*) as n
                from std_records s join {truth} t using (source, record_id)
                where s.source_type = 'gp' and s.nhs_number_std is not null group by all),
            person_number as (
                select person_id, arg_min(number, (-n, number)) as number from gp_numbers group by person_id)
            select s.source, s.record_id, p.number
            from std_records s join {truth} t using (source, record_id) join person_number p using (person_id)
            where s.source in ({chosen})"""
    eligible = con.execute(f"{query} order by source, record_id").fetchdf()
    for source in plan.sources:
        if not (eligible["source"] == source).any():
            why = ("has no valid NHS numbers to keep" if plan.numbers == "existing" else
                   "has no record whose child has a valid NHS number on a GP record")
            raise ChildlinkError(f"source '{source}' {why}, so no coverage level can differ")
    return eligible


@dataclass
class SeedDraw:
    """One seed's random order of the eligible records and the wrong numbers they would carry."""
    seed: int
    frame: pd.DataFrame    # source, record_id, number, cover_rank, error_rank, undetected_rank, mistyped, other


def draw(eligible: pd.DataFrame, seed: int) -> SeedDraw:
    """Draw, per source, the order in which records gain a number and the order of errors (vectorised)."""
    rng = np.random.default_rng(seed)
    parts = []
    for _, part in eligible.groupby("source", sort=True):     # a handful of sources
        part = part.reset_index(drop=True).copy()
        n = len(part)
        part["cover_rank"] = rng.permutation(n)
        part["error_rank"] = rng.permutation(n)
        part["undetected_rank"] = rng.permutation(n)
        numbers = part["number"].to_numpy(dtype=object)
        part["mistyped"] = mistype_digit(rng, numbers, 0, 9)
        part["other"] = _another_persons_number(rng, numbers)
        parts.append(part)
    columns = ["source", "record_id", "number", "cover_rank", "error_rank", "undetected_rank", "mistyped", "other"]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return SeedDraw(seed, frame)


def _another_persons_number(rng: np.random.Generator, numbers: np.ndarray) -> np.ndarray:
    """For each record, a valid number of a different person (None when there is no other)."""
    pool = np.unique(numbers.astype(str))
    if pool.size < 2:
        return np.full(numbers.size, None, dtype=object)
    pick = rng.integers(0, pool.size, size=numbers.size)
    own = pool[pick] == numbers.astype(str)
    pick[own] = (pick[own] + 1) % pool.size        # the next number in the pool is someone else's
    return pool[pick].astype(object)


def mask_at(seed_draw: SeedDraw, coverage: float, plan: MaskPlan) -> pd.DataFrame:
    """The numbers records carry at ``coverage``: source, record_id, nhs_number, state (covered records only)."""
    parts = []
    for _, part in seed_draw.frame.groupby("source", sort=True):
        covered = part[part["cover_rank"] < share_count(coverage, len(part))]
        n_errors = share_count(plan.error_rate, len(covered))
        error_order = covered["error_rank"].rank(method="first").to_numpy() - 1
        wrong = covered[error_order < n_errors]
        undetected_order = wrong["undetected_rank"].rank(method="first").to_numpy() - 1
        undetected = wrong.index[(undetected_order < share_count(plan.undetected_share, len(wrong)))
                                 & wrong["other"].notna().to_numpy()]
        state = pd.Series("covered", index=covered.index, dtype=object)
        state[wrong.index] = "mistyped"
        state[undetected] = "undetected"
        value = covered["number"].where(state == "covered", covered["mistyped"])
        value = value.where(state != "undetected", covered["other"])
        parts.append(pd.DataFrame({"source": covered["source"], "record_id": covered["record_id"],
                                   "nhs_number": value, "state": state}))
    if not parts:
        return pd.DataFrame(columns=["source", "record_id", "nhs_number", "state"])
    return pd.concat(parts, ignore_index=True).sort_values(["source", "record_id"], ignore_index=True)


def masking_counts(con: duckdb.DuckDBPyConnection, plan: MaskPlan, eligible: pd.DataFrame,
                   masked: pd.DataFrame) -> pd.DataFrame:
    """Per chosen source: records, eligible, covered (all states), mistyped and undetected."""
    records = dict(con.execute("select source, count(*) from std_records group by source").fetchall())
    rows = []
    for source in plan.sources:
        mine = masked[masked["source"] == source]
        rows.append({"source": source, "records": int(records.get(source, 0)),
                     "eligible": int((eligible["source"] == source).sum()), "covered": len(mine),
                     "mistyped": int((mine["state"] == "mistyped").sum()),
                     "undetected": int((mine["state"] == "undetected").sum())})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ writing copies and job files

def write_source_copy(con: duckdb.DuckDBPyConnection, job: Job, source: str, target: Path,
                      numbers: pd.DataFrame | None = None) -> Path:
    """Write ``source``'s usable records (canonical columns, in file order) to Parquet at ``target``.

    With ``numbers`` (source, record_id, nhs_number), the copy's NHS number is exactly those values:
    records not listed carry none. Without it the records' own NHS numbers are kept.
    """
    fields = [f for f in source_type(job.source(source).type).readable_fields if f != "record_id"]
    name = source.replace("'", "''")
    if numbers is None:
        nhs = "r.nhs_number"
        joined = ""
    else:
        con.register("_nhs_mask", numbers[numbers["source"] == source][["record_id", "nhs_number"]])
        nhs = "cast(m.nhs_number as varchar)"
        joined = "left join _nhs_mask m on m.record_id = r.record_id"
    columns = ", ".join(f'{nhs} as nhs_number' if f == "nhs_number" else f'r."{f}"' for f in fields)
    try:
        with atomic_path(target) as tmp:
            con.execute(f"""copy (select r.record_id, {columns}, cast(null as varchar) as {WITHHELD_COLUMN}
                                  from records r {joined} where r.source = '{name}' order by r.row_number)
                            to '{tmp.as_posix()}' (format parquet)""")
    finally:
        if numbers is not None:
            con.unregister("_nhs_mask")
    return target


def write_job_copy(job: Job, sources: dict[str, Path], target: Path, *, withhold_nhs: bool = False,
                   workspace: Path | None = None) -> Path:
    """A job file like ``job`` that reads ``sources`` (name -> copy) instead of its files.

    Sources not in ``sources`` are left out. With ``withhold_nhs`` every source's NHS number is read
    from the empty withheld column, so the job holds the same records without NHS numbers.
    """
    raw_sources = []
    for spec in job.sources:
        if spec.name not in sources:
            continue
        entry = {"name": spec.name, "type": spec.type, "path": str(Path(sources[spec.name]).resolve())}
        if spec.date_format:
            entry["date_format"] = spec.date_format
        if withhold_nhs:
            entry["columns"] = {"nhs_number": WITHHELD_COLUMN}
        raw_sources.append(entry)
    write_text(target, yaml.safe_dump(_job_header(job, workspace) | {"sources": raw_sources}, sort_keys=False))
    return target


def write_job_without(job: Job, dropped: str | None, target: Path, workspace: Path | None = None) -> Path:
    """A job file like ``job`` without source ``dropped`` (None: every source), reading the job's own files."""
    raw_sources = []
    for spec in job.sources:
        if spec.name == dropped:
            continue
        entry = {"name": spec.name, "type": spec.type, "path": str(spec.path.resolve())}
        if spec.columns:
            entry["columns"] = dict(spec.columns)
        if spec.date_format:
            entry["date_format"] = spec.date_format
        raw_sources.append(entry)
    write_text(target, yaml.safe_dump(_job_header(job, workspace) | {"sources": raw_sources}, sort_keys=False))
    return target


def _job_header(job: Job, workspace: Path | None) -> dict:
    """Everything of the job file but its sources, with absolute paths (copies live elsewhere)."""
    settings = job.linkage
    linkage = {"match_threshold": settings.match_threshold, "review_band": list(settings.review_band),
               "blocking_rules": _rule_set_reference(settings.blocking_rules), "seed": settings.seed,
               "max_pairs_em": settings.max_pairs_em}
    if settings.model is not None:
        linkage["model"] = str(settings.model.resolve())
    if workspace is not None:
        # A fresh workspace: the what-if measures the automatic strategies, not earlier review decisions.
        linkage["workspace"] = str(workspace.resolve())
    header = {"home_la": job.home_la, "reference_date": job.reference_date.isoformat()}
    if job.postcode_lookup is not None:
        header["postcode_lookup"] = str(job.postcode_lookup.resolve())
    if job.cme_cases is not None:
        header["cme_cases"] = str(job.cme_cases.resolve())
    return header | {"linkage": linkage}


def _rule_set_reference(name_or_path: str) -> str:
    path = Path(name_or_path)
    return str(path.resolve()) if path.suffix in (".yaml", ".yml") else name_or_path


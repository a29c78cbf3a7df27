"""The synthetic world generator: ``generate()`` builds a world and writes it with its truth.

Stages run in a fixed order, each with its own random stream spawned from the seed, so the
same seed gives byte-identical files and a change in one stage does not reshuffle the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ChildlinkError
from ..progress import PhaseTimer, Progress
from . import calendar, geography, identifiers, names, parameters as P, timeline, writer
from .border import border_source
from .council_tax import council_tax_source
from .education import education_source
from .gp import gp_source
from .population import make_population
from .social_care import DATE_FORMAT, FILE_COLUMNS, social_care_source
from .writer import SourceTable

DEFAULT_REFERENCE_DATE = dt.date(2026, 11, 1)
MIN_CHILDREN = 100
MAX_CHILDREN = 1_000_000        # national-scale benchmarks; NHS numbers from the 990-999 range above 700k

SOURCE_COLUMNS = {
    "education": ["record_id", "upn", "former_upn", "forename", "middle_names", "surname", "preferred_surname",
                  "former_surname", "dob", "sex", "address_line", "postcode", "uprn", "carer_forename",
                  "carer_surname", "la_code", "school_urn", "entry_date", "leaving_date"],
    "gp": ["record_id", "nhs_number", "forename", "middle_names", "surname", "dob", "sex", "address_line", "postcode",
           "uprn", "practice_code", "registration_date", "deregistration_date", "deregistration_reason"],
    "council_tax": ["record_id", "account_ref", "role", "forename", "middle_names", "surname", "dob", "address_line",
                    "postcode", "uprn", "occupancy_start", "occupancy_end"],
    "social_care": [FILE_COLUMNS[c] for c in FILE_COLUMNS],
    "border": ["record_id", "forename", "surname", "dob", "sex", "nationality", "passport_number", "direction",
               "travel_date", "port"],
}
RECORD_ID_PREFIX = {"education": "ENR", "gp": "GPR", "council_tax": "CTX", "social_care": "EP", "border": "BX"}
FILES = {"education": ("education.csv", "utf-8"), "gp": ("gp.parquet", None),
         "council_tax": ("council_tax.csv", "cp1252"), "social_care": ("social_care.csv", "utf-8-sig"),
         "border": ("border.csv", "utf-8")}


@dataclass(frozen=True)
class WorldSummary:
    """What was generated: counts for a log line or a benchmark record."""
    out: Path
    seed: int
    households: int
    children: int
    adults: int
    decoys: int
    twins: int
    rows: dict[str, int] = field(default_factory=dict)            # per source file, bad rows included
    cme_cases: int = 0
    cme_by_intended_destination: dict[str, int] = field(default_factory=dict)
    fates: dict[str, int] = field(default_factory=dict)            # households per fate


@dataclass
class World:
    """The world in memory: people, their lives and every source's rows (before writing)."""
    reference_date: dt.date
    home_la: str
    households: pd.DataFrame
    children: pd.DataFrame
    adults: pd.DataFrame
    decoys: pd.DataFrame
    spells: pd.DataFrame
    dwellings: pd.DataFrame
    sources: dict[str, SourceTable]
    cme_cases: pd.DataFrame
    people: pd.DataFrame


def _check_arguments(children: int, nhs_coverage: float, home_la: str) -> None:
    if not isinstance(children, (int, np.integer)) or not MIN_CHILDREN <= children <= MAX_CHILDREN:
        raise ChildlinkError(f"children must be a whole number from {MIN_CHILDREN} to {MAX_CHILDREN:,}")
    if not 0.0 <= float(nhs_coverage) <= 1.0:
        raise ChildlinkError("nhs_coverage must be a share between 0 and 1")
    if not (isinstance(home_la, str) and len(home_la) == 3 and home_la.isdigit()):
        raise ChildlinkError("home_la must be a 3-digit DfE LA code such as \"330\"")


def build_world(children: int, seed: int, *, nhs_coverage: float = 0.0,
                reference_date: dt.date = DEFAULT_REFERENCE_DATE, home_la: str = "330") -> World:
    """Generate the world in memory (no files)."""
    _check_arguments(children, nhs_coverage, home_la)
    streams = iter(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(16))
    ref = calendar.day(reference_date)
    window = timeline.Window(calendar.day(calendar.years_before(reference_date, 3)), ref)
    max_age = ref - calendar.day(calendar.years_before(reference_date, 18)) - 1
    las = geography.local_authorities(home_la)

    pop = make_population(next(streams), children, ref, max_age)
    rng = next(streams)
    hh = timeline.assign_fates(rng, pop.households, pop.children, las, window)
    hh = timeline.plan_cme(rng, hh, pop.children, las, window)
    spells, dwellings = timeline.build_spells(next(streams), hh, home_la, window)
    ch = timeline.child_events(next(streams), pop.children, hh, window, names.sample_surnames)
    ch, adults = _identities(next(streams), ch, pop.adults)

    rng = next(streams)
    n_school_age = int(((calendar.year_group(ch["dob"].to_numpy(), np.full(len(ch), ref)) >= 0)).sum())
    schools = geography.make_schools(rng, las, max(4, round(n_school_age * 7 / 13 / P.PUPILS_PER_PRIMARY)),
                                     max(2, round(n_school_age * 6 / 13 / P.PUPILS_PER_SECONDARY)))
    practices = geography.make_practices(rng, las, max(5, round(children / P.PRACTICE_LIST_SIZE)))

    edu = education_source(next(streams), ch, hh, adults, spells, dwellings, schools, window, home_la, nhs_coverage)
    frames = {
        "education": edu.records,
        "gp": gp_source(next(streams), ch, hh, spells, dwellings, practices, window),
        "council_tax": council_tax_source(next(streams), ch, hh, adults, spells, dwellings, window),
        "social_care": social_care_source(next(streams), ch, hh, spells, dwellings, edu.child_upn, window)
        .rename(columns=FILE_COLUMNS),
    }
    decoy_ids = lambda count: ("D" + pd.Series(np.arange(count)).astype(str)).to_numpy(dtype=object)  # noqa: E731
    frames["border"], decoys = border_source(next(streams), ch, hh, window, max_age, decoy_ids)

    rng = next(streams)
    sources = {}
    for name, frame in frames.items():                     # five sources
        id_column = "EpisodeID" if name == "social_care" else "record_id"
        with_ids = writer.assign_record_ids(rng, frame, RECORD_ID_PREFIX[name])
        if id_column != "record_id":
            with_ids = with_ids.drop(columns=[id_column], errors="ignore").rename(columns={"record_id": id_column})
        sources[name] = SourceTable(name, with_ids)
    cases = _cme_cases(rng, edu.cme_cases, sources["education"].frame, hh, ch)
    for name, table in sources.items():
        if name == "gp":
            continue                                        # Parquet: typed, no CSV bad rows
        id_column = "EpisodeID" if name == "social_care" else "record_id"
        formula_column = {"social_care": "HomeAddress", "border": "surname"}.get(name, "address_line")
        writer.inject_bad_rows(rng, table, set(cases["record_id"]) if name == "education" else set(),
                               formula_column, id_column)
    people = _people(ch, adults, decoys, ref)
    mapping = _opaque_person_ids(next(streams), people)
    people["person_id"] = people["person_id"].map(mapping)
    for table in sources.values():
        table.frame["person_id"] = table.frame["person_id"].map(mapping)
    return World(reference_date, home_la, hh, ch.assign(person_id=ch["person_id"].map(mapping)),
                 adults.assign(person_id=adults["person_id"].map(mapping)),
                 decoys.assign(person_id=decoys["person_id"].map(mapping)), spells, dwellings, sources, cases,
                 people.sort_values("person_id", ignore_index=True))


def _identities(rng: np.random.Generator, ch: pd.DataFrame, adults: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Internal person keys, NHS numbers (a second one for adopted children)."""
    ch = ch.copy()
    ch["person_id"] = ("C" + ch["child_no"].astype(str)).to_numpy(dtype=object)
    adopted = (ch["name_change"] == "adoption").to_numpy()
    numbers = identifiers.nhs_numbers(rng, len(ch) + int(adopted.sum()))
    ch["nhs_number"] = numbers[: len(ch)]
    ch["nhs_after_adoption"] = None
    ch.loc[adopted, "nhs_after_adoption"] = numbers[len(ch):]
    adults = adults.copy()
    adults["person_id"] = ("A" + adults["adult_no"].astype(str)).to_numpy(dtype=object)
    return ch, adults


def _cme_cases(rng: np.random.Generator, planned: pd.DataFrame, education: pd.DataFrame, hh: pd.DataFrame,
               ch: pd.DataFrame) -> pd.DataFrame:
    """cme_cases rows (case_id, source, record_id, referral_date) + intended destination."""
    record_of_row = pd.Series(education["record_id"].to_numpy(), index=education["_row"].to_numpy())
    hh_of_child = ch.set_index("child_no")["hh_id"]
    destination = hh.set_index("hh_id")["cme_destination"]
    mode = hh.set_index("hh_id")["cme_mode"]
    order = rng.permutation(len(planned))
    width = max(4, len(str(len(planned))))
    cases = pd.DataFrame({
        "case_id": ("CME" + pd.Series(order + 1).astype(str).str.zfill(width)).to_numpy(),
        "source": "education",
        "record_id": record_of_row.reindex(planned["row"].to_numpy()).to_numpy(),
        "referral_date": calendar.iso(planned["referral_day"].to_numpy()),
        "intended_destination": destination.reindex(hh_of_child.reindex(planned["child_no"])).to_numpy(),
        "scenario": mode.reindex(hh_of_child.reindex(planned["child_no"])).to_numpy(),
        "child_no": planned["child_no"].to_numpy(),
    })
    return cases.sort_values("case_id", ignore_index=True)


def _people(ch: pd.DataFrame, adults: pd.DataFrame, decoys: pd.DataFrame, ref: int) -> pd.DataFrame:
    """truth_people rows under internal keys: person_id, dob, sex, name_group, kind, household_id, twin."""
    frames = [
        pd.DataFrame({"person_id": ch["person_id"], "dob": ch["dob"], "sex": ch["sex"], "name_group": ch["name_group"],
                      "kind": "child", "household_id": "H" + ch["hh_id"].astype(str), "twin": ch["twin"]}),
        pd.DataFrame({"person_id": adults["person_id"], "dob": adults["dob"], "sex": adults["sex"],
                      "name_group": adults["name_group"], "kind": "adult",
                      "household_id": "H" + adults["hh_id"].astype(str),
                      "twin": False}),
        pd.DataFrame({"person_id": decoys["person_id"], "dob": decoys["dob"], "sex": decoys["sex"],
                      "name_group": decoys["name_group"], "kind": "decoy", "household_id": "", "twin": False}),
    ]
    people = pd.concat(frames, ignore_index=True)
    people["dob"] = calendar.iso(people["dob"].to_numpy())
    return people


def _opaque_person_ids(rng: np.random.Generator, people: pd.DataFrame) -> dict[str, str]:
    """Internal key -> ``P0000123``, numbered in a random order so ids reveal nothing."""
    numbers = rng.permutation(len(people)) + 1
    width = max(7, len(str(len(people))))
    return dict(zip(people["person_id"], "P" + pd.Series(numbers).astype(str).str.zfill(width)))


def generate(children: int, seed: int, out: str | Path, *, nhs_coverage: float = 0.0,
             reference_date: dt.date = DEFAULT_REFERENCE_DATE, home_la: str = "330",
             progress: Progress | None = None) -> WorldSummary:
    """Generate a world of ``children`` children and write it, with its truth, into ``out``.

    Files: education.csv, gp.parquet, council_tax.csv (Windows-1252), social_care.csv (own column
    names, UK dates, UTF-8 with BOM), border.csv, cme_cases.csv, la_postcodes.csv, job.yaml,
    truth.csv and truth_people.csv. Deterministic: the same arguments give byte-identical files.
    ``progress`` hears each phase as it starts and ends (``linkage.progress``).
    """
    timer = PhaseTimer(progress)
    timer.start("build world")
    world = build_world(children, seed, nhs_coverage=nhs_coverage, reference_date=reference_date, home_la=home_la)
    timer.start("write files")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = dict(SOURCE_COLUMNS)
    if nhs_coverage > 0:
        columns["education"] = columns["education"][:3] + ["nhs_number"] + columns["education"][3:]
    for name, table in world.sources.items():
        filename, encoding = FILES[name]
        if encoding is None:
            writer.write_gp_parquet(out / filename, table.frame[columns[name]])
        else:
            writer.write_source_csv(out / filename, table, columns[name], encoding)
    writer.write_table(out / "cme_cases.csv", world.cme_cases[["case_id", "source", "record_id", "referral_date"]])
    writer.write_table(out / "la_postcodes.csv", geography.postcode_districts())
    writer.write_table(out / "truth.csv", pd.concat(
        [writer.truth_rows(t, "EpisodeID" if n == "social_care" else "record_id") for n, t in world.sources.items()],
        ignore_index=True).sort_values(["source", "record_id"], ignore_index=True))
    writer.write_table(out / "truth_people.csv", world.people)
    writer.write_job(out / "job.yaml", home_la, reference_date, _job_sources())
    timer.stop()
    return _summary(world, out, seed)


def _job_sources() -> list[dict]:
    return [
        {"name": "education", "type": "education", "path": FILES["education"][0]},
        {"name": "gp", "type": "gp", "path": FILES["gp"][0]},
        {"name": "council_tax", "type": "council_tax", "path": FILES["council_tax"][0]},
        {"name": "social_care", "type": "social_care", "path": FILES["social_care"][0],
         "date_format": DATE_FORMAT, "columns": dict(FILE_COLUMNS)},
        {"name": "border", "type": "border", "path": FILES["border"][0]},
    ]


def _summary(world: World, out: Path, seed: int) -> WorldSummary:
    intended = world.cme_cases["intended_destination"].value_counts().sort_index()
    fates = world.households["fate"].value_counts().sort_index()
    return WorldSummary(
        out=out, seed=seed, households=len(world.households), children=len(world.children), adults=len(world.adults),
        decoys=len(world.decoys), twins=int(world.children["twin"].sum()),
        rows={name: len(t.frame) for name, t in world.sources.items()}, cme_cases=len(world.cme_cases),
        cme_by_intended_destination={k: int(v) for k, v in intended.items()},
        fates={k: int(v) for k, v in fates.items()})

"""A tiny job on disk for end-to-end trace tests: CSV sources, a job file and a link run folder.

Tests add records (source type, child, link confidence and the fields that matter); ``trace()``
writes the sources, cme_cases.csv, the postcode lookup, job.yaml and a run folder holding
identities.parquet and pairs.parquet as ``childlink link`` would, then runs ``trace_job`` on it.
The run folder is hand-made so that each test decides exactly which links are strong or weak.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from linkage.job import load_job
from linkage.trace.run import TraceResult, trace_job

HOME = "330"
R = "2026-11-01"
LOOKUP = {"B12": "330", "B13": "330", "B14": "330", "CV1": "331", "M1": "352"}
THRESHOLD = 0.95


class JobWorld:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.rows: dict[str, list[dict]] = {}
        self.types: dict[str, str] = {}
        self.links: list[tuple[str, str, str, float]] = []   # source, record_id, child_id, confidence
        self.pairs: list[tuple[str, str, float]] = []
        self.cases: list[dict] = []
        self.review_band: tuple[float, float] | None = None   # None: the job's default
        self._n = 0

    def add(self, child: str | None, source_type: str, *, source: str | None = None, confidence: float = 0.99,
            record_id: str | None = None, **fields) -> str:
        """Add a record of ``child`` (None: a singleton identity); return 'source:record_id'."""
        self._n += 1
        source = source or source_type
        self.types[source] = source_type
        record_id = record_id or f"{source_type[:2].upper()}{self._n}"
        self.rows.setdefault(source, []).append({"record_id": record_id, **fields})
        self.links.append((source, record_id, child or f"single-{source}-{record_id}", confidence))
        return f"{source}:{record_id}"

    def pair(self, left: str, right: str, probability: float) -> None:
        self.pairs.append((left, right, probability))

    def case(self, case_id: str, ref: str, referral_date: str) -> None:
        source, record_id = ref.split(":", 1)
        self.cases.append({"case_id": case_id, "source": source, "record_id": record_id,
                           "referral_date": referral_date})

    def write(self, *, with_cases: bool = True) -> Path:
        for source, rows in self.rows.items():
            pd.DataFrame(rows).to_csv(self.folder / f"{source}.csv", index=False)
        pd.DataFrame({"postcode_district": list(LOOKUP), "la_code": list(LOOKUP.values())}).to_csv(
            self.folder / "lookup.csv", index=False)
        lines = [f'home_la: "{HOME}"', "postcode_lookup: lookup.csv", f"reference_date: {R}", "sources:"]
        lines += [f"  - {{name: {s}, type: {t}, path: {s}.csv}}" for s, t in self.types.items()]
        if with_cases:
            pd.DataFrame(self.cases, columns=["case_id", "source", "record_id", "referral_date"]).to_csv(
                self.folder / "cme_cases.csv", index=False)
            lines.append("cme_cases: cme_cases.csv")
        lines += ["linkage:", f"  match_threshold: {THRESHOLD}"]
        if self.review_band is not None:
            lines.append(f"  review_band: [{self.review_band[0]}, {self.review_band[1]}]")
        (self.folder / "job.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._write_run()
        return self.folder / "job.yaml"

    def _write_run(self) -> None:
        run = self.folder / "run"
        run.mkdir(exist_ok=True)
        pd.DataFrame(self.links, columns=["source", "record_id", "child_id", "confidence"]).to_parquet(
            run / "identities.parquet", index=False)
        split = [(*a.split(":", 1), *b.split(":", 1), p) for a, b, p in self.pairs]
        pairs = pd.DataFrame(split, columns=["source_l", "record_id_l", "source_r", "record_id_r", "match_probability"])
        pairs["match_weight"] = 0.0
        pairs.to_parquet(run / "pairs.parquet", index=False)

    def trace(self, **write_options) -> TraceResult:
        job = load_job(self.write(**write_options))
        return trace_job(job, self.folder / "out", run_dir=self.folder / "run")


def by_case(result: TraceResult) -> dict[str, pd.Series]:
    return {row.case_id: row for _, row in result.tables.cases.iterrows()}


def d(value: str) -> dt.date:
    return dt.date.fromisoformat(value)

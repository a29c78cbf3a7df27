"""Every CSV the tool writes opens in a spreadsheet as data: no cell starts with ``=``, ``+``, ``-``,
``@``, tab or carriage return unless it is a plain number (``-0.5`` is a number to a spreadsheet,
not a formula). Hostile values are planted in a generated world (names, addresses, record IDs,
CME case IDs, a reviewer's name and note) and every command that writes CSV is run on it.
A second test holds that every CSV writer in the code goes through ``linkage.outputs.write_csv``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from fault_support import ROOT, generate_world, job_file
from linkage.outputs import FORMULA_PREFIXES
from linkage.review.store import STORE_NAME, DecisionStore, PairKey

HOSTILE = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+44 7700 900123", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Simulated LA exports written by ``sample generate``: inputs, not outputs. They carry a formula
# value on purpose (linkage.synthetic.writer.FORMULA_VALUE) so that the readers meet one.
SIMULATED_INPUTS = {"education.csv", "council_tax.csv", "social_care.csv", "border.csv", "la_postcodes.csv",
                    "cme_cases.csv", "truth.csv", "truth_people.csv"}


def _read_rows(path: Path) -> list[list[str]]:
    """Rows as lists (the generated files have a ragged row on purpose: pandas would refuse it)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)   # CRLF rows: a CR inside a cell gets quoted


def _hostile_world(folder: Path) -> Path:
    """A generated world with hostile values in education names, addresses and record IDs (two of
    them duplicated, so they are rejected too), and in CME case IDs. truth.csv follows the new IDs."""
    world = generate_world(folder, seed=19)
    header, *rows = _read_rows(world / "education.csv")
    column = {name: i for i, name in enumerate(header)}
    cases = _read_rows(world / "cme_cases.csv")
    on_a_case = {row[2] for row in cases[1:]}
    free = [row for row in rows if row[column["record_id"]] not in on_a_case]
    for i, row in enumerate(free[: 4 * len(HOSTILE)]):
        row[column[("forename", "surname", "address_line")[i % 3]]] = HOSTILE[i % len(HOSTILE)] + "Smith"
    renamed = {}
    for i, row in enumerate(free[-len(HOSTILE):]):
        renamed[row[column["record_id"]]] = row[column["record_id"]] = HOSTILE[i][:2] + f"ENR{i}"
    _write_rows(world / "education.csv", [header, *rows, *[list(r) for r in free[-2:]]])
    truth = _read_rows(world / "truth.csv")
    _write_rows(world / "truth.csv", [truth[0]] + [[s, renamed.get(r, r) if s == "education" else r, p]
                                                   for s, r, p in truth[1:]])
    for i, value in enumerate(HOSTILE):
        cases[1 + i][0] = value[:2] + f"CME{i}"
    _write_rows(world / "cme_cases.csv", cases)
    return world


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[Path]:
    """Every CSV written by every command that writes CSV, run on the hostile world."""
    base = tmp_path_factory.mktemp("spreadsheet")
    world = _hostile_world(base / "world")
    job = str(job_file(world, base / "ws", "job"))
    run, runner = base / "link", CliRunner()

    def ok(*args: str) -> None:
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, (args[0], result.output[-2000:])

    ok("validate", job, "--out", str(base / "validate"))
    ok("link", job, "--out", str(run), "--quiet")
    pairs = pd.read_parquet(run / "pairs.parquet")
    hostile = pairs[pairs["record_id_l"].str[:1].isin(list("=+-@")) | pairs["record_id_r"].str[:1].isin(list("=+-@"))]
    decided = pd.concat([hostile.head(2), pairs.sort_values("match_weight").tail(2)])
    store = DecisionStore(base / "ws" / STORE_NAME)
    for row, decision in zip(decided.itertuples(), ["same", "different", "same", "different"]):
        store.decide(PairKey.of(row.source_l, row.record_id_l, row.source_r, row.record_id_r), decision,
                     seen_version=0, reviewer="=cmd|' /C calc'!A0", note="+1 call the school")
    ok("link", job, "--out", str(run), "--truth", str(world / "truth.csv"), "--quiet")
    ok("trace", job, "--out", str(base / "trace"), "--run", str(run))
    ok("review", "export", job, "--out", str(base / "labels.csv"), "--truth-out", str(base / "labels_truth.csv"))
    ok("evaluate", job, "--run", str(run), "--truth", str(world / "truth.csv"), "--labels", str(base / "labels.csv"))
    ok("sample", "generate", "--children", "100", "--seed", "3", "--out", str(base / "sample"))
    return [p for p in sorted(base.rglob("*.csv"))
            if p.parent != world and not (p.parent.name == "sample" and p.name in SIMULATED_INPUTS)]


def _cells(path: Path):
    with open(path, newline="", encoding="utf-8") as handle:
        for row_number, row in enumerate(csv.reader(handle), start=1):
            for cell in row:
                yield row_number, cell


def test_no_cell_of_any_written_csv_is_a_formula(written):
    """(One test over the fixture, so that parallel workers do not each build it.)"""
    names = {p.name for p in written}
    assert {"rejects.csv", "quality.csv", "identities.csv", "evaluation.csv", "review_decisions.csv",
            "cme_trace.csv", "cme_timeline.csv", "not_in_education.csv", "labels.csv", "labels_truth.csv",
            "label_evaluation.csv", "recall_by_group.csv", "cme_truth.csv"} <= names, sorted(names)
    risky = [(str(p), n, cell) for p in written for n, cell in _cells(p)
             if cell.startswith(FORMULA_PREFIXES) and not NUMBER.fullmatch(cell)]
    assert not risky
    # The hostile values did reach the CSVs (and were neutralised): otherwise this would prove nothing.
    neutralised = {p.name for p in written for _, cell in _cells(p) if cell[:1] == "'" and cell[1:2] in "=+-@\t\r"}
    assert {"identities.csv", "rejects.csv", "cme_trace.csv", "labels.csv", "review_decisions.csv"} <= neutralised
    identities = pd.read_csv(next(p for p in written if p.name == "identities.csv"), dtype=str)
    assert identities["record_id"].isin(["'=HENR0", "'+4ENR1", "'-2ENR2", "'@SENR3"]).sum() == 4


# Text that writes CSV without write_csv. Allowed: write_csv itself, and the generator's simulated
# LA exports (inputs that carry hostile values on purpose).
# (pandas to_csv, the csv module, pyarrow.csv.write_csv, DuckDB COPY ... (FORMAT csv)).
CSV_WRITERS = re.compile(r"\.to_csv\(|csv\.writer\(|DictWriter\(|\.write_csv\(|format\s*'?csv", re.IGNORECASE)
ALLOWED = {"linkage/outputs.py": 1, "linkage/synthetic/writer.py": 1}


def test_every_csv_writer_goes_through_write_csv():
    found: dict[str, int] = {}
    for path in [ROOT / "cli.py", *sorted((ROOT / "linkage").rglob("*.py"))]:
        hits = len(CSV_WRITERS.findall(path.read_text(encoding="utf-8")))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert found == ALLOWED

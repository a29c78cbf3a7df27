"""No personal data where it does not belong (issue 9): logs, error messages, the review server's
access log, child_ids.

Every command runs with ``--verbose`` (childlink's and Splink's loggers at DEBUG) on a small
generated world; all it writes is searched: stdout, stderr, every log record (whatever logger) and
every Python warning. ``find``'s stdout is left out: the candidates it prints are what the officer
asked to see. The needles are every forename, middle name, surname (also preferred, former and
carer's), date of birth, postcode, NHS number and UPN in the input files.

How needles are matched, and which are skipped (and why):
- Names are matched as whole words, case-insensitively (``EVIE`` and ``Evie`` are the same leak).
  Name words shorter than 4 letters are skipped: ``Al``, ``Li``, ``Ann`` occur inside ordinary
  words and the tool's own messages. Name words that are also words of the tool's own text
  (childlink's and Splink's code and templates, click's) are skipped too: ``Will`` or ``Page`` in a
  log line is the tool talking, not a child's name leaking. "The tool's own text" is what it can
  print: the string literals of childlink's code and its page templates; not docstrings or
  comments, nor the name-reference tables, nor Splink's code (their examples name people and
  would hide Smith and Jones).
- Dates anywhere in the output, in any common shape (ISO, day-first or month-first with / . -,
  8-digit runs, ``28 September 2012``, ``datetime.date(2012, 9, 28)``), are read as dates and
  compared with the dates of birth. Today's date (log timestamps) and the job's reference date are
  skipped as needles: the tool prints them itself.
- Postcodes, NHS numbers and UPNs are found by shape in the output (any spacing or case) and
  compared with the input's, normalised.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import logging
import os
import re
import signal
import subprocess
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from linkage.ids import ALPHABET, ID_CHARACTERS, ID_PREFIX, id_key, mint_one
from linkage.job import load_job

ROOT = Path(__file__).resolve().parents[2]
CHILDREN, SEED = 100, 11
NAME_FIELDS = ("forename", "middle_names", "surname", "preferred_surname", "former_surname",
               "carer_forename", "carer_surname")
MIN_NEEDLE = 4
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
MONTHS = {m.lower(): i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"], start=1)}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})\b", re.IGNORECASE)
NHS = re.compile(r"(?<![0-9])([0-9]{3})[ -]?([0-9]{3})[ -]?([0-9]{4})(?![0-9])")
UPN = re.compile(r"\b[A-Z][0-9]{11}[0-9A-Z]\b", re.IGNORECASE)
CHILD_ID = re.compile(f"^{ID_PREFIX}[{ALPHABET}]{{{ID_CHARACTERS}}}$")


# ------------------------------------------------------------------ the needles
@dataclass
class Needles:
    names: set[str] = field(default_factory=set)        # lower-case words
    dobs: set[dt.date] = field(default_factory=set)
    raw_dobs: set[str] = field(default_factory=set)     # dates of birth that are not dates, as written
    postcodes: set[str] = field(default_factory=set)    # upper case, no space
    nhs_numbers: set[str] = field(default_factory=set)  # 10 digits
    upns: set[str] = field(default_factory=set)         # upper case
    skipped_short: int = 0
    skipped_tool_words: set[str] = field(default_factory=set)
    skipped_dates: set[dt.date] = field(default_factory=set)

    def count(self) -> int:
        return (len(self.names) + len(self.dobs) + len(self.raw_dobs) + len(self.postcodes)
                + len(self.nhs_numbers) + len(self.upns))

    def found_in(self, text: str) -> list[str]:
        """The needles that occur in ``text``, each with its kind."""
        hits = {f"name {w}" for w in WORD.findall(text) if w.lower() in self.names}
        hits |= {f"dob {d}" for d in dates_in(text) if d in self.dobs}
        hits |= {f"dob {r}" for r in self.raw_dobs if r in text}
        hits |= {f"postcode {a} {b}" for a, b in POSTCODE.findall(text) if (a + b).upper() in self.postcodes}
        hits |= {f"nhs {''.join(g)}" for g in NHS.findall(text) if "".join(g) in self.nhs_numbers}
        hits |= {f"upn {u}" for u in UPN.findall(text) if u.upper() in self.upns}
        return sorted(hits)


def tool_words() -> set[str]:
    """Every word childlink itself can print: the string literals of its code (docstrings and comments
    are never printed, and their examples name people) and its page templates; not its name tables."""
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "linkage").rglob("*.html")]
    for path in [ROOT / "cli.py", *(ROOT / "linkage").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        texts += [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and isinstance(node.value, str) and id(node) not in docstrings]
    return {w.lower() for text in texts for w in WORD.findall(text)}


def read_source(spec: dict, folder: Path) -> pd.DataFrame:
    """A source's rows with canonical column names, every value as written (ragged rows included)."""
    path = folder / spec["path"]
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path).astype("string")
    else:
        rows = list(csv.reader(io.StringIO(decoded(path.read_bytes()), newline="")))
        width = max(len(r) for r in rows)
        header = rows[0] + [f"_extra{i}" for i in range(width - len(rows[0]))]
        frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows[1:]], columns=header, dtype="string")
    return frame.rename(columns={v: k for k, v in (spec.get("columns") or {}).items()})


def decoded(data: bytes) -> str:
    """The text of a generated file: UTF-8 (with or without BOM) or Windows-1252, as LAs export."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def parse_date(text: str, date_format: str | None) -> dt.date | None:
    for fmt in filter(None, (date_format, "%Y-%m-%d", "%d/%m/%Y")):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            pass
    return None


def build_needles(world: Path) -> Needles:
    job = yaml.safe_load((world / "job.yaml").read_text())
    needles = Needles()
    words = tool_words()
    not_needles = {dt.date.today(), dt.date.fromisoformat(str(job["reference_date"]))}
    for spec in job["sources"]:
        frame = read_source(spec, world).fillna("")
        for column in [c for c in NAME_FIELDS if c in frame]:
            for value in frame[column].unique():
                for word in WORD.findall(value):
                    if len(word) < MIN_NEEDLE:
                        needles.skipped_short += 1
                    elif word.lower() in words:
                        needles.skipped_tool_words.add(word.lower())
                    else:
                        needles.names.add(word.lower())
        for value in frame["dob"].unique() if "dob" in frame else ():
            if not value.strip():
                continue
            date = parse_date(value, spec.get("date_format"))
            if date is None:
                if len(value.strip()) >= MIN_NEEDLE:
                    needles.raw_dobs.add(value.strip())
            elif date in not_needles:
                needles.skipped_dates.add(date)
            else:
                needles.dobs.add(date)
        for column, target in (("postcode", needles.postcodes), ("nhs_number", needles.nhs_numbers),
                               ("upn", needles.upns), ("former_upn", needles.upns)):
            for value in frame[column].unique() if column in frame else ():
                cleaned = re.sub(r"[\s-]", "", value).upper()
                if len(cleaned) >= MIN_NEEDLE:
                    target.add(cleaned)
    return needles


def dates_in(text: str) -> set[dt.date]:
    """Every date written in ``text`` in a common shape (ambiguous ones read both ways)."""
    found: set[dt.date] = set()

    def add(y, m, d) -> None:
        try:
            found.add(dt.date(int(y), int(m), int(d)))
        except ValueError:
            pass

    for y, m, d in re.findall(r"(?<![0-9])([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?![0-9])", text):
        add(y, m, d)
    for a, b, y in re.findall(r"(?<![0-9])([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})(?![0-9])", text):
        add(y, b, a)
        add(y, a, b)
    for run in re.findall(r"(?<![0-9])[0-9]{8}(?![0-9])", text):
        add(run[:4], run[4:6], run[6:])
        add(run[4:], run[2:4], run[:2])
    for d, month, y in re.findall(r"\b([0-9]{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+([0-9]{4})\b", text):
        if month.lower() in MONTHS:
            add(y, MONTHS[month.lower()], d)
    for month, d, y in re.findall(r"\b([A-Za-z]{3,9})\.?\s+([0-9]{1,2}),?\s+([0-9]{4})\b", text):
        if month.lower() in MONTHS:
            add(y, MONTHS[month.lower()], d)
    for y, m, d in re.findall(r"date(?:time)?\(([0-9]{4}), ([0-9]{1,2}), ([0-9]{1,2})", text):
        add(y, m, d)
    return found


# ------------------------------------------------------------------ running commands
@dataclass
class Run:
    args: list[str]
    exit_code: int
    text: str            # everything scanned
    log_records: int


@contextmanager
def all_logging():
    """Every log record of any logger, formatted (with any traceback); logger state restored after."""
    names = ["", "childlink", "linkage", "splink", "splink.internals"]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers), logging.getLogger(n).propagate)
             for n in names}
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    collector = Collect(level=1)
    collector.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(collector)
    root.setLevel(1)
    try:
        yield lines
    finally:
        for n, (level, handlers, propagate) in saved.items():
            logger = logging.getLogger(n)
            logger.setLevel(level)
            logger.handlers = handlers
            logger.propagate = propagate


def run_cli(args: list[str], *, scan_stdout: bool = True, expect: int | None = 0) -> Run:
    with all_logging() as lines, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["--verbose", *args], catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, (args, result.output[-2000:])
    parts = [result.stderr, *lines, *(str(w.message) for w in warned)]
    if scan_stdout:
        parts.append(result.stdout)
    return Run(args, result.exit_code, "\n".join(parts), len(lines))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Run]:
    """The world, generated by ``childlink sample generate`` (whose run is scanned too)."""
    folder = tmp_path_factory.mktemp("privacy") / "world"
    return folder, run_cli(["sample", "generate", "--children", str(CHILDREN), "--seed", str(SEED),
                            "--out", str(folder)])


@pytest.fixture(scope="module")
def world(generated) -> Path:
    return generated[0]


@pytest.fixture(scope="module")
def needles(world) -> Needles:
    return build_needles(world)


@pytest.fixture(scope="module")
def people(world, needles) -> dict[str, str]:
    """A child of the education source, as an officer would type them into find: one whose every
    detail is a needle, so that echoing any of them would be caught."""
    rows = read_source({"path": "education.csv"}, world).fillna("")
    row = rows[rows.forename.str.lower().isin(needles.names) & rows.surname.str.lower().isin(needles.names)
               & rows.dob.map(lambda d: parse_date(d, None) in needles.dobs)
               & rows.postcode.str.replace(" ", "").str.upper().isin(needles.postcodes)
               & rows.upn.str.upper().isin(needles.upns)].iloc[0]
    return {"forename": row.forename, "surname": row.surname, "dob": row.dob, "postcode": row.postcode,
            "upn": row.upn}


@pytest.fixture(scope="module")
def runs(generated, people) -> dict[str, Run]:
    """Every command, once, on the world, in the order an LA would run them."""
    world = generated[0]
    job, truth, w = str(world / "job.yaml"), str(world / "truth.csv"), world
    out: dict[str, Run] = {"sample generate": generated[1]}
    out["validate"] = run_cli(["validate", job, "--out", str(w / "validate")])
    out["blocking"] = run_cli(["blocking", job, "--truth", truth])
    out["train"] = run_cli(["train", job, "--out", str(w / "model.json")])
    out["link"] = run_cli(["link", job, "--out", str(w / "run"), "--truth", truth])   # progress and timings too
    out["link --incremental"] = run_cli(["link", job, "--out", str(w / "run2"), "--incremental", "--quiet"])
    out["evaluate"] = run_cli(["evaluate", job, "--run", str(w / "run"), "--truth", truth])
    out["trace"] = run_cli(["trace", job, "--out", str(w / "trace"), "--run", str(w / "run")])
    out["find"] = run_cli(["find", job, "--forename", people["forename"], "--surname", people["surname"],
                           "--dob", people["dob"], "--postcode", people["postcode"]], scan_stdout=False)
    _decide_one_pair_with_a_name_in_the_note(world, people)
    out["review export"] = run_cli(["review", "export", job, "--out", str(w / "labels.csv"),
                                    "--truth-out", str(w / "labels_truth.csv")])
    out["evaluate --labels"] = run_cli(["evaluate", job, "--run", str(w / "run"), "--labels", str(w / "labels.csv")])
    child_id = pd.read_csv(w / "run" / "identities.csv", dtype=str)["child_id"].iloc[0]
    out["ids history"] = run_cli(["ids", "history", job, child_id])
    out["ids log"] = run_cli(["ids", "log", job])
    out["evaluate nhs-adoption"] = run_cli(["evaluate", "nhs-adoption", job, "--truth", truth, "--out",
                                            str(w / "nhs"), "--coverage", "1", "--seeds", "1",
                                            "--no-source-value", "--quiet"])
    return out


def _decide_one_pair_with_a_name_in_the_note(world: Path, people: dict[str, str]) -> None:
    """A reviewer's note may name the child; export must still not print it."""
    from linkage.review.serve import load_review
    from linkage.review.store import PairKey

    ctx = load_review(load_job(world / "job.yaml"), world / "run")
    row = ctx.con.execute("select source_l, record_id_l, source_r, record_id_r from review_queue "
                          "order by item limit 1").fetchall()[0]
    ctx.store.decide(PairKey.of(*row), "same", seen_version=0, reviewer="Officer",
                     note=f"{people['forename']} {people['surname']} born {people['dob']}")


COMMANDS = ["sample generate", "validate", "blocking", "train", "link", "link --incremental",
            "evaluate", "trace", "find", "review export", "evaluate --labels", "ids history", "ids log",
            "evaluate nhs-adoption"]


def test_the_needles_cover_every_kind_of_personal_data(needles):
    """The scan is only as good as its needles: many of each kind (a small world has few
    streets, so fewer postcodes), few skipped."""
    assert len(needles.names) > 250 and len(needles.dobs) > 100 and len(needles.postcodes) > 8
    assert len(needles.nhs_numbers) > 50 and len(needles.upns) > 50
    assert len(needles.skipped_tool_words) < len(needles.names) / 5
    # The scanner itself finds each kind of needle in any of its written forms.
    name, dob = sorted(needles.names)[0], sorted(needles.dobs)[0]
    postcode, nhs, upn = sorted(needles.postcodes)[0], sorted(needles.nhs_numbers)[0], sorted(needles.upns)[0]
    for text in (name.upper(), dob.strftime("%d/%m/%Y"), dob.strftime("%Y%m%d"), dob.strftime("%d %B %Y"),
                 repr(dob), f"{postcode[:-3].lower()} {postcode[-3:].lower()}", f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}",
                 upn.lower()):
        assert needles.found_in(f"error: {text}."), text


@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_logs_or_prints_personal_data(runs, needles, command):
    run = runs[command]
    assert needles.found_in(run.text) == [], f"{command} leaks personal data"


def test_verbose_logging_is_on_and_reaches_stderr(runs):
    """The scan means something only if --verbose really logs: Splink's steps and childlink's."""
    assert runs["link"].log_records > 10 and "splink.internals" in runs["link"].text
    assert runs["train"].log_records > 100


# ------------------------------------------------------------------ bad input: error messages
def _job_with(world: Path, folder: Path, **changes) -> Path:
    """A copy of the world's job in ``folder`` with absolute paths and ``changes`` to sources by name."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load((world / "job.yaml").read_text())
    raw["sources"] = [{**s, "path": str(world / s["path"]), **changes.get(s["name"], {})} for s in raw["sources"]]
    for key in ("postcode_lookup", "cme_cases"):
        raw[key] = str(world / raw[key])
    raw.update(changes.get("job", {}))
    raw.setdefault("linkage", {})["workspace"] = str(folder / "ws")
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _without_header(world: Path, target: Path, name: str = "education.csv") -> Path:
    lines = (world / name).read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(lines[1:]))
    return target


@pytest.fixture(scope="module")
def bad_runs(world, people, runs, tmp_path_factory) -> dict[str, Run]:
    """Runs on bad input or with bad arguments, each ending in an error message."""
    tmp = tmp_path_factory.mktemp("bad")
    job = str(world / "job.yaml")
    headerless = _without_header(world, tmp / "headerless.csv")
    # Headerless, and its first row names the same person twice (the carer's surname is the child's).
    education = read_source({"path": "education.csv"}, world).fillna("")
    twice = education[education.surname == education.carer_surname].index[0]
    lines = headerless.read_bytes().splitlines(keepends=True)
    (tmp / "headerless_twice.csv").write_bytes(b"".join([lines[twice], *lines[:twice], *lines[twice + 1:]]))
    # The social care file's first data row becomes its header: named columns, yet values in it.
    care = (world / "social_care.csv").read_bytes().splitlines(keepends=True)
    (tmp / "care_data_header.csv").write_bytes(b"".join(care[1:]))
    lookup_rows = "".join(f"{pc},330\n" for pc in sorted(set(read_source({"path": "education.csv"}, world)
                                                             ["postcode"].dropna()))[:5])
    (tmp / "lookup_headerless.csv").write_text(lookup_rows)
    (tmp / "cases_broken.csv").write_text("case_id,source,record_id,referral_date\n"
                                          f'CME1,education,"{people["forename"]} {people["surname"]},{people["dob"]}\n')
    (tmp / "truth_headerless.csv").write_text(
        "".join((world / "truth.csv").read_text().splitlines(keepends=True)[1:]))
    out = {
        "headerless source": run_cli(["validate", str(_job_with(world, tmp / "j1", education={
            "path": str(headerless)}))], expect=2),
        "headerless source, a name twice in its first row": run_cli(["validate", str(_job_with(
            world, tmp / "j0", education={"path": str(tmp / "headerless_twice.csv")}))], expect=2),
        "headerless source, mapped": run_cli(["validate", str(_job_with(world, tmp / "j2", education={
            "path": str(headerless), "columns": {"forename": "Forename"}}))], expect=2),
        "data row as header": run_cli(["validate", str(_job_with(world, tmp / "j3", social_care={
            "path": str(tmp / "care_data_header.csv")}))], expect=2),
        "headerless postcode lookup": run_cli(["validate", str(_job_with(world, tmp / "j4", job={
            "postcode_lookup": str(tmp / "lookup_headerless.csv")}))], expect=2),
        "broken CME cases": run_cli(["trace", str(_job_with(world, tmp / "j5", job={
            "cme_cases": str(tmp / "cases_broken.csv")})), "--out", str(tmp / "trace"),
            "--run", str(world / "run")], expect=2),
        # Not an error: the dates are flagged unreadable and counted in the summary, which is scanned.
        "date format that does not fit": run_cli(["validate", str(_job_with(world, tmp / "j6", social_care={
            "date_format": "%Y-%m-%d"}))], expect=0),
        "headerless truth": run_cli(["evaluate", job, "--run", str(world / "run"), "--truth",
                                     str(tmp / "truth_headerless.csv")], expect=2),
        "find: not a date": run_cli(["find", job, "--forename", people["forename"], "--surname", people["surname"],
                                     "--dob", people["dob"] + "x"], expect=2),
        "find: day-first impossible date": run_cli(
            ["find", job, "--forename", people["forename"], "--surname", people["surname"],
             "--dob", "31/02/" + people["dob"][:4]], expect=2),
        "ids history: a UPN for a child_id": run_cli(["ids", "history", job, people["upn"]], expect=2),
        "ids history: a name for a child_id": run_cli(["ids", "history", job, people["surname"]], expect=2),
    }
    return out


BAD = ["headerless source", "headerless source, a name twice in its first row", "headerless source, mapped", "data row as header", "headerless postcode lookup",
       "broken CME cases", "date format that does not fit", "headerless truth", "find: not a date",
       "find: day-first impossible date", "ids history: a UPN for a child_id", "ids history: a name for a child_id"]


@pytest.mark.parametrize("case", BAD)
def test_error_messages_carry_no_personal_data(bad_runs, needles, case):
    run = bad_runs[case]
    assert "Traceback" not in run.text
    assert needles.found_in(run.text) == [], f"{case}: the message leaks personal data"


def test_bad_input_runs_do_fail_with_a_message(bad_runs):
    """Each bad run said what was wrong (so the scan above read a real error message)."""
    failed = [case for case, run in bad_runs.items() if run.exit_code != 0]
    assert len(failed) == len(BAD) - 1
    assert all("error:" in bad_runs[case].text for case in failed)


# ------------------------------------------------------------------ child_ids
def test_child_ids_are_minted_from_a_counter_not_from_the_child(world, runs, needles):
    """Each child_id is ``mint(key, serial)`` with the key derived from the LA code and seed alone,
    so it carries nothing of the child; and none looks like a date of birth, NHS number or UPN."""
    job = load_job(world / "job.yaml")
    ids = pd.read_csv(world / "run" / "identities.csv", dtype=str)["child_id"].unique()
    assert all(CHILD_ID.fullmatch(i) for i in ids)
    con = duckdb.connect(str(Path(job.workspace_dir) / "workspace.duckdb"), read_only=True)
    key = con.execute("select value from meta where key = 'id_key'").fetchall()[0][0]
    serials = dict(con.execute("select child_id, serial from id_registry").fetchall())
    con.close()
    assert key == id_key(job.home_la, job.linkage.seed)
    assert all(mint_one(key, serials[i]) == i for i in ids)
    assert needles.found_in(" ".join(ids)) == []
    identifiers = needles.nhs_numbers | needles.upns | {d.strftime(f) for d in needles.dobs
                                                         for f in ("%Y%m%d", "%d%m%Y")}
    assert not any(i[1:] in identifiers or i in identifiers for i in ids)


# ------------------------------------------------------------------ the review server's access log
@pytest.fixture(scope="module")
def served(world, runs, people, needles):
    """``childlink --verbose review serve`` in its own process; requests, some with personal data in
    the address or form; its stderr (the access log and the review log) once it has stopped."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHILDLINK_REVIEW_PASSWORD": "correct horse battery"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--verbose", "review", "serve",
                             str(world / "job.yaml"), "--run", str(world / "run"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        url = None
        for line in proc.stdout:
            if line.strip().startswith("http://"):
                url = line.strip()
                break
        assert url, "the review server did not start"
        base, token = url.split("/?token=")
        pii = {"forename": people["forename"], "surname": people["surname"], "dob": people["dob"],
               "postcode": people["postcode"], "upn": people["upn"]}
        nhs = sorted(needles.nhs_numbers)[0]
        responses = []
        with httpx.Client(base_url=base) as client:
            responses.append(client.get(f"/?token={token}"))                       # opens a session
            responses.append(client.post("/name", data={"reviewer": "Officer", "csrf": "wrong", **pii}))
            form = client.get("/name")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            responses += [form, client.post("/name", data={"reviewer": "Officer", "csrf": csrf})]
            responses.append(client.get("/queue", params={**pii, "status": "all"}))
            responses.append(client.get("/pair/1", params={"source_pair": people["surname"], "q": people["dob"]}))
            responses.append(client.get(f"/pair/{nhs}"))
            responses.append(client.get(f"/pair/{people['surname']}"))
            responses.append(client.get(f"/{people['forename']}/{people['dob']}/{people['postcode']}"))
            responses.append(client.get(f"/static/{people['surname']}.css"))
            responses.append(client.get("/login", params={"next": f"/pair/1?{people['surname']}"}))
        with httpx.Client(base_url=base) as stranger:
            responses.append(stranger.get(f"/queue?token=wrong-{people['surname']}"))
            responses.append(stranger.post("/login", data={"code": "correct horse battery",
                                                           "reviewer": people["surname"]}))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    return {"stderr": stderr, "token": token, "responses": responses, "pii": pii}


def test_the_access_log_names_routes_never_query_strings_tokens_or_people(served, needles):
    log = served["stderr"]
    access = [line for line in log.splitlines() if "childlink.review.access" in line]
    assert len(access) >= len(served["responses"]), log[-3000:]
    assert any("GET /pair/1 200" in line for line in access)
    assert any("(no such page) 404" in line for line in access)
    assert served["token"] not in log and "correct horse" not in log and "?" not in "".join(access)
    assert needles.found_in(log) == []
    assert not [v for v in served["pii"].values() if v.lower() in log.lower()]

"""Progress, phase timings, the summary line and --quiet on every long command (issue 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from linkage.evaluate.run import evaluate_run
from linkage.job import load_job
from linkage.link import link
from linkage.prepare import validate
from linkage.progress import PhaseTimer, format_timings, peak_memory_mb, summary_line, within
from linkage.review.store import DecisionStore, PairKey
from linkage.workspace import open_workspace

CHILDREN, SEED = 300, 4
BAR = "━"                       # what rich draws a bar with
TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "120"}   # rich draws into CliRunner's stderr as on a terminal
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")   # the cursor moves rich makes to redraw its bar
SUMMARY = re.compile(r"^(?P<what>.+) in (?P<seconds>\d+\.\d) s, peak memory (?P<mb>[\d,]+) MB$", re.MULTILINE)
LONG_COMMANDS = [["validate"], ["blocking"], ["train"], ["link"], ["trace"], ["evaluate", "run"],
                 ["evaluate", "nhs-adoption"], ["sample", "generate"], ["review", "export"]]


def run(*args: str, quiet: bool = False):
    """The command through click, with rich believing stderr is a terminal."""
    result = CliRunner(env=TERMINAL).invoke(main, [*args, *(["--quiet"] if quiet else [])])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, dict]:
    """A world made by `sample generate` and linked by `link` into run/ (both without --quiet),
    with one review decision in its workspace. Also the two commands' results."""
    folder = tmp_path_factory.mktemp("progress") / "world"
    generated = run("sample", "generate", "--children", str(CHILDREN), "--seed", str(SEED), "--out", str(folder))
    linked = run("link", str(folder / "job.yaml"), "--out", str(folder / "run"), "--chunks", "2")
    ids = pd.read_parquet(folder / "run" / "identities.parquet")
    a, b = ids.iloc[0], ids.iloc[1]
    DecisionStore.for_job(load_job(folder / "job.yaml")).decide(
        PairKey.of(a.source, a.record_id, b.source, b.record_id), "different", seen_version=0, reviewer="Ann")
    return folder, {"sample generate": generated, "link": linked}


def summary_of(stderr: str) -> re.Match:
    found = list(SUMMARY.finditer(stderr))
    assert len(found) == 1, stderr
    assert float(found[0]["seconds"]) >= 0 and 10 <= int(found[0]["mb"].replace(",", "")) < 24_000
    return found[0]


def assert_reported_and_summarised(result, phases: list[str], what: str) -> None:
    """Without --quiet: a bar was drawn, every phase is timed in order, the summary line has the figures."""
    assert BAR in result.stderr
    stderr = ESCAPES.sub("", result.stderr)
    timings = [line for line in stderr.splitlines() if line.startswith("phase timings: ")]
    assert len(timings) == 1, stderr
    named = re.findall(r"(?:: |, )(.+?) \d+\.\d s", timings[0])
    assert named == phases
    assert summary_of(stderr)["what"] == what
    assert "phase timings" not in result.stdout and not SUMMARY.search(result.stdout)   # stdout stays the result


def assert_quiet(result, what: str) -> None:
    """--quiet: no bar and no timings; the summary line remains."""
    assert BAR not in result.stderr and "phase timings" not in result.stderr
    assert summary_of(result.stderr)["what"] == what


def well_formed(events: list[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    """Events by phase, checked against the protocol: done never goes down, the last has done == total > 0."""
    by_phase: dict[str, list[tuple[int, int]]] = {}
    for phase, done, total in events:
        by_phase.setdefault(phase, []).append((done, total))
    for phase, reports in by_phase.items():
        dones = [done for done, _ in reports]
        assert dones == sorted(dones), (phase, reports)
        assert all(0 <= done <= total for done, total in reports if total), (phase, reports)
        assert reports[-1][0] == reports[-1][1] > 0, (phase, reports)
    return by_phase


# --- the library side ---------------------------------------------------------------------------------------

def test_phase_timer_reports_start_and_end_and_times_each_phase_in_order():
    events = []
    timer = PhaseTimer(lambda *e: events.append(e))
    timer.start("read")
    timer.start("score")
    count = timer.counter("score")
    for done in (1, 2, 3):
        count(done, 3)
    timer.stop()
    with timer.phase("write"):
        pass
    assert events == [("read", 0, 0), ("read", 1, 1), ("score", 0, 0), ("score", 1, 3), ("score", 2, 3),
                      ("score", 3, 3), ("score", 3, 3), ("write", 0, 0), ("write", 1, 1)]
    assert list(timer.timings) == ["read", "score", "write"] and all(s >= 0 for s in timer.timings.values())
    assert PhaseTimer().counter("score") is None   # nobody listens: scoring skips its reports


def test_a_phase_that_fails_is_not_reported_finished():
    events = []
    timer = PhaseTimer(lambda *e: events.append(e))
    with pytest.raises(ValueError), timer.phase("train"):
        raise ValueError
    assert events == [("train", 0, 0)] and timer.timings == {}


def test_observing_reports_times_phases_lists_outer_phases_first_and_passes_reports_on():
    seen = []
    observer = PhaseTimer(lambda *e: seen.append(e))
    outer = PhaseTimer(observer)
    outer.start("link")
    inner = PhaseTimer(within(observer, "link"))
    with inner.phase("score"):
        pass
    outer.stop()
    observer("source value", 0, 2)
    observer("source value", 2, 2)
    assert list(observer.timings) == ["link", "link: score", "source value"]
    assert observer.timings["link"] >= observer.timings["link: score"]
    assert seen[:3] == [("link", 0, 0), ("link: score", 0, 0), ("link: score", 1, 1)]
    well_formed(seen)


def test_summary_line_and_timings_are_counts_and_seconds_only():
    assert format_timings({"read": 1.234, "score": 0.05}) == "phase timings: read 1.2 s, score 0.1 s"
    line = summary_line("linked 9,955 records into 2,012 identities", 1.64)
    assert line.startswith("linked 9,955 records into 2,012 identities in 1.6 s, peak memory ")
    assert 10 < peak_memory_mb() < 24_000   # this process, in MB (getrusage counts KB on Linux)


def test_link_reports_every_phase_and_counts_scoring_chunks_up_to_the_total(world, tmp_path):
    folder, _ = world
    events = []
    result = link(load_job(folder / "job.yaml"), tmp_path / "run", chunks=3, write_report=False,
                  progress=lambda *e: events.append(e))
    by_phase = well_formed(events)
    assert list(by_phase) == list(result.timings) == ["read and standardise", "score", "cluster",
                                                      "identifiers and workspace", "write outputs"]
    assert by_phase["score"][-1] == (9, 9) and len({d for d, _ in by_phase["score"]}) == 10   # 0 and 3 x 3 blocks


def test_validate_and_evaluate_report_their_phases(world, tmp_path):
    folder, _ = world
    events = []
    validate(load_job(folder / "job.yaml"), open_workspace(), tmp_path, progress=lambda *e: events.append(e))
    evaluate_run(folder / "run", folder / "truth.csv", reference_date=load_job(folder / "job.yaml").reference_date,
                 progress=lambda *e: events.append(e))
    assert list(well_formed(events)) == ["read sources", "standardise", "read CME cases and postcode lookup",
                                         "quality summary", "write rejects and quality", "score against truth",
                                         "write outputs"]


# --- the command line ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", LONG_COMMANDS, ids=" ".join)
def test_every_long_command_takes_quiet(command):
    assert "--quiet" in CliRunner().invoke(main, [*command, "--help"]).output


def test_sample_generate_and_link_report_progress_timings_and_the_summary(world):
    folder, results = world
    generated = results["sample generate"]
    rows = sum(int(n) for n in re.findall(r"(?:: |, )[a-z_]+ (\d+)", generated.stdout.split(";")[0]))
    assert_reported_and_summarised(
        generated, ["build world", "write files", "truth files", "truth files: read sources",
                    "truth files: standardise", "truth files: read CME cases and postcode lookup"],
        f"generated {CHILDREN} children and {rows:,} records")
    ids = pd.read_csv(folder / "run" / "identities.csv")
    assert_reported_and_summarised(
        results["link"], ["read and standardise", "score", "cluster", "identifiers and workspace", "write outputs",
                          "report"],
        f"linked {len(ids):,} records into {ids['child_id'].nunique():,} identities")


def test_link_quiet(world, tmp_path):
    folder, _ = world
    result = run("link", str(folder / "job.yaml"), "--out", str(tmp_path / "run"), quiet=True)
    ids = pd.read_csv(tmp_path / "run" / "identities.csv")
    assert_quiet(result, f"linked {len(ids):,} records into {ids['child_id'].nunique():,} identities")


@pytest.mark.parametrize("quiet", [False, True], ids=["progress", "quiet"])
def test_validate(world, tmp_path, quiet):
    folder, _ = world
    result = run("validate", str(folder / "job.yaml"), "--out", str(tmp_path), quiet=quiet)
    quality = pd.read_csv(tmp_path / "quality.csv")
    records, sources = quality.loc[quality["measure"] == "records", "value"].astype(int), quality["source"].nunique()
    what = f"validated {records.sum():,} records from {sources} source(s)"
    if quiet:
        assert_quiet(result, what)
    else:
        assert_reported_and_summarised(result, ["read sources", "standardise", "read CME cases and postcode lookup",
                                                "quality summary", "write rejects and quality"], what)


@pytest.mark.parametrize("quiet", [False, True], ids=["progress", "quiet"])
def test_evaluate(world, quiet):
    folder, _ = world
    result = run("evaluate", str(folder / "job.yaml"), "--run", str(folder / "run"), "--truth",
                 str(folder / "truth.csv"), quiet=quiet)
    assert "pairwise   precision" in result.stdout
    if quiet:
        assert_quiet(result, "evaluated the run against the truth")
    else:
        assert_reported_and_summarised(result, ["score against truth", "write outputs"],
                                       "evaluated the run against the truth")


@pytest.mark.parametrize("quiet", [False, True], ids=["progress", "quiet"])
def test_review_export(world, tmp_path, quiet):
    folder, _ = world
    result = run("review", "export", str(folder / "job.yaml"), "--out", str(tmp_path / "labels.csv"),
                 "--truth-out", str(tmp_path / "truth.csv"), quiet=quiet)
    what = f"exported {len(pd.read_csv(tmp_path / 'labels.csv'))} decided pair(s)"
    assert what == "exported 1 decided pair(s)"
    if quiet:
        assert_quiet(result, what)
    else:
        assert_reported_and_summarised(result, ["read decisions", "write labels", "write truth"], what)


def test_trace_reports_the_phases_of_reading_the_run(world, tmp_path):
    folder, _ = world
    result = run("trace", str(folder / "job.yaml"), "--out", str(tmp_path), "--run", str(folder / "run"))
    cases, missing = pd.read_csv(tmp_path / "cme_trace.csv"), pd.read_csv(tmp_path / "not_in_education.csv")
    assert_reported_and_summarised(
        result, ["read sources and run", "read sources and run: read sources", "read sources and run: standardise",
                 "read sources and run: read CME cases and postcode lookup", "trace", "write outputs"],
        f"traced {len(cases):,} CME case(s) and found {len(missing):,} child(ren) not in education")


def test_blocking(world):
    folder, _ = world
    result = run("blocking", str(folder / "job.yaml"))
    pairs_so_far = int(result.stdout.strip().splitlines()[-1].split()[-2])
    rules = len(result.stdout.strip().splitlines()) - 1
    assert_reported_and_summarised(result, ["read sources", "standardise", "read CME cases and postcode lookup",
                                            "model input", "count pairs per rule"],
                                   f"counted {pairs_so_far:,} pairs from {rules} blocking rule(s)")


@pytest.mark.slow
def test_train(world, tmp_path):
    folder, _ = world
    result = run("train", str(folder / "job.yaml"), "--out", str(tmp_path / "model.json"), quiet=True)
    assert_quiet(result, "trained a model (unsupervised)")
    result = run("train", str(folder / "job.yaml"), "--out", str(tmp_path / "model.json"))
    assert_reported_and_summarised(result, ["read sources", "standardise", "read CME cases and postcode lookup",
                                            "model input", "train", "save model"], "trained a model (unsupervised)")


@pytest.mark.slow
def test_nhs_adoption(world, tmp_path):
    folder, _ = world
    result = run("evaluate", "nhs-adoption", str(folder / "job.yaml"), "--truth", str(folder / "truth.csv"),
                 "--out", str(tmp_path), "--coverage", "1", "--seeds", "1", "--no-source-value")
    assert_reported_and_summarised(result, ["prepare and probabilistic run", "NHS-number what-if", "write outputs"],
                                   "evaluated 3 strategy runs on 1 masked copies")

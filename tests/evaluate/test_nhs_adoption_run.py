"""`childlink evaluate nhs-adoption` end to end on a small world, and `evaluate JOB --run` as before."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from linkage.evaluate.nhs_masking import share_count, write_job_copy
from linkage.evaluate.source_value import ALL_SOURCES, source_marginal_value
from linkage.job import load_job
from nhs_test_world import make_world

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def what_if(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nhs_what_if")
    job = make_world(folder / "world")
    out = folder / "out"
    result = CliRunner().invoke(main, [
        "evaluate", "nhs-adoption", str(job), "--truth", str(folder / "world" / "truth.csv"), "--out", str(out),
        "--coverage", "0,1", "--seeds", "1,2", "--sources", "education,council_tax", "--error-rate", "0.1",
        "--no-source-value", "--quiet"])
    assert result.exit_code == 0, result.output
    return dict(folder=folder, job=job, out=out, output=result.output,
                runs=pd.read_csv(out / "nhs_adoption.csv"), masking=pd.read_csv(out / "nhs_adoption_masking.csv"))


def test_writes_the_report_and_tables_and_removes_the_masked_copies(what_if):
    out = what_if["out"]
    assert {p.name for p in out.iterdir()} == {"nhs_adoption.csv", "nhs_adoption_masking.csv", "nhs_adoption.html"}
    runs = what_if["runs"]
    assert len(runs) == 2 * 2 * 3
    assert set(runs["strategy"]) == {"deterministic", "probabilistic", "hybrid"}
    for column in ("precision", "recall", "f1", "exactly_reconstructed", "cme_trace_accuracy",
                   "not_in_education_found", "recall_english"):
        assert runs[column].between(0, 1).all(), column
    assert "Matching on the NHS number alone finds" in what_if["output"]


def test_the_three_strategies_are_computed_on_identical_inputs(what_if):
    runs = what_if["runs"]
    per_level = runs.groupby(["seed", "coverage"])
    assert (per_level["inputs_fingerprint"].nunique() == 1).all()          # same records, same values
    models_and_numbers = runs[runs["strategy"] != "probabilistic"].groupby(["seed", "coverage"])
    assert (models_and_numbers["nhs_fingerprint"].nunique() == 1).all()    # same NHS numbers
    assert (runs.loc[runs["strategy"] == "probabilistic", "nhs_numbers_seen"] == 0).all()
    hybrid = runs[runs["strategy"] == "hybrid"].set_index(["seed", "coverage"])["nhs_numbers_seen"]
    assert (hybrid.xs(1.0, level="coverage") > hybrid.xs(0.0, level="coverage")).all()
    # the seeds draw different records at full coverage with errors: different NHS numbers
    full = runs[(runs["strategy"] == "hybrid") & (runs["coverage"] == 1.0)]
    assert full["nhs_fingerprint"].nunique() == 2


def test_masking_gives_the_exact_shares_and_error_counts(what_if):
    m = what_if["masking"]
    assert len(m) == 2 * 2 * 2
    assert (m["covered"] == [share_count(c, e) for c, e in zip(m["coverage"], m["eligible"])]).all()
    assert (m["mistyped"] == [share_count(0.1, n) for n in m["covered"]]).all()
    assert (m["undetected"] == 0).all()
    assert (m.loc[m["coverage"] == 1.0, "covered"] > 0).all() and (m.loc[m["coverage"] == 0, "covered"] == 0).all()


def test_more_coverage_helps_nhs_numbers_alone_and_mistypes_never_merge_children(what_if):
    runs = what_if["runs"]
    det = runs[runs["strategy"] == "deterministic"].groupby("coverage")[["recall", "cme_trace_accuracy"]].mean()
    assert det.loc[1.0, "recall"] > det.loc[0.0, "recall"]
    assert det.loc[1.0, "cme_trace_accuracy"] > det.loc[0.0, "cme_trace_accuracy"]
    assert (runs.loc[runs["strategy"] == "deterministic", "nhs_linked_precision"] == 1.0).all()


def test_the_report_is_self_contained_and_carries_no_identifiers(what_if):
    html = (what_if["out"] / "nhs_adoption.html").read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html
    assert "Matching on the NHS number alone finds" in html and "The table behind the charts" in html
    gp = pd.read_parquet(what_if["folder"] / "world" / "gp.parquet")
    numbers = set(gp["nhs_number"].dropna().astype(str))
    written = html + what_if["output"] + (what_if["out"] / "nhs_adoption.csv").read_text()
    assert not numbers & set(re.findall(r"\d{10}", written))


def test_source_value_is_trace_accuracy_lost_without_each_source(what_if, tmp_path):
    world = what_if["folder"] / "world"
    job = load_job(world / "job.yaml")
    small = write_job_copy(job, {s.name: s.path for s in job.sources if s.name in ("education", "gp", "border")},
                           tmp_path / "job.yaml")
    table = source_marginal_value(load_job(small), world / "truth.csv", tmp_path / "work").set_index("dropped")
    assert list(table.index) == [ALL_SOURCES, "education", "gp", "border"]
    assert "CME case records" in table.loc["education", "note"] and pd.isna(table.loc["education", "accuracy_lost"])
    everything = table.loc[ALL_SOURCES, "cme_trace_accuracy"]
    for source in ("gp", "border"):
        assert table.loc[source, "accuracy_lost"] == pytest.approx(everything - table.loc[source, "cme_trace_accuracy"])
    assert table["accuracy_lost"].max() > 0          # the cases' destinations need the other sources' evidence


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_the_report_charts_render_offline(what_if, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=8000"]
    page = what_if["out"] / "nhs_adoption.html"
    dom = subprocess.run([CHROMIUM, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          page.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    charts = re.findall(r'id="chart\d+"', dom)
    assert len(charts) == 2 and dom.count('class="marks"') == 2
    assert "Error loading" not in dom and "Javascript Error" not in dom


def test_evaluate_still_takes_a_link_run_directly(what_if, tmp_path):
    world = what_if["folder"] / "world"
    runner = CliRunner()
    assert runner.invoke(main, ["link", str(world / "job.yaml"), "--out", str(tmp_path / "run"), "--quiet"]).exit_code == 0
    args = [str(world / "job.yaml"), "--run", str(tmp_path / "run"), "--truth", str(world / "truth.csv")]
    plain = runner.invoke(main, ["evaluate", *args])
    assert plain.exit_code == 0, plain.output
    assert "pairwise   precision" in plain.output
    options_first = runner.invoke(main, ["evaluate", "--run", str(tmp_path / "run"), "--truth",
                                         str(world / "truth.csv"), str(world / "job.yaml")])
    named = runner.invoke(main, ["evaluate", "run", *args])
    assert options_first.output == named.output == plain.output


@pytest.mark.parametrize("extra, message", [
    (["--coverage", "0,1.5"], "coverage levels are shares between 0 and 1"),
    (["--sources", "school"], "no source named 'school'"),
    (["--coverage", "half"], "comma-separated list"),
])
def test_bad_settings_are_one_clear_line(what_if, tmp_path, extra, message):
    world = what_if["folder"] / "world"
    result = CliRunner().invoke(main, ["evaluate", "nhs-adoption", str(world / "job.yaml"), "--truth",
                                       str(world / "truth.csv"), "--out", str(tmp_path / "o"), "--quiet", *extra])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output

"""The benchmark runner's bookkeeping and chart, and the automatic choice of scoring chunks."""

from __future__ import annotations

import csv
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from linkage.score import MAX_CHUNKS, RECORDS_PER_CHUNK, auto_chunks

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    """A benchmarks/ script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


chart, run = _load("chart"), _load("run")


def test_auto_chunks_grow_with_records_and_stay_bounded():
    assert auto_chunks(0) == 1
    assert auto_chunks(RECORDS_PER_CHUNK) == 1
    assert auto_chunks(RECORDS_PER_CHUNK + 1) == 2
    assert auto_chunks(1_282_240) == 1 and auto_chunks(5_128_459) == 4    # the 250k and 1M worlds
    assert auto_chunks(10**12) == MAX_CHUNKS


def _figures(phase, seconds, peak, **more):
    return {"phase": phase, "wall_seconds": seconds, "peak_rss_mb": peak, **more}


def test_link_rows_give_pairs_per_second_for_the_scoring_step_only():
    figures = _figures("link", 10.0, 900.0, pairs=4000, steps={"read and standardise": 1.0, "score": 2.0})
    rows = run.rows_for(figures, children=100, records=500, backend="duckdb", run_at="t")
    assert [r["step"] for r in rows] == ["", "read and standardise", "score"]
    assert rows[0]["seconds"] == 10.0 and rows[0]["peak_rss_mb"] == 900
    assert rows[2]["pairs_per_second"] == 2000
    assert rows[1]["pairs_per_second"] == "" and rows[0]["pairs_per_second"] == ""


def _rows(children, backend="duckdb", seconds=1.0):
    figures = [_figures(p, seconds * (i + 1), 100.0 * children / 1000) for i, p in enumerate(run.PHASES)]
    rows = [r for f in figures for r in run.rows_for(f, children=children, records=children * 5, backend=backend,
                                                      run_at="t")]
    return rows + [{**rows[0], "phase": "end to end", "seconds": 10 * seconds}]


def _read(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_results_of_a_size_are_replaced_and_other_sizes_kept(tmp_path):
    path = tmp_path / "results.csv"
    run.write_results(_rows(10_000) + _rows(1_000), path, replace=True)
    run.write_results(_rows(10_000, seconds=3.0), path, replace=False)
    rows = _read(path)
    assert [int(r["children"]) for r in rows] == sorted(int(r["children"]) for r in rows)   # ordered by size
    ten_k = [r for r in rows if r["children"] == "10000"]
    assert len(ten_k) == len(_rows(10_000))                     # replaced, not appended
    assert {float(r["seconds"]) for r in ten_k if r["phase"] == "end to end"} == {30.0}
    assert any(r["children"] == "1000" for r in rows)


def test_the_chart_draws_one_line_per_phase_through_every_size(tmp_path):
    path = tmp_path / "results.csv"
    run.write_results(_rows(1_000) + _rows(10_000) + _rows(100_000), path, replace=True)
    svg = ET.parse(chart.write_chart(path, tmp_path / "chart.svg")).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    lines = [p for p in svg.iter(f"{ns}path")]
    assert len(lines) == 2 * len(chart.SERIES)                  # time and memory panels
    assert all(p.get("d").count("L") == 2 for p in lines)       # three sizes: a start and two segments
    assert len(list(svg.iter(f"{ns}circle"))) == 2 * len(chart.SERIES) * 3


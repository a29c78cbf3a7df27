"""The summary over seeds and the plain-English reading are computed from the numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.evaluate.nhs_reading import coverage_reaching_bar, plain_english
from linkage.evaluate.nhs_summary import summarise

COVERAGE = (0.0, 0.5, 0.75, 1.0)
CONTEXT = {"population": "children's records", "records": 1000, "without_number_at_full_coverage": 300,
           "share_without_number": 0.3, "sources_never_numbered": ["border"], "chosen_sources": ["education"],
           "error_rate": 0.02, "undetected_share": 0.0, "numbers": "truth"}


def runs(deterministic_recall, hybrid_recall=(0.97, 0.975, 0.98, 0.99)) -> pd.DataFrame:
    """Two seeds per level; seed 2 is seed 1 minus 0.02 so the spread is known."""
    rows = []
    for seed, shift in ((1, 0.0), (2, -0.02)):
        for i, c in enumerate(COVERAGE):
            for strategy, recall, trace in (("deterministic", deterministic_recall[i], 0.5 + 0.1 * i),
                                            ("probabilistic", 0.96, 0.9), ("hybrid", hybrid_recall[i], 0.95)):
                rows.append({"seed": seed, "coverage": c, "strategy": strategy, "recall": recall + shift,
                             "precision": 0.99, "cme_trace_accuracy": trace, "not_in_education_found": 0.8,
                             "not_in_education_precision": 0.3 if strategy == "deterministic" else 0.9,
                             "recall_english": recall})
    return pd.DataFrame(rows)


def test_summary_gives_mean_and_spread_over_seeds_in_strategy_order():
    s = summarise(runs((0.2, 0.6, 0.9, 0.97)))
    row = s[(s["strategy"] == "deterministic") & (s["coverage"] == 0.5) & (s["measure"] == "recall")].iloc[0]
    assert row["mean"] == pytest.approx(0.59) and row["low"] == pytest.approx(0.58)
    assert row["high"] == pytest.approx(0.6) and row["seeds"] == 2
    assert list(dict.fromkeys(s["strategy"])) == ["deterministic", "probabilistic", "hybrid"]
    assert "recall_english" in set(s["measure"])


def test_reading_names_the_coverage_where_nhs_numbers_alone_reach_the_bar():
    s = summarise(runs((0.2, 0.6, 0.965, 0.98)))
    assert coverage_reaching_bar(s, "deterministic") == 0.75
    text = plain_english(s, None, CONTEXT)
    assert "reaches the 95% matching bar from 75% coverage" in text
    assert "suffices only once 75% of records carry a number" in text
    assert "2.0% of them mistyped" in text and "1,000 children's records" in text
    assert ("found at 100% coverage: hybrid 80.0% (of the children it lists, 90.0% truly are), "
            "NHS number alone 80.0% (of the children it lists, 30.0% truly are)") in text
    assert "deterministic 50.0% to 80.0%, probabilistic 90.0%, hybrid 95.0%" in text


def test_reading_says_when_nhs_numbers_alone_never_reach_the_bar_and_why():
    s = summarise(runs((0.1, 0.3, 0.45, 0.6)))
    assert coverage_reaching_bar(s, "deterministic") is None
    text = plain_english(s, None, CONTEXT)
    assert "never reaches the 95% matching bar" in text
    assert "30.0% of children's records carry no NHS number, all of border among them" in text
    assert "does not suffice" in text
    assert "hybrid finds 39.0 points more" in text        # 0.98 - 0.59 at full coverage (means over seeds)


def test_a_dip_below_the_bar_at_a_higher_coverage_is_not_reaching_it():
    s = summarise(runs((0.2, 0.97, 0.9, 0.97)))
    assert coverage_reaching_bar(s, "deterministic") == 1.0


def test_reading_ranks_the_sources_by_what_losing_them_costs():
    sources = pd.DataFrame({
        "dropped": ["(none: all sources)", "education", "gp", "council_tax", "border"],
        "source_type": ["", "education", "gp", "council_tax", "border"],
        "cme_trace_accuracy": [0.9, None, 0.6, 0.85, 0.7], "not_in_education_found": [0.95, None, 0.5, 0.9, 0.94],
        "accuracy_lost": [0.0, None, 0.3, 0.05, 0.2], "found_lost": [0.0, None, 0.45, 0.05, 0.01],
        "note": ["", "holds the CME case records, so it cannot be dropped", "", "", ""]})
    text = plain_english(summarise(runs((0.1, 0.3, 0.45, 0.6))), sources, CONTEXT)
    assert "losing gp costs CME tracing most (30.0 points of accuracy, 45.0 points" in text
    assert "(Border Force and council tax data) the loss is council_tax 5.0 and border 20.0 points" in text

"""The plain-English reading of the NHS-number what-if, written from its numbers.

Every sentence is computed from the summary (means over seeds), the full-coverage context and the
source-value table; nothing is canned but the wording. The 95% matching bar is read as pairwise
recall and precision both at least 95% (true links found, links made that are true), the level
child-protection information sharing asks for before go-live.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

MATCHING_BAR = 0.95
OFTEN_LACKING_FILE = Path(__file__).parent / "data" / "often_lacking_checks.csv"


@lru_cache(maxsize=1)
def often_lacking() -> dict[str, str]:
    """Source types the Children's Commissioner found LAs most often lack as CME checks -> plain label."""
    table = pd.read_csv(OFTEN_LACKING_FILE, dtype=str)
    return dict(zip(table["source_type"], table["label"]))


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _cov(coverage: float) -> str:
    """A coverage level as the user typed it (0.95 -> 95%)."""
    return f"{coverage:.0%}" if round(coverage * 100, 6).is_integer() else f"{coverage:.1%}"


def mean_of(summary: pd.DataFrame, strategy: str, measure: str) -> pd.Series:
    """Mean over seeds of ``measure`` for ``strategy``, indexed by coverage."""
    rows = summary[(summary["strategy"] == strategy) & (summary["measure"] == measure)]
    return rows.set_index("coverage")["mean"].sort_index()


def coverage_reaching_bar(summary: pd.DataFrame, strategy: str, bar: float = MATCHING_BAR) -> float | None:
    """The lowest coverage from which ``strategy``'s mean recall and precision stay at or above ``bar``."""
    meets = (mean_of(summary, strategy, "recall") >= bar) & (mean_of(summary, strategy, "precision") >= bar)
    reached = None
    for coverage, ok in zip(meets.index[::-1], meets.to_numpy()[::-1]):   # a handful of levels
        if not ok:
            break
        reached = float(coverage)
    return reached


def plain_english(summary: pd.DataFrame, sources: pd.DataFrame | None, context: dict) -> str:
    """One paragraph a pilot board can read: what coverage buys, per strategy, and what each source adds."""
    sentences = [_setting(summary, context), _deterministic(summary, context), _model(summary),
                 _tracing(summary), _verdict(summary)]
    if sources is not None:
        sentences.append(_source_value(sources))
    return " ".join(s for s in sentences if s)


def _setting(summary: pd.DataFrame, context: dict) -> str:
    seeds = int(summary["seeds"].max()) if len(summary) else 0
    errors = (f", {_pct(context['error_rate'])} of them mistyped" if context["error_rate"] else "")
    return (f"Measured over {seeds} random draw(s) of which records carry an NHS number in "
            f"{' and '.join(context['chosen_sources'])}{errors}, on {context['records']:,} {context['population']}.")


def _deterministic(summary: pd.DataFrame, context: dict) -> str:
    recall = mean_of(summary, "deterministic", "recall")
    low, high = recall.index.min(), recall.index.max()
    text = (f"Matching on the NHS number alone finds {_pct(recall[low])} of the true links between records "
            f"at {_cov(low)} coverage and {_pct(recall[high])} at {_cov(high)}")
    reached = coverage_reaching_bar(summary, "deterministic")
    if reached is not None:
        return text + f"; it reaches the {_cov(MATCHING_BAR)} matching bar from {_cov(reached)} coverage."
    missing = ""
    if context["share_without_number"] > 0:
        never = context["sources_never_numbered"]
        where = f", all of {' and '.join(never)} among them" if never else ""
        missing = (f": even at full coverage {_pct(context['share_without_number'])} of {context['population']} "
                   f"carry no NHS number{where}")
    return text + f", and never reaches the {_cov(MATCHING_BAR)} matching bar{missing}."


def _model(summary: pd.DataFrame) -> str:
    prob_r, prob_p = mean_of(summary, "probabilistic", "recall"), mean_of(summary, "probabilistic", "precision")
    hyb = mean_of(summary, "hybrid", "recall")
    low, high = hyb.index.min(), hyb.index.max()
    reached = coverage_reaching_bar(summary, "hybrid")
    bar = (f", meeting the bar from {_cov(reached)} coverage" if reached is not None
           else ", short of the bar at every coverage")
    return (f"The probabilistic model without NHS numbers finds {_pct(prob_r.iloc[-1])} at "
            f"{_pct(prob_p.iloc[-1])} precision; with the NHS number as evidence (hybrid) it finds "
            f"{_pct(hyb[low])} at {_cov(low)} coverage and {_pct(hyb[high])} at {_cov(high)}{bar}.")


def _tracing(summary: pd.DataFrame) -> str:
    parts = []
    for strategy in ("deterministic", "probabilistic", "hybrid"):
        acc = mean_of(summary, strategy, "cme_trace_accuracy")
        if acc.empty:
            continue
        low, high = acc.index.min(), acc.index.max()
        span = _pct(acc[low]) if abs(acc[high] - acc[low]) < 0.0005 else f"{_pct(acc[low])} to {_pct(acc[high])}"
        parts.append(f"{strategy} {span}")
    listed, top = [], _cov(float(summary["coverage"].max()))
    for strategy, label in (("hybrid", "hybrid"), ("deterministic", "NHS number alone")):
        found = mean_of(summary, strategy, "not_in_education_found")
        right = mean_of(summary, strategy, "not_in_education_precision")
        if not found.empty and not right.empty:
            listed.append(f"{label} {_pct(found.iloc[-1])} (of the children it lists, {_pct(right.iloc[-1])} truly are)")
    return (f"CME cases traced to the right destination, from the lowest to the highest coverage: "
            f"{', '.join(parts)}; children not in education found at {top} coverage: {', '.join(listed)}.")


def _verdict(summary: pd.DataFrame) -> str:
    det = coverage_reaching_bar(summary, "deterministic")
    gap = mean_of(summary, "hybrid", "recall").iloc[-1] - mean_of(summary, "deterministic", "recall").iloc[-1]
    if det is None:
        return (f"So a pure NHS-number match does not suffice: probabilistic matching is still needed for the "
                f"children who lack a number or whose number is mistyped (the hybrid finds "
                f"{gap * 100:.1f} points more of the true links at full coverage).")
    return (f"A pure NHS-number match suffices only once {_cov(det)} of records carry a number; below that, "
            f"probabilistic matching is still needed.")


def _source_value(sources: pd.DataFrame) -> str:
    measured = sources[sources["accuracy_lost"].notna() & (sources["source_type"] != "")]
    if measured.empty:
        return ""
    ranked = measured.sort_values(["accuracy_lost", "found_lost", "dropped"], ascending=[False, False, True])
    top = ranked.iloc[0]
    text = (f"Of the sources, losing {top['dropped']} costs CME tracing most "
            f"({top['accuracy_lost'] * 100:.1f} points of accuracy, {top['found_lost'] * 100:.1f} points of "
            f"not-in-education children found)")
    labels = often_lacking()
    lacking = measured[measured["source_type"].isin(list(labels))]
    if not lacking.empty:
        costs = " and ".join(f"{r.dropped} {r.accuracy_lost * 100:.1f}" for r in lacking.itertuples())
        names = " and ".join(sorted({labels[t] for t in lacking["source_type"]}))
        text += f"; for the checks LAs most often lack ({names} data) the loss is {costs} points of trace accuracy"
    return text + "."

"""nhs_adoption.html: what NHS-number coverage does to linkage and CME tracing, per strategy.

Self-contained (``linkage.report.page``): line charts of the mean over seeds with a band from the
lowest to the highest seed, the tables behind them, the plain-English reading, what each source
is worth to tracing, and how the copies were masked. Counts and shares only: no personal data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..evaluate.nhs_reading import MATCHING_BAR
from ..evaluate.nhs_strategies import STRATEGIES
from ..evaluate.nhs_summary import GROUP_PREFIX
from ..outputs import write_text
from .page import Page

LABELS = {"recall": "pairwise recall", "precision": "pairwise precision", "f1": "F1",
          "exactly_reconstructed": "children exactly reconstructed", "nhs_linked_precision": "precision, NHS-linked records",
          "nhs_linked_recall": "recall, NHS-linked records", "cme_trace_accuracy": "CME cases traced right",
          "known_to_social_care_accuracy": "known to social care right",
          "not_in_education_found": "not in education found", "not_in_education_precision": "not in education: listed right"}
STRATEGY_COLOURS = ["#d4351c", "#1d70b8", "#00703c"]     # deterministic, probabilistic, hybrid
TABLE_MEASURES = ("recall", "precision", "f1", "exactly_reconstructed", "nhs_linked_recall",
                  "cme_trace_accuracy", "not_in_education_found")


def coverage_chart(summary: pd.DataFrame, measure: str, *, zoom: bool = False, width: int = 380,
                   height: int = 240) -> dict:
    """A vega-lite layer: one line per strategy (mean over seeds) over a band from lowest to highest seed.

    ``zoom`` shows only the top of the scale, where the two model strategies sit close together
    (lines below it are clipped), so that their difference can be seen.
    """
    rows = summary[summary["measure"] == measure][["strategy", "coverage", "mean", "low", "high"]]
    label = title = LABELS.get(measure, measure.replace("_", " "))
    y_scale: dict = {"zero": False}
    if zoom:
        models = rows[rows["strategy"] != "deterministic"]
        floor = float(models["low"].min()) if len(models) else 0.9
        # from the 0.5% step below the lowest model value; a little headroom so points at 100% show whole
        y_scale = {"domain": [max(0.0, np.floor(floor * 200 - 1) / 200), 1.0015], "nice": False}
        title += " (top of the scale)"
    colour = {"field": "strategy", "type": "nominal", "title": "strategy", "legend": {"symbolType": "stroke", "symbolStrokeWidth": 3, "symbolOpacity": 1},
              "scale": {"domain": list(STRATEGIES), "range": STRATEGY_COLOURS}}
    return {
        "title": title, "width": width, "height": height,
        "data": {"values": json.loads(rows.to_json(orient="records"))},
        "encoding": {"x": {"field": "coverage", "type": "quantitative", "title": "share of records with an NHS number",
                           "axis": {"format": "%"}, "scale": {"domain": [0, 1]}},
                     "color": colour},
        "layer": [
            {"mark": {"type": "area", "opacity": 0.18, "clip": True},
             "encoding": {"y": {"field": "low", "type": "quantitative", "scale": y_scale},
                          "y2": {"field": "high"}}},
            {"mark": {"type": "line", "point": True, "clip": True},
             "encoding": {"y": {"field": "mean", "type": "quantitative", "title": label, "scale": y_scale,
                                "axis": {"format": ".1%" if zoom else "%"}},
                          "tooltip": [{"field": "strategy"}, {"field": "coverage", "format": ".0%"},
                                      {"field": "mean", "format": ".2%"}, {"field": "low", "format": ".2%"},
                                      {"field": "high", "format": ".2%"}]}},
        ],
    }


def grid(*rows: list[dict]) -> dict:
    """Charts in rows of side-by-side panels, sharing the strategy legend."""
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "vconcat": [{"hconcat": list(row)} for row in rows], "resolve": {"scale": {"color": "shared"}}}


def headline_charts(summary: pd.DataFrame) -> dict:
    """The report's first figure (and the README picture): recall and CME-trace accuracy against
    coverage, in full and at the top of the scale."""
    measures = ("recall", "cme_trace_accuracy")
    return grid([coverage_chart(summary, m) for m in measures],
                [coverage_chart(summary, m, zoom=True) for m in measures])


def chart_page(summary: pd.DataFrame) -> Page:
    """Just the headline charts, for rendering to a picture."""
    page = Page("NHS-number coverage: linkage and CME tracing by strategy")
    page.chart(headline_charts(summary))
    return page


def _with_spread(summary: pd.DataFrame, measures: tuple[str, ...]) -> pd.DataFrame:
    """strategy x coverage rows, one 'mean (low-high)' cell per measure."""
    rows = summary[summary["measure"].isin(measures)].copy()
    same = (rows["high"] - rows["low"]).abs() < 0.00005
    rows["cell"] = rows["mean"].map("{:.4f}".format).where(
        same, rows["mean"].map("{:.4f}".format) + " (" + rows["low"].map("{:.4f}".format) + "-"
        + rows["high"].map("{:.4f}".format) + ")")
    wide = rows.pivot(index=["coverage", "strategy"], columns="measure", values="cell")
    wide = wide[[m for m in measures if m in wide.columns]].rename(columns=LABELS).reset_index()
    order = {s: i for i, s in enumerate(STRATEGIES)}
    wide = wide.sort_values(["coverage", "strategy"], key=lambda s: s.map(order) if s.name == "strategy" else s)
    wide["coverage"] = wide["coverage"].map("{:.0%}".format)
    wide.columns.name = None
    return wide


def _by_group(summary: pd.DataFrame) -> pd.DataFrame:
    rows = summary[summary["measure"].str.startswith(GROUP_PREFIX)].copy()
    if rows.empty:
        return rows
    rows["group"] = rows["measure"].str.slice(len(GROUP_PREFIX))
    wide = rows.pivot(index=["coverage", "strategy"], columns="group", values="mean").reset_index()
    wide["coverage"] = wide["coverage"].map("{:.0%}".format)
    wide.columns.name = None
    return wide


def _inputs_check(runs: pd.DataFrame) -> str:
    """A sentence saying whether every strategy linked the same records at every level."""
    agree = runs.groupby(["seed", "coverage"])["inputs_fingerprint"].nunique().eq(1).all()
    nhs = runs[runs["strategy"] != "probabilistic"].groupby(["seed", "coverage"])["nhs_fingerprint"].nunique().eq(1).all()
    withheld = (runs.loc[runs["strategy"] == "probabilistic", "nhs_numbers_seen"] == 0).all()
    if agree and nhs and withheld:
        return ("Identical inputs: at every seed and coverage the three strategies linked the same records "
                "(their fingerprints agree), the deterministic and hybrid strategies saw the same NHS numbers and "
                "the probabilistic one saw none.")
    return "WARNING: the strategies' input fingerprints differ at some level; see nhs_adoption.csv."


def nhs_adoption_page(result) -> Page:
    """The report for an ``AdoptionResult`` (linkage.evaluate.nhs_adoption)."""
    s, settings, ctx = result.summary, result.settings, result.context
    page = Page("NHS-number adoption: what-if evaluation",
                f"Coverage of NHS numbers in {', '.join(settings.plan.sources)}; {len(settings.seeds)} seed(s); "
                f"mistyped {settings.plan.error_rate:.1%} (of which {settings.plan.undetected_share:.0%} pass the check "
                f"digit); numbers from the {settings.plan.numbers}; {result.seconds:.0f}s.")
    page.heading("Reading")
    page.paragraph(result.reading)
    page.chart(headline_charts(s))
    page.chart(grid([coverage_chart(s, "precision"), coverage_chart(s, "not_in_education_found")]))
    page.paragraph(f"Lines: mean over seeds; bands: lowest to highest seed. Figures over {ctx['population']}. "
                   f"The matching bar is {MATCHING_BAR:.0%} recall at {MATCHING_BAR:.0%} precision.", "note")
    page.heading("The table behind the charts")
    page.paragraph("Mean over seeds, with the lowest and highest seed in brackets when they differ.", "note")
    page.table(_with_spread(s, TABLE_MEASURES))
    groups = _by_group(s)
    if not groups.empty:
        page.heading("Recall by name-origin group (mean over seeds)")
        page.table(groups, float_format="{:.4f}")
    if result.sources is not None:
        page.heading("What each source is worth to CME tracing")
        page.paragraph("The job as it is, linked with the model, then without each source in turn. "
                       "'lost' = with every source minus without this one.", "note")
        page.table(result.sources.rename(columns={"dropped": "source dropped"}), float_format="{:.4f}")
    page.heading("How the copies were made")
    page.paragraph(_inputs_check(result.runs))
    page.paragraph(
        "Coverage is the share of a chosen source's eligible records (those whose child has an NHS number) "
        "that carry one, exactly; a higher coverage keeps every record a lower one had. A mistype changes one "
        "digit, which the modulus-11 check always catches, so the number is flagged and unused; an undetected "
        "error is another child's valid number. Deterministic: records sharing a valid NHS number are one child. "
        "Probabilistic: the model with every NHS number withheld (it sees the same records at every coverage, "
        "so it runs once). Hybrid: the model as it is.", "note")
    page.table(result.masking)
    return page


def write_nhs_adoption_report(result, path: str | Path) -> Path:
    """Write nhs_adoption.html for an ``AdoptionResult``."""
    return write_text(path, nhs_adoption_page(result).render())

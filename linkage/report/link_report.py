"""report.html of a linkage run: what went in, how it was scored, what came out.

The report shows counts, charts, record IDs and comparison levels; it never shows names,
dates of birth or identifiers, so it can be shared inside the LA without exposing children.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..blocking import load_rule_set
from ..model import level_labels, level_weights
from ..outputs import write_text
from ..sources.rejects import reason_categories
from ..score import explain_row
from ..review.apply import describe_effect
from .page import Page, bar_chart

BORDERLINE_EXAMPLES = 4


def _inputs(result) -> pd.DataFrame:
    con = result.con
    records = con.execute("select source, count(*) as records from std_records group by source").fetchdf()
    rejects = result.prepared.rejects.groupby("source").size().rename("rejects").reset_index() \
        if len(result.prepared.rejects) else pd.DataFrame(columns=["source", "rejects"])
    rows = pd.DataFrame({"source": list(result.prepared.row_counts),
                         "rows_read": list(result.prepared.row_counts.values())})
    out = rows.merge(records, on="source", how="left").merge(rejects, on="source", how="left")
    return out.fillna(0).astype({"rows_read": int, "records": int, "rejects": int})


def _link_rates(con) -> pd.DataFrame:
    """For each pair of sources, the share of the first's records whose child has a record in the second."""
    return con.execute("""
        with per_child as (select child_id, source from identities group by child_id, source),
        pairs as (
            select a.source as from_source, b.source as to_source, count(*) as linked
            from identities a join per_child b on a.child_id = b.child_id
            where a.source <> b.source group by a.source, b.source),
        totals as (select source, count(*) as n from identities group by source)
        select p.from_source, p.to_source, p.linked / t.n as share_linked
        from pairs p join totals t on t.source = p.from_source order by 1, 2
    """).fetchdf().pivot(index="from_source", columns="to_source", values="share_linked").reset_index() \
        .rename_axis(None, axis=1)


def _model_chart(model: dict) -> dict:
    rows = [{"comparison": name, "level": f"{name}: {label}", "match_weight": round(w, 2)}
            for name, levels in level_weights(model).items() for label, w in levels if not math.isnan(w)]
    spec = bar_chart(pd.DataFrame(rows), "level", "match_weight", horizontal=True, color="comparison",
                     title="Match weight of each comparison level (log2 m/u)", height=18 * len(rows))
    return spec


def _waterfall(row: pd.Series, prior_weight: float, labels: dict) -> dict:
    steps = [{"step": "prior: two records picked at random", "weight": round(prior_weight, 2)}]
    steps += [{"step": f"{e['comparison']}: {e['label'] or '?'}", "weight": round(e["weight"], 2)}
              for e in explain_row(row, labels)]
    frame = pd.DataFrame(steps)
    frame["sign"] = frame["weight"].map(lambda w: "for a match" if w >= 0 else "against")
    return bar_chart(frame, "step", "weight", horizontal=True, color="sign", height=22 * len(frame), width=480,
                     title=f"Pair {row['pair']}: total weight {row['match_weight']:.1f}, "
                           f"probability {row['match_probability']:.3f}")


def write_link_report(result, path: str | Path) -> Path:
    con, job = result.con, result.prepared.job
    s = result.cluster_stats
    page = Page("childlink linkage report",
                f"Job {job.path.name}, home LA {job.home_la}, reference date {job.reference_date}, "
                f"model {result.model_path.name}, match threshold {job.linkage.match_threshold}.")
    page.figures({"records": result.prepared.n_records, "rejected rows": len(result.prepared.rejects),
                  "pairs scored": result.n_pairs, "identities (people)": s["identities"],
                  "identities to review": s["identities_needing_review"]})
    review = describe_effect(s)
    if review:
        page.paragraph(f"Clerical review: {review}. Decisions are listed in review_decisions.csv.", "note")

    page.heading("Inputs and rejects")
    page.table(_inputs(result))
    if len(result.prepared.rejects):
        rejects = result.prepared.rejects.assign(reason=reason_categories(result.prepared.rejects["reason"]))
        page.table(rejects.groupby(["source", "reason"]).size().rename("rows").reset_index())
        page.paragraph("Every rejected row, with its row number, is in rejects.csv.", "note")

    page.heading("Comparisons")
    by_rule = con.execute("""select cast(match_key as integer) as rule_number, count(*) as pairs,
                                    count(*) filter (where match_probability >= ?) as pairs_linked
                             from pairs group by 1 order by 1""",
                          [job.linkage.match_threshold]).fetchdf()
    names = [r.name for r in load_rule_set(job.linkage.blocking_rules).rules]
    by_rule.insert(1, "rule", by_rule["rule_number"].map(lambda i: names[i] if i < len(names) else str(i)))
    page.paragraph(f"Pairs scored, by the first rule of the '{job.linkage.blocking_rules}' blocking rule set "
                   "that found them, and how many of them were linked.", "note")
    page.table(by_rule)
    page.chart(_model_chart(result.model))

    page.heading("Match weights of the scored pairs")
    page.paragraph("Weight is log2 of the odds that a pair is one child: 0 is even odds, each point doubles them. "
                   f"The match threshold {job.linkage.match_threshold} is a weight of "
                   f"{math.log2(job.linkage.match_threshold / (1 - job.linkage.match_threshold)):.1f}.", "note")
    hist = con.execute("""select round(match_weight) as match_weight, count(*) as pairs from pairs
                          group by 1 order by 1""").fetchdf()
    page.chart(bar_chart(hist, "match_weight", "pairs", title="Pairs by match weight (rounded)",
                         x_type="quantitative"))

    page.heading("Identities")
    sizes = con.execute("""select cluster_size as records_per_identity, count(distinct child_id) as identities
                           from identities group by 1 order by 1""").fetchdf()
    page.chart(bar_chart(sizes, "records_per_identity", "identities", x_type="ordinal",
                         title="Identities by number of linked records"))
    page.table(con.execute("""select review_reason as reason, count(distinct child_id) as children
                              from identities where review_reason is not null group by 1 order by 2 desc""").fetchdf())
    page.paragraph(f"Conflicting identities found: {s['conflicted_components']}, "
                   f"still conflicting after re-clustering: {s['conflicts_unresolved']}, "
                   f"weak bridges cut: {s['weak_bridges_cut']}.", "note")

    page.heading("Cross-source link rates")
    page.paragraph("Share of each source's records (rows) whose child also has a record in another source (columns).",
                   "note")
    page.table(_link_rates(con))

    page.heading("Borderline pairs explained")
    prior = result.model.get("probability_two_random_records_match", 0.0001)
    prior_weight = math.log2(prior / (1 - prior))
    near = con.execute(f"""
        select l.source || ':' || l.record_id || ' ~ ' || r.source || ':' || r.record_id as pair, p.*
        from pairs p join link_input l on l.rec_key = p.rec_key_l join link_input r on r.rec_key = p.rec_key_r
        order by abs(p.match_probability - ?), p.rec_key_l, p.rec_key_r limit {BORDERLINE_EXAMPLES}
    """, [job.linkage.match_threshold]).fetchdf()
    page.paragraph("How each comparison moved the weight of the pairs nearest the match threshold.", "note")
    labels = level_labels(result.model)
    for _, row in near.iterrows():
        page.chart(_waterfall(row, prior_weight, labels))

    if result.evaluation is not None:
        page.heading("Accuracy against the truth file")
        page.paragraph("Pairwise and B-cubed precision and recall, for every record and for children's records "
                       "(a pair touching a child's record counts against precision).", "note")
        page.table(result.evaluation.by_measure())
        if not result.evaluation.by_group.empty:
            page.paragraph("Recall of children's true pairs by group (equity).", "note")
            page.table(result.evaluation.by_group)

    page.heading("Run time")
    page.table(pd.DataFrame({"phase": list(result.timings), "seconds": list(result.timings.values())}))
    return write_text(path, page.render())

"""Clustering scored pairs into identities, under the constraints of real children.

1. Records joined by pairs at or above the match threshold form connected components.
2. A component must not hold two different valid NHS numbers, two school enrolments
   open at the same time at different schools, an adult's record and a child's, or two
   passports used over the same period. Such a component is re-clustered using only
   its stronger pairs, raising the bar step by step, until the conflict goes; if it
   survives even overwhelming evidence it is kept and flagged for review.
3. Chaining: two groups that are each well linked inside but joined by a single weak pair
   (a bridge) are cut apart at that pair.
4. Each record gets a confidence: its strongest pair inside its identity, or, alone, how
   sure we are that no other record is the same child. Identities that need a person's eye
   are flagged with the reason.

Everything runs as SQL over the workspace tables; the loops below are over thresholds
and propagation rounds, never over records or pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# Raising bars for conflicting components (match probabilities).
CONFLICT_THRESHOLDS = (0.99, 0.999, 0.9999, 0.99999, 0.999999)
# Pairs at or above this are "strong": a bridge weaker than this between two
# well-linked groups is cut.
STRONG_PAIR = 0.99
# Components at least this big with fewer than this share of their possible pairs
# linked are flagged: they may be chains of different children.
SPARSE_SIZE, SPARSE_DENSITY = 4, 0.34


@dataclass(frozen=True)
class ClusterSettings:
    match_threshold: float
    review_band: tuple[float, float]
    reference_date: str          # ISO date: "open on R" for school enrolments


def connected_components(con: duckdb.DuckDBPyConnection, nodes_sql: str, edges_sql: str, out: str) -> str:
    """Label each node (``rec_key``) with the smallest key in its component.

    ``edges_sql`` yields (rec_key_l, rec_key_r). Min-label propagation converges in as many
    rounds as the widest component's diameter: a few, for records of one child. Written here
    rather than through Splink so it can run on any subset of pairs inside the workspace.
    """
    con.execute(f"""create or replace temp table _edges as
                    select rec_key_l as a, rec_key_r as b from ({edges_sql})
                    union all select rec_key_r, rec_key_l from ({edges_sql})""")
    con.execute(f"create or replace temp table {out} as select rec_key, rec_key as component from ({nodes_sql})")
    while True:
        con.execute(f"""
            create or replace temp table _next as
            select n.rec_key, least(n.component, coalesce(min(m.component), n.component)) as component
            from {out} n left join _edges e on e.a = n.rec_key left join {out} m on m.rec_key = e.b
            group by n.rec_key, n.component
        """)
        changed = con.execute(f"""
            select count(*) from _next x join {out} o using (rec_key) where x.component <> o.component
        """).fetchall()[0][0]
        con.execute(f"create or replace temp table {out} as select * from _next")
        if not changed:
            break
    con.execute("drop table if exists _next; drop table if exists _edges")
    return out


def _conflict_keys(con, records: str, std_records: str, reference_date: str) -> None:
    """Per record, the values of which an identity may hold only one."""
    con.execute(f"""
        create or replace temp table _conflict_keys as
        select r.rec_key, s.nhs_number_std, r.life_stage, r.passport_std, s.travel_date,
               case when s.source_type = 'education' and s.school_urn is not null
                         and (s.entry_date is null or s.entry_date <= DATE '{reference_date}')
                         and (s.leaving_date is null or s.leaving_date > DATE '{reference_date}')
                    then s.school_urn end as open_school
        from {records} r join {std_records} s using (source, record_id)
    """)


def _conflicted(con, labels: str) -> str:
    """Components holding what one child cannot: two valid NHS numbers, two open school places,
    an adult's and a child's record, or two passports in use over overlapping periods (a renewed
    passport replaces the old one; a look-alike traveller's crossings interleave with the child's)."""
    return f"""
        select l.component from {labels} l join _conflict_keys k using (rec_key)
        group by l.component
        having count(distinct k.nhs_number_std) > 1 or count(distinct k.open_school) > 1
            or count(distinct k.life_stage) > 1
        union
        select a.component from (
            select l.component, k.passport_std, min(k.travel_date) as first_used, max(k.travel_date) as last_used
            from {labels} l join _conflict_keys k using (rec_key)
            where k.passport_std is not null and k.travel_date is not null
            group by l.component, k.passport_std) a
        join (
            select l.component, k.passport_std, min(k.travel_date) as first_used, max(k.travel_date) as last_used
            from {labels} l join _conflict_keys k using (rec_key)
            where k.passport_std is not null and k.travel_date is not null
            group by l.component, k.passport_std) b
          on a.component = b.component and a.passport_std < b.passport_std
         and a.first_used <= b.last_used and b.first_used <= a.last_used
    """


def _resolve_conflicts(con, pairs: str, labels: str) -> int:
    """Re-cluster conflicting components on ever stronger pairs. Returns components still conflicting."""
    for bar in CONFLICT_THRESHOLDS:
        con.execute(f"create or replace temp table _bad as {_conflicted(con, labels)}")
        if not con.execute("select count(*) from _bad").fetchall()[0][0]:
            return 0
        nodes = f"select rec_key from {labels} where component in (select component from _bad)"
        edges = f"""select p.rec_key_l, p.rec_key_r from {pairs} p
                    join {labels} a on a.rec_key = p.rec_key_l join {labels} b on b.rec_key = p.rec_key_r
                    where p.match_probability >= {bar} and a.component = b.component
                      and a.component in (select component from _bad)"""
        connected_components(con, nodes, edges, "_sub")
        con.execute(f"""
            create or replace temp table {labels} as
            select l.rec_key, coalesce(s.component, l.component) as component
            from {labels} l left join _sub s using (rec_key)
        """)
    con.execute(f"create or replace temp table _bad as {_conflicted(con, labels)}")
    return con.execute("select count(*) from _bad").fetchall()[0][0]


def _cut_weak_bridges(con, pairs: str, labels: str, threshold: float) -> int:
    """Cut single weak pairs that alone join two well-linked groups. Returns pairs cut."""
    edges_in = f"""select p.rec_key_l, p.rec_key_r, p.match_probability from {pairs} p
                   join {labels} a on a.rec_key = p.rec_key_l join {labels} b on b.rec_key = p.rec_key_r
                   where p.match_probability >= {threshold} and a.component = b.component"""
    connected_components(con, f"select rec_key from {labels}",
                         f"select rec_key_l, rec_key_r from ({edges_in}) where match_probability >= {STRONG_PAIR}",
                         "_strong")
    con.execute(f"""
        create or replace temp table _cuts as
        with e as (
            select e.rec_key_l, e.rec_key_r, e.match_probability,
                   least(sl.component, sr.component) as g1, greatest(sl.component, sr.component) as g2
            from ({edges_in}) e join _strong sl on sl.rec_key = e.rec_key_l join _strong sr on sr.rec_key = e.rec_key_r
            where sl.component <> sr.component
        ), sizes as (select component, count(*) as n from _strong group by component),
        links as (select g1, g2, count(*) as n_links, max(match_probability) as best from e group by g1, g2)
        select e.rec_key_l, e.rec_key_r
        from e join links using (g1, g2)
        join sizes s1 on s1.component = e.g1 join sizes s2 on s2.component = e.g2
        where links.n_links = 1 and links.best < {STRONG_PAIR} and s1.n >= 2 and s2.n >= 2
    """)
    n_cut = con.execute("select count(*) from _cuts").fetchall()[0][0]
    if n_cut:
        connected_components(
            con, f"select rec_key from {labels}",
            f"""select rec_key_l, rec_key_r from ({edges_in}) e
                where not exists (select 1 from _cuts c where c.rec_key_l = e.rec_key_l and c.rec_key_r = e.rec_key_r)""",
            "_recut")
        # The edges used were already confined to the current components, so the new
        # components refine them and keep any earlier conflict splits.
        con.execute(f"create or replace temp table {labels} as select * from _recut")
    return n_cut


def _with_decisions(con, pairs: str, decisions: str) -> str:
    """The pairs with clerical decisions applied (table ``_decided_pairs``): a "same child" pair is
    an edge of probability 1 (added if it was never scored), a "different children" pair has
    probability 0. ``must_link`` marks the officers' edges, which outrank any score."""
    con.execute(f"""
        create or replace temp table _decided_pairs as
        select p.rec_key_l, p.rec_key_r,
               case d.decision when 'same' then 1.0 when 'different' then 0.0 else p.match_probability end
                   as match_probability,
               coalesce(d.decision = 'same', false) as must_link
        from {pairs} p left join {decisions} d using (rec_key_l, rec_key_r)
        union all
        select d.rec_key_l, d.rec_key_r, 1.0, true from {decisions} d
        where d.decision = 'same' and not exists
              (select 1 from {pairs} p where p.rec_key_l = d.rec_key_l and p.rec_key_r = d.rec_key_r)
    """)
    return "_decided_pairs"


# Widest-path width of a record to itself, above any edge's strength (a must-link is 2).
_SELF_WIDTH = 3.0


def _separate_cannot_links(con, pairs: str, labels: str, decisions: str, threshold: float) -> dict:
    """Split every component that holds both records of a "different children" decision.

    In each such component (one decision per component per round), every record joins the side
    of the decision's record it is more strongly tied to: the side whose widest path to it (the
    path whose weakest link is strongest, not passing through the other record) is wider. Records
    tied equally to both are set apart from both. Links between sides are cut, which cuts every
    path between the two records at its weakest links and leaves the rest of the component alone.
    Set-based: rounds are over path lengths and decisions per component, never over records.
    """
    separated = contradicted = 0
    strength = "p.match_probability + case when p.must_link then 1 else 0 end"
    for _ in range(64):   # each round settles at least one decision per affected component
        con.execute(f"""
            create or replace temp table _cl as
            select la.component, d.rec_key_l as a, d.rec_key_r as b from {decisions} d
            join {labels} la on la.rec_key = d.rec_key_l join {labels} lb on lb.rec_key = d.rec_key_r
            where d.decision = 'different' and la.component = lb.component
            qualify row_number() over (partition by la.component order by d.rec_key_l, d.rec_key_r) = 1
        """)
        n = con.execute("select count(*) from _cl").fetchall()[0][0]
        if not n:
            break
        separated += n
        con.execute(f"""
            create or replace temp table _cl_edges as
            select c.component, e.u, e.v, e.w from _cl c join (
                select x.component, p.rec_key_l as u, p.rec_key_r as v, {strength} as w
                from {pairs} p join {labels} x on x.rec_key = p.rec_key_l join {labels} y on y.rec_key = p.rec_key_r
                where x.component = y.component and p.match_probability >= {threshold}
                union all
                select x.component, p.rec_key_r, p.rec_key_l, {strength}
                from {pairs} p join {labels} x on x.rec_key = p.rec_key_l join {labels} y on y.rec_key = p.rec_key_r
                where x.component = y.component and p.match_probability >= {threshold}
            ) e using (component)
        """)
        # Widest paths from each side's record, never through the other side's record.
        con.execute(f"""
            create or replace temp table _cl_width as
            select component, 'a' as side, a as node, {_SELF_WIDTH} as width, b as barred from _cl
            union all select component, 'b', b, {_SELF_WIDTH}, a from _cl
        """)
        while True:
            con.execute("""
                create or replace temp table _cl_next as
                select component, side, node, max(width) as width, any_value(barred) as barred from (
                    select component, side, node, width, barred from _cl_width
                    union all
                    select w.component, w.side, e.v, least(w.width, e.w), w.barred
                    from _cl_width w join _cl_edges e on e.component = w.component and e.u = w.node
                    where e.v <> w.barred)
                group by component, side, node
            """)
            changed = con.execute("""
                select count(*) from _cl_next n left join _cl_width w using (component, side, node)
                where w.width is null or n.width > w.width
            """).fetchall()[0][0]
            con.execute("create or replace temp table _cl_width as select * from _cl_next")
            if not changed:
                break
        con.execute(f"""
            create or replace temp table _cl_side as
            select l.rec_key, l.component,
                   case when coalesce(wa.width, 0) > coalesce(wb.width, 0) then 'a'
                        when coalesce(wb.width, 0) > coalesce(wa.width, 0) then 'b' else 'tie' end as side
            from {labels} l join _cl c using (component)
            left join _cl_width wa on wa.component = l.component and wa.side = 'a' and wa.node = l.rec_key
            left join _cl_width wb on wb.component = l.component and wb.side = 'b' and wb.node = l.rec_key
        """)
        contradicted += con.execute(f"""
            select count(*) from _cl c join _cl_edges e on e.component = c.component
            join _cl_side su on su.rec_key = e.u join _cl_side sv on sv.rec_key = e.v
            where e.u < e.v and su.side <> sv.side and e.w > 1
        """).fetchall()[0][0]   # an officer's "same child" cut to honour another's "different"
        connected_components(con, "select rec_key from _cl_side",
                             """select e.u as rec_key_l, e.v as rec_key_r from _cl_edges e
                                join _cl_side su on su.rec_key = e.u join _cl_side sv on sv.rec_key = e.v
                                where su.side = sv.side""", "_cl_sub")
        con.execute(f"""
            create or replace temp table {labels} as
            select l.rec_key, coalesce(s.component, l.component) as component
            from {labels} l left join _cl_sub s using (rec_key)
        """)
    for t_ in ("_cl", "_cl_edges", "_cl_width", "_cl_next", "_cl_side", "_cl_sub"):
        con.execute(f"drop table if exists {t_}")
    return {"cannot_links_separated": separated, "must_links_cut": contradicted}


def cluster(con: duckdb.DuckDBPyConnection, settings: ClusterSettings, *, records: str = "link_input",
            std_records: str = "std_records", pairs: str = "pairs", out: str = "clusters",
            decisions: str | None = None) -> dict:
    """Cluster ``records`` into identities in table ``out``; returns counts for the report.

    ``out`` has: rec_key, identity (smallest rec_key of the identity), confidence, cluster_size,
    needs_review, review_reason.
    ``decisions`` (rec_key_l < rec_key_r, decision 'same' or 'different') are clerical decisions:
    a must-link joins its two records whatever their score; a cannot-link keeps them apart even
    when other records chain them (see ``_separate_cannot_links``).
    """
    t = settings.match_threshold
    decision_stats: dict = {}
    if decisions:
        pairs = _with_decisions(con, pairs, decisions)
    connected_components(con, f"select rec_key from {records}",
                         f"select rec_key_l, rec_key_r from {pairs} where match_probability >= {t}", "_labels")
    if decisions:
        # First, so that the other constraints refine components the officers' decisions shaped.
        decision_stats = _separate_cannot_links(con, pairs, "_labels", decisions, t)
    _conflict_keys(con, records, std_records, settings.reference_date)
    n_conflicted_before = con.execute(f"select count(*) from ({_conflicted(con, '_labels')})").fetchall()[0][0]
    unresolved = _resolve_conflicts(con, pairs, "_labels")
    n_cut = _cut_weak_bridges(con, pairs, "_labels", t)
    low, high = settings.review_band
    con.execute(f"""
        create or replace table {out} as
        with inside as (      -- each record's pairs within its identity, at the threshold
            select p.rec_key_l as a, p.rec_key_r as b, p.match_probability as p from {pairs} p
            join _labels x on x.rec_key = p.rec_key_l join _labels y on y.rec_key = p.rec_key_r
            where x.component = y.component and p.match_probability >= {t}
        ), ends as (select a as rec_key, p from inside union all select b, p from inside),
        tie as (select rec_key, max(p) as strongest from ends group by rec_key),
        outside as (          -- the strongest pair to a record of another identity
            select rec_key, max(p) as p from (
                select p.rec_key_l as rec_key, p.match_probability as p, x.component <> y.component as cross_id
                from {pairs} p join _labels x on x.rec_key = p.rec_key_l join _labels y on y.rec_key = p.rec_key_r
                union all
                select p.rec_key_r, p.match_probability, x.component <> y.component
                from {pairs} p join _labels x on x.rec_key = p.rec_key_l join _labels y on y.rec_key = p.rec_key_r
            ) where cross_id group by rec_key
        ), sizes as (
            select component, count(*) as n from _labels group by component
        ), density as (
            select x.component, count(*) as links from inside i join _labels x on x.rec_key = i.a group by x.component
        ), conflicted as ({_conflicted(con, '_labels')})
        select l.rec_key, l.component as identity, s.n as cluster_size,
               -- the lower of: how strongly the record is tied in, how clearly it is not another's
               case when s.n = 1 then 1 - coalesce(o.p, 0)
                    else least(coalesce(tie.strongest, 0), 1 - coalesce(o.p, 0)) end as confidence,
               case when l.component in (select component from conflicted)
                        then 'holds what one child cannot (two NHS numbers, open school places or passports in use, or an adult)'
                    when s.n >= {SPARSE_SIZE} and coalesce(d.links, 0) < {SPARSE_DENSITY} * s.n * (s.n - 1) / 2
                        then 'loosely linked: may chain different children'
                    when coalesce(o.p, 0) >= {low} then 'a record of another identity is a possible match'
                    when s.n > 1 and coalesce(tie.strongest, 0) < {high} then 'linked by a pair in the review band'
               end as review_reason
        from _labels l join sizes s using (component)
        left join tie using (rec_key) left join outside o using (rec_key)
        left join density d using (component)
        order by l.rec_key
    """)
    con.execute(f"""
        create or replace table {out} as
        select *, bool_or(review_reason is not null) over (partition by identity) as needs_review from {out}
        order by rec_key
    """)
    stats = con.execute(f"""
        select count(distinct identity), count(distinct identity) filter (where needs_review),
               max(cluster_size) from {out}
    """).fetchall()[0]
    for t_ in ("_labels", "_conflict_keys", "_bad", "_sub", "_strong", "_cuts", "_recut", "_decided_pairs"):
        con.execute(f"drop table if exists {t_}")
    return {"identities": stats[0], "identities_needing_review": stats[1], "largest_identity": stats[2],
            "conflicted_components": n_conflicted_before, "conflicts_unresolved": unresolved,
            "weak_bridges_cut": n_cut, **decision_stats}

"""Constrained clustering on hand-made graphs (linkage.cluster)."""

import duckdb
import pandas as pd
import pytest

from linkage.cluster import ClusterSettings, cluster, connected_components

SETTINGS = ClusterSettings(match_threshold=0.95, review_band=(0.5, 0.95), reference_date="2026-11-01")


def workspace(records: list[dict], pairs: list[tuple[int, int, float]]) -> duckdb.DuckDBPyConnection:
    """link_input/std_records for ``records`` (dicts with rec_key and optional fields) and a pairs table."""
    con = duckdb.connect()
    rows = []
    for r in records:
        rows.append({"rec_key": r["rec_key"], "source": r.get("source", "gp"), "record_id": str(r["rec_key"]),
                     "source_type": r.get("source_type", "gp"), "nhs_number_std": r.get("nhs"),
                     "school_urn": r.get("school"), "entry_date": pd.Timestamp(r["entry"]) if r.get("entry") else None,
                     "leaving_date": None, "life_stage": r.get("life_stage", "child"),
                     "passport_std": r.get("passport"),
                     "travel_date": pd.Timestamp(r["travel"]) if r.get("travel") else None})
    frame = pd.DataFrame(rows)
    frame["entry_date"] = pd.to_datetime(frame["entry_date"]).dt.date
    frame["leaving_date"] = pd.to_datetime(frame["leaving_date"]).dt.date
    frame["travel_date"] = pd.to_datetime(frame["travel_date"]).dt.date
    con.register("f", frame)
    con.execute("create table link_input as select rec_key, source, record_id, life_stage, passport_std from f")
    con.execute("create table std_records as select source, record_id, source_type, nhs_number_std, school_urn, "
                "entry_date, leaving_date, travel_date from f")
    con.register("p", pd.DataFrame(pairs, columns=["rec_key_l", "rec_key_r", "match_probability"]))
    con.execute("create table pairs as select * from p")
    return con


def identities(con) -> list[set[int]]:
    groups = con.execute("select list(rec_key order by rec_key) from clusters group by identity order by 1").fetchall()
    return [set(g[0]) for g in groups]


def test_connected_components_follow_chains():
    con = duckdb.connect()
    con.execute("create table n as select * from range(1, 8) t(rec_key)")
    con.execute("create table e as select * from (values (1, 2), (2, 3), (3, 4), (6, 7)) t(rec_key_l, rec_key_r)")
    connected_components(con, "select rec_key from n", "select * from e", "cc")
    got = dict(con.execute("select rec_key, component from cc").fetchall())
    assert got == {1: 1, 2: 1, 3: 1, 4: 1, 5: 5, 6: 6, 7: 6}


def test_pairs_below_the_threshold_do_not_link():
    con = workspace([{"rec_key": k} for k in (1, 2, 3)], [(1, 2, 0.99), (2, 3, 0.90)])
    cluster(con, SETTINGS)
    assert identities(con) == [{1, 2}, {3}]


def test_two_nhs_numbers_split_at_the_weaker_link():
    # 1-2 share NHS A, 3-4 share NHS B; a 0.97 link joins them: one child cannot hold both
    recs = [{"rec_key": 1, "nhs": "A"}, {"rec_key": 2}, {"rec_key": 3}, {"rec_key": 4, "nhs": "B"}]
    con = workspace(recs, [(1, 2, 0.9999), (2, 3, 0.97), (3, 4, 0.9999)])
    stats = cluster(con, SETTINGS)
    assert identities(con) == [{1, 2}, {3, 4}]
    assert stats["conflicted_components"] == 1 and stats["conflicts_unresolved"] == 0


def test_overwhelming_evidence_keeps_a_conflict_but_flags_it():
    recs = [{"rec_key": 1, "nhs": "A"}, {"rec_key": 2, "nhs": "B"}]
    con = workspace(recs, [(1, 2, 0.99999999)])
    stats = cluster(con, SETTINGS)
    assert identities(con) == [{1, 2}]
    assert stats["conflicts_unresolved"] == 1
    reasons = con.execute("select distinct review_reason from clusters").fetchall()
    assert reasons and "cannot" in reasons[0][0]


def test_an_adult_record_never_joins_a_child():
    recs = [{"rec_key": 1, "life_stage": "child"}, {"rec_key": 2, "life_stage": "child"},
            {"rec_key": 3, "life_stage": "adult"}]
    con = workspace(recs, [(1, 2, 0.99999), (2, 3, 0.9995)])
    cluster(con, SETTINGS)
    assert identities(con) == [{1, 2}, {3}]


def test_two_open_school_places_conflict():
    recs = [{"rec_key": 1, "source_type": "education", "school": "100001", "entry": "2025-09-01"},
            {"rec_key": 2, "source_type": "education", "school": "100002", "entry": "2025-09-01"}]
    con = workspace(recs, [(1, 2, 0.98)])
    cluster(con, SETTINGS)
    assert identities(con) == [{1}, {2}]


def test_interleaved_passports_conflict_but_a_renewal_does_not():
    child = [{"rec_key": 1}, {"rec_key": 2, "source_type": "border", "passport": "P1", "travel": "2025-01-01"},
             {"rec_key": 3, "source_type": "border", "passport": "P1", "travel": "2025-08-01"}]
    lookalike = [{"rec_key": 4, "source_type": "border", "passport": "P9", "travel": "2025-03-01"},
                 {"rec_key": 5, "source_type": "border", "passport": "P9", "travel": "2025-04-01"}]
    # the same strong link (not a weak bridge) in both cases: only passport use differs
    pairs = [(1, 2, 0.99999), (1, 3, 0.99999), (2, 3, 0.99999), (4, 5, 0.99999), (1, 4, 0.999)]
    con = workspace(child + lookalike, pairs)
    cluster(con, SETTINGS)
    assert identities(con) == [{1, 2, 3}, {4, 5}]

    renewed = [{"rec_key": 4, "source_type": "border", "passport": "P2", "travel": "2026-01-01"},
               {"rec_key": 5, "source_type": "border", "passport": "P2", "travel": "2026-02-01"}]
    con = workspace(child + renewed, pairs)
    cluster(con, SETTINGS)
    assert identities(con) == [{1, 2, 3, 4, 5}]


def test_a_single_weak_bridge_between_two_groups_is_cut():
    # two tight triangles joined by one pair just over the threshold
    tri = lambda a, b, c: [(a, b, 0.999), (a, c, 0.999), (b, c, 0.999)]  # noqa: E731
    con = workspace([{"rec_key": k} for k in range(1, 7)], tri(1, 2, 3) + tri(4, 5, 6) + [(3, 4, 0.96)])
    stats = cluster(con, SETTINGS)
    assert identities(con) == [{1, 2, 3}, {4, 5, 6}]
    assert stats["weak_bridges_cut"] == 1


def test_two_links_between_groups_are_not_a_bridge():
    tri = lambda a, b, c: [(a, b, 0.999), (a, c, 0.999), (b, c, 0.999)]  # noqa: E731
    con = workspace([{"rec_key": k} for k in range(1, 7)],
                    tri(1, 2, 3) + tri(4, 5, 6) + [(3, 4, 0.96), (2, 5, 0.97)])
    cluster(con, SETTINGS)
    assert identities(con) == [{1, 2, 3, 4, 5, 6}]


def test_confidence_reflects_the_strongest_tie_and_rivals():
    con = workspace([{"rec_key": k} for k in (1, 2, 3, 4)], [(1, 2, 0.999), (2, 3, 0.7)])
    cluster(con, SETTINGS)
    conf = dict(con.execute("select rec_key, confidence from clusters").fetchall())
    assert conf[1] == pytest.approx(0.999)
    assert conf[2] == pytest.approx(min(0.999, 1 - 0.7))       # tied in, but record 3 is a rival
    assert conf[3] == pytest.approx(0.3)                         # alone, with a 0.7 candidate elsewhere
    assert conf[4] == pytest.approx(1.0)                         # alone and nothing like anyone
    flagged = dict(con.execute("select rec_key, needs_review from clusters").fetchall())
    assert flagged[3] and flagged[1] and not flagged[4]

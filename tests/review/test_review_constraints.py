"""Clerical decisions as clustering constraints, on hand-made graphs (linkage.cluster)."""

import duckdb
import pandas as pd

from linkage.cluster import ClusterSettings, cluster

SETTINGS = ClusterSettings(match_threshold=0.95, review_band=(0.5, 0.95), reference_date="2026-11-01")


def workspace(n: int, pairs: list[tuple[int, int, float]], decisions: list[tuple[int, int, str]]):
    """Records 1..n (children at GP, no identifiers), scored pairs and a decisions table."""
    con = duckdb.connect()
    frame = pd.DataFrame({"rec_key": range(1, n + 1)})
    frame["source"], frame["record_id"], frame["source_type"] = "gp", frame["rec_key"].astype(str), "gp"
    con.register("f", frame)
    con.execute("create table link_input as select rec_key, source, record_id, 'child' as life_stage, "
                "null::varchar as passport_std from f")
    con.execute("create table std_records as select source, record_id, source_type, null::varchar as nhs_number_std, "
                "null::varchar as school_urn, null::date as entry_date, null::date as leaving_date, "
                "null::date as travel_date from f")
    con.register("p", pd.DataFrame(pairs, columns=["rec_key_l", "rec_key_r", "match_probability"]))
    con.execute("create table pairs as select * from p")
    con.register("d", pd.DataFrame(decisions, columns=["rec_key_l", "rec_key_r", "decision"]))
    con.execute("create table decisions as select * from d")
    return con


def groups(con) -> list[set[int]]:
    rows = con.execute("select list(rec_key order by rec_key) from clusters group by identity order by 1").fetchall()
    return [set(r[0]) for r in rows]


def test_cannot_link_cuts_the_weakest_link_of_the_chain_and_nothing_else():
    # 1 -0.97- 3 -0.999- 2, and 4 hangs off 1 at 0.96: "1 and 2 are different children"
    con = workspace(4, [(1, 3, 0.97), (2, 3, 0.999), (1, 4, 0.96)], [(1, 2, "different")])
    stats = cluster(con, SETTINGS, decisions="decisions")
    # 3 is tied more strongly to 2; 4 only to 1 (a path through 1 does not count for 2)
    assert groups(con) == [{1, 4}, {2, 3}]
    assert stats["cannot_links_separated"] == 1


def test_without_decisions_the_chain_is_one_identity():
    con = workspace(4, [(1, 3, 0.97), (2, 3, 0.999), (1, 4, 0.96)], [(1, 2, "different")])
    cluster(con, SETTINGS)
    assert groups(con) == [{1, 2, 3, 4}]


def test_a_record_tied_equally_to_both_sides_is_set_apart():
    con = workspace(3, [(1, 3, 0.98), (2, 3, 0.98)], [(1, 2, "different")])
    cluster(con, SETTINGS, decisions="decisions")
    assert groups(con) == [{1}, {2}, {3}]


def test_two_cannot_links_in_one_component_are_both_honoured():
    # a chain 1-2-3-4-5 of strong links; the officer separates 1 from 3 and 3 from 5
    chain = [(1, 2, 0.999), (2, 3, 0.97), (3, 4, 0.999), (4, 5, 0.96)]
    con = workspace(5, chain, [(1, 3, "different"), (3, 5, "different")])
    stats = cluster(con, SETTINGS, decisions="decisions")
    assert groups(con) == [{1, 2}, {3, 4}, {5}]
    assert stats["cannot_links_separated"] == 2


def test_must_link_joins_records_the_model_kept_apart_and_survives_conflict_bars():
    con = workspace(3, [(1, 2, 0.30)], [(1, 2, "same"), (2, 3, "same")])   # 2-3 were never scored
    cluster(con, SETTINGS, decisions="decisions")
    assert groups(con) == [{1, 2, 3}]
    conf = dict(con.execute("select rec_key, confidence from clusters").fetchall())
    assert conf[1] == 1.0


def test_cannot_link_beats_a_contradictory_chain_of_must_links_and_says_so():
    con = workspace(3, [(1, 2, 0.99), (2, 3, 0.99)], [(1, 2, "same"), (2, 3, "same"), (1, 3, "different")])
    stats = cluster(con, SETTINGS, decisions="decisions")
    assert not any({1, 3} <= g for g in groups(con))
    assert stats["must_links_cut"] >= 1


def test_cannot_link_on_a_direct_strong_pair_splits_it():
    con = workspace(2, [(1, 2, 0.9999)], [(1, 2, "different")])
    cluster(con, SETTINGS, decisions="decisions")
    assert groups(con) == [{1}, {2}]
    reason = con.execute("select review_reason from clusters where rec_key = 1").fetchall()[0][0]
    assert reason is None   # the officer's decision settles it: not "another identity is a possible match"

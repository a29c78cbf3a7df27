import datetime as dt

import duckdb
import pandas as pd
import pytest

from linkage.evaluate import pairwise_metrics, recall_by_group


def tables(con, predicted, truth):
    con.register("ids_df", pd.DataFrame(predicted, columns=["source", "record_id", "child_id"]))
    con.register("truth_df", pd.DataFrame(truth, columns=["source", "record_id", "person_id"]))
    con.execute("create table ids as select * from ids_df; create table truth as select * from truth_df")


def test_perfect_linkage_scores_one():
    con = duckdb.connect()
    rows = [("a", "1", "P1"), ("b", "1", "P1"), ("c", "1", "P1"), ("a", "2", "P2")]
    tables(con, [(s, r, "C" + p) for s, r, p in rows], rows)
    m = pairwise_metrics(con, "ids", "truth")
    assert m["precision"] == m["recall"] == m["f1"] == 1.0
    assert m["true_pairs"] == 3 and m["exactly_reconstructed"] == 1.0


def test_one_wrong_merge_and_one_missed_link():
    con = duckdb.connect()
    truth = [("a", "1", "P1"), ("b", "1", "P1"), ("c", "1", "P1"), ("a", "2", "P2"), ("b", "2", "P3")]
    # c/1 split off P1 (loses 2 of 3 true pairs) and P2 merged with P3 (one false pair)
    predicted = [("a", "1", "X"), ("b", "1", "X"), ("c", "1", "Y"), ("a", "2", "Z"), ("b", "2", "Z")]
    tables(con, predicted, truth)
    m = pairwise_metrics(con, "ids", "truth")
    assert m["true_positive_pairs"] == 1 and m["predicted_pairs"] == 2 and m["true_pairs"] == 3
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["exactly_reconstructed"] == pytest.approx(0.0)   # P1 split, P2 and P3 merged
    # B-cubed precision: a1,b1: 1; c1: 1; a2,b2: 1/2 each -> (1+1+1+.5+.5)/5
    assert m["bcubed_precision"] == pytest.approx(0.8)


def test_recall_by_group_separates_groups():
    con = duckdb.connect()
    truth = [("a", "1", "P1"), ("b", "1", "P1"), ("a", "2", "P2"), ("b", "2", "P2")]
    predicted = [("a", "1", "X"), ("b", "1", "X"), ("a", "2", "Y"), ("b", "2", "Z")]
    tables(con, predicted, truth)
    con.register("people_df", pd.DataFrame({"person_id": ["P1", "P2"], "dob": ["2015-01-01", "2009-06-01"],
                                            "sex": ["F", "M"], "name_group": ["english", "polish"],
                                            "kind": ["child", "child"]}))
    con.execute("create table people as select * from people_df")
    out = recall_by_group(con, "ids", "truth", "people", dt.date(2026, 11, 1))
    by = {(r.dimension, r.group): r.recall for r in out.itertuples()}
    assert by[("name_group", "english")] == 1.0 and by[("name_group", "polish")] == 0.0
    assert by[("age_band", "11-15")] == 1.0 and by[("age_band", "16+")] == 0.0
    assert by[("sex", "F")] == 1.0


def test_focus_counts_a_wrong_merge_with_an_outsider_against_precision():
    con = duckdb.connect()
    truth = [("a", "1", "C1"), ("b", "1", "C1"), ("border", "9", "D1"), ("ct", "7", "A1"), ("ct", "8", "A1")]
    # the child's identity wrongly absorbs a decoy traveller; the adult's two records are missed
    predicted = [("a", "1", "X"), ("b", "1", "X"), ("border", "9", "X"), ("ct", "7", "Y"), ("ct", "8", "Z")]
    tables(con, predicted, truth)
    m = pairwise_metrics(con, "ids", "truth", focus_sql="select 'C1'")
    assert m["true_pairs"] == 1 and m["true_positive_pairs"] == 1
    assert m["predicted_pairs"] == 3            # a1-b1, a1-border9, b1-border9 all touch the child
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == 1.0                    # the adult's missed pair is not the child's
    assert m["exactly_reconstructed"] == 0.0     # the child's identity holds an extra record

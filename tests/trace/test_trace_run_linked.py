"""Loading linked identities for the trace: from a link run's workspace, or from a run folder."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from linkage.errors import ChildlinkError
from linkage.trace.linked import identities_from_link, identities_from_run


def link_workspace() -> duckdb.DuckDBPyConnection:
    """The tables ``link`` leaves: link_input (rec_key), pairs (by rec_key), identities (child_id)."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE link_input AS SELECT * FROM (VALUES
        (1, 'education', 'E1'), (2, 'border', 'B1'), (3, 'gp', 'G1'), (4, 'gp', 'G2')) t(rec_key, source, record_id)""")
    con.execute("""CREATE TABLE pairs AS SELECT * FROM (VALUES
        (1, 2, 0.97), (3, 1, 0.6), (3, 4, 0.99)) t(rec_key_l, rec_key_r, match_probability)""")
    con.execute("""CREATE TABLE identities AS SELECT * FROM (VALUES
        ('education', 'E1', 'C00000001', 0.97), ('border', 'B1', 'C00000001', 0.97),
        ('gp', 'G1', 'C00000002', 0.99), ('gp', 'G2', 'C00000002', 0.99)) t(source, record_id, child_id, confidence)""")
    con.execute("""CREATE TABLE cme_cases AS SELECT 'K1' AS case_id, 'education' AS source, 'E1' AS record_id,
                   DATE '2025-03-20' AS referral_date""")
    return con


def test_from_link_keeps_identities_and_only_the_pairs_touching_case_records():
    con = link_workspace()
    identities_from_link(con)
    assert con.execute("SELECT count(*), count(DISTINCT identity_id) FROM trace_identities").fetchone() == (4, 2)
    pairs = con.execute("""SELECT source_l, record_id_l, source_r, record_id_r, match_probability
                           FROM trace_pairs ORDER BY ALL""").fetchall()
    assert pairs == [("education", "E1", "border", "B1", 0.97), ("gp", "G1", "education", "E1", 0.6)]


def test_from_run_reads_the_parquet_files_and_refuses_a_missing_column(tmp_path):
    con = link_workspace()
    con.execute("CREATE TABLE std_records AS SELECT source, record_id FROM link_input")
    con.execute("SELECT source, record_id, child_id, confidence FROM identities").df().to_parquet(
        tmp_path / "identities.parquet")
    pd.DataFrame({"source_l": ["education", "gp"], "record_id_l": ["E1", "G1"], "source_r": ["border", "gp"],
                  "record_id_r": ["B1", "G2"], "match_weight": [5.0, 7.0],
                  "match_probability": [0.97, 0.99]}).to_parquet(tmp_path / "pairs.parquet")
    identities_from_run(con, tmp_path)
    assert con.execute("SELECT count(*) FROM trace_identities").fetchone()[0] == 4
    assert con.execute("SELECT record_id_r FROM trace_pairs").fetchall() == [("B1",)]

    pd.DataFrame({"source": ["gp"], "record_id": ["G1"], "child_id": ["C1"]}).to_parquet(
        tmp_path / "identities.parquet")
    with pytest.raises(ChildlinkError, match="identities.parquet.*confidence"):
        identities_from_run(con, tmp_path)


def test_possible_matches_are_the_pairs_across_identities_at_or_above_the_review_low(tmp_path):
    con = link_workspace()
    identities_from_link(con)
    assert con.execute("""SELECT source_l, record_id_l, source_r, record_id_r, match_probability
                          FROM trace_possible_matches""").fetchall() == [("gp", "G1", "education", "E1", 0.6)]
    identities_from_link(con, review_low=0.7)      # the only cross-identity pair is below it
    assert con.execute("SELECT count(*) FROM trace_possible_matches").fetchone()[0] == 0

    con.execute("CREATE TABLE std_records AS SELECT source, record_id FROM link_input")
    con.execute("SELECT source, record_id, child_id, confidence FROM identities").df().to_parquet(
        tmp_path / "identities.parquet")
    con.execute("""SELECT l.source AS source_l, l.record_id AS record_id_l, r.source AS source_r,
                          r.record_id AS record_id_r, p.match_probability
                   FROM pairs p JOIN link_input l ON l.rec_key = p.rec_key_l
                   JOIN link_input r ON r.rec_key = p.rec_key_r""").df().to_parquet(tmp_path / "pairs.parquet")
    identities_from_run(con, tmp_path, review_low=0.6)        # at the low end counts
    assert con.execute("SELECT record_id_l, record_id_r FROM trace_possible_matches").fetchall() == [("G1", "E1")]

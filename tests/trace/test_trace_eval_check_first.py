"""Scoring a trace's check-first file against the truth (linkage/evaluate/trace_accuracy.py)."""

import pandas as pd
import pytest

from linkage.evaluate.trace_accuracy import trace_accuracy


def world(tmp_path, *, with_check: bool):
    truth_dir, trace_dir = tmp_path / "world", tmp_path / "trace"
    truth_dir.mkdir(), trace_dir.mkdir()
    pd.DataFrame({"source": ["gp", "gp", "gp", "ed"], "record_id": ["1", "2", "3", "3"],
                  "person_id": ["P1", "P2", "P3", "P3"]}).to_csv(truth_dir / "truth.csv", index=False)
    pd.DataFrame({"case_id": ["A"], "destination": ["no_trace"], "known_to_social_care": [False]}).to_csv(
        truth_dir / "cme_truth.csv", index=False)
    pd.DataFrame({"person_id": ["P1", "P2"]}).to_csv(truth_dir / "truth_not_in_education.csv", index=False)
    # P3's GP record was split from their school record (C3 / C4): on the check list, rightly
    pd.DataFrame({"source": ["gp", "gp", "gp", "ed"], "record_id": ["1", "2", "3", "3"],
                  "child_id": ["C1", "C2", "C3", "C4"]}).to_parquet(tmp_path / "identities.parquet")
    pd.DataFrame({"case_id": ["A"], "destination": ["no_trace"], "known_to_social_care": ["false"]}).to_csv(
        trace_dir / "cme_trace.csv", index=False)
    pd.DataFrame({"child_id": ["C1"]}).to_csv(trace_dir / "not_in_education.csv", index=False)
    if with_check:     # C2 (P2, truly out of school: a sibling on roll) and C3 (P3, on roll) to check
        pd.DataFrame({"child_id": ["C2", "C3"], "possible_match_child_id": ["C4", "C4"]}).to_csv(
            trace_dir / "not_in_education_check.csv", index=False)
    return trace_dir, tmp_path / "identities.parquet", truth_dir


def test_check_first_rows_are_scored_and_recall_counts_both_files(tmp_path):
    got = trace_accuracy(*world(tmp_path, with_check=True))
    assert (got["not_in_education_precision"], got["not_in_education_recall"]) == (1.0, pytest.approx(0.5))
    assert (got["check_first_listed"], got["check_first_truly_not_in_education"]) == (2, 1)
    assert got["not_in_education_recall_with_check"] == 1.0


def test_a_trace_without_a_check_file_is_scored_as_before(tmp_path):
    got = trace_accuracy(*world(tmp_path, with_check=False))
    assert "check_first_listed" not in got and got["not_in_education_recall"] == pytest.approx(0.5)

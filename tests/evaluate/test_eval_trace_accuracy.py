import pandas as pd
import pytest

from linkage.evaluate.trace_accuracy import trace_accuracy


def test_trace_accuracy_counts_destinations_and_listed_children(tmp_path):
    truth_dir, trace_dir = tmp_path / "world", tmp_path / "trace"
    truth_dir.mkdir(), trace_dir.mkdir()
    pd.DataFrame({"source": ["gp", "ed", "gp", "ed", "gp"], "record_id": ["1", "1", "2", "2", "3"],
                  "person_id": ["P1", "P1", "P2", "P2", "P3"]}).to_csv(truth_dir / "truth.csv", index=False)
    pd.DataFrame({"case_id": ["A", "B", "C"], "destination": ["left_england", "no_trace", "left_england"],
                  "known_to_social_care": [True, False, False]}).to_csv(truth_dir / "cme_truth.csv", index=False)
    pd.DataFrame({"person_id": ["P1", "P3"]}).to_csv(truth_dir / "truth_not_in_education.csv", index=False)
    # P2's two records were split into C2 and C4; C4 (P2, not truly out of school) is wrongly listed
    ids = pd.DataFrame({"source": ["gp", "ed", "gp", "ed", "gp"], "record_id": ["1", "1", "2", "2", "3"],
                        "child_id": ["C1", "C1", "C2", "C4", "C3"]})
    ids.to_parquet(tmp_path / "identities.parquet")
    pd.DataFrame({"case_id": ["A", "B", "C"], "destination": ["left_england", "left_england", "moved_out_of_area"],
                  "known_to_social_care": ["true", "false", "false"]}).to_csv(trace_dir / "cme_trace.csv", index=False)
    pd.DataFrame({"child_id": ["C1", "C4"]}).to_csv(trace_dir / "not_in_education.csv", index=False)
    got = trace_accuracy(trace_dir, tmp_path / "identities.parquet", truth_dir)
    assert got["destination_accuracy"] == pytest.approx(1 / 3)
    assert got["known_to_social_care_accuracy"] == 1.0
    assert got["left_england_precision"] == pytest.approx(0.5)      # B was called left_england wrongly
    assert got["not_in_education_precision"] == pytest.approx(0.5)  # C4 is P2, not in the truth
    assert got["not_in_education_recall"] == pytest.approx(0.5)     # P3 was missed

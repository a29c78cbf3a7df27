"""Linking the committed sample with the committed model keeps its accuracy (a regression guard)."""

import pandas as pd
from click.testing import CliRunner

from cli import main


def test_sample_linkage_meets_the_accuracy_floor_and_reports_it(tmp_path):
    result = CliRunner().invoke(main, ["link", "sample_data/job.yaml", "--out", str(tmp_path),
                                       "--truth", "sample_data/truth.csv", "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "evaluation.csv").set_index("population")
    children = table.loc["children's records"]
    assert children.precision >= 0.995 and children.recall >= 0.98
    assert table.loc["all records"].precision >= 0.995
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Accuracy against the truth file" in html and "Recall of children" in html
    assert "pairwise   precision" in result.output

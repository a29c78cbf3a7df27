"""Reports render in a real browser with the network cut off (headless Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags from the machine notes: no background networking; a dead proxy cuts everything else off.
OFFLINE_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--proxy-server=127.0.0.1:9", "--virtual-time-budget=8000"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")


def rendered_dom(page, tmp_path) -> str:
    out = subprocess.run([CHROMIUM, *OFFLINE_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          page.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout


def test_link_report_renders_every_chart_offline(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["link", "sample_data/job.yaml", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    dom = rendered_dom(out / "report.html", tmp_path)
    charts = re.findall(r'id="chart\d+"', dom)
    assert len(charts) >= 5
    # vega-embed draws each chart into an element with class "marks"; an error would say so
    assert dom.count('class="marks"') == len(charts)
    assert "Error loading" not in dom and "Javascript Error" not in dom

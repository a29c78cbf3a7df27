"""Render the NHS-number what-if's headline charts to docs/nhs_adoption.png (the README picture).

Run:  python docs/nhs_adoption_png.py OUT/nhs_adoption.csv   (OUT from `childlink evaluate nhs-adoption`)

The charts are the report's own (linkage.report.nhs_adoption_report), drawn by headless Chromium
with the network cut off, as the browser tests do.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from linkage.evaluate.nhs_summary import summarise  # noqa: E402
from linkage.report.nhs_adoption_report import chart_page  # noqa: E402

TARGET = ROOT / "docs" / "nhs_adoption.png"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=8000",
         "--hide-scrollbars", "--window-size=1030,720"]


def render(results_csv: Path, target: Path = TARGET) -> Path:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed (.ci/run shows how to install it)")
    page = chart_page(summarise(pd.read_csv(results_csv))).render()
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "chart.html"
        html.write_text(page, encoding="utf-8")
        subprocess.run([chromium, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}", f"--screenshot={target}",
                        html.as_uri()], check=True, capture_output=True, timeout=120)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(f"wrote {render(Path(sys.argv[1]))}")

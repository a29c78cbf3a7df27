"""Screenshots of the review app on the committed sample: docs/review_queue.png and docs/review_pair.png.

Run:  python docs/make_screenshots.py   (needs Debian's chromium and the playwright package;
the sample is linked into a temporary folder, and decisions go to a temporary workspace).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from linkage.job import load_job  # noqa: E402
from linkage.link import link  # noqa: E402
from linkage.review.app import create_app  # noqa: E402
from linkage.review.serve import BackgroundServer, allowed_hosts, load_review  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def sample_job(folder: Path):
    """The sample's job with its workspace in ``folder`` (so no decisions land beside the sample)."""
    raw = yaml.safe_load((ROOT / "sample_data" / "job.yaml").read_text(encoding="utf-8"))
    for source in raw["sources"]:
        source["path"] = str(ROOT / "sample_data" / source["path"])
    for key in ("postcode_lookup", "cme_cases"):
        raw[key] = str(ROOT / "sample_data" / raw[key])
    raw.setdefault("linkage", {})["workspace"] = str(folder / "workspace")
    (folder / "job.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_job(folder / "job.yaml")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        job = sample_job(folder)
        link(job, folder / "run", write_report=False)
        ctx = load_review(job, folder / "run")
        # A pair touching a CME case, with evidence both ways, makes the most telling picture.
        item = ctx.con.execute("""select item from review_queue where priority = 0
                                  order by abs(match_weight) limit 1""").fetchall()[0][0]
        with BackgroundServer(create_app(ctx, allowed_hosts=allowed_hosts("127.0.0.1"))) as server, \
                sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server.url}/queue?token={ctx.access.token}")
            page.fill("#reviewer", "A. Officer")
            page.click("button[type=submit]")
            page.wait_for_selector("#queue")
            page.screenshot(path=str(ROOT / "docs" / "review_queue.png"))
            page.goto(f"{server.url}/pair/{item}")
            page.wait_for_selector("#evidence")
            page.screenshot(path=str(ROOT / "docs" / "review_pair.png"), full_page=True)
            browser.close()
    print("wrote docs/review_queue.png and docs/review_pair.png")


if __name__ == "__main__":
    main()

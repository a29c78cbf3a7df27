"""The review app in headless Chromium (Debian's, driven by Playwright): queue, decisions by
keyboard and mouse, undo, persistence, two reviewers at once, names that look like markup."""

from __future__ import annotations

import shutil

import pytest

from linkage.review.app import create_app
from linkage.review.serve import BackgroundServer, allowed_hosts, load_review

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency (pip install -e '.[test]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def ctx(world, make_job, tmp_path_factory):
    # A wide band, so the queue surely holds the markup pair whatever the model's exact score.
    job = make_job(world, tmp_path_factory.mktemp("browser") / "ws", review_band=[0.01, 0.999])
    return load_review(job, world / "run")


@pytest.fixture(scope="module")
def server(ctx):
    with BackgroundServer(create_app(ctx, allowed_hosts=allowed_hosts("127.0.0.1"))) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def sign_in(browser, server, ctx, name: str):
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/queue?token={ctx.access.token}")
    page.fill("#reviewer", name)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue")
    return page


def press(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def click(page, selector: str):
    with page.expect_navigation() as nav:
        page.click(selector)
    return nav.value


def test_queue_loads_most_consequential_first_and_filters(browser, server, ctx):
    page = sign_in(browser, server, ctx, "Ann")
    rows = page.locator("#queue tbody tr")
    assert rows.count() == min(100, ctx.con.execute("select count(*) from review_queue").fetchall()[0][0])
    priorities = [p for (p,) in ctx.con.execute("select priority from review_queue order by item").fetchall()]
    assert priorities == sorted(priorities) and priorities[0] == 0
    assert "CME case record" in rows.first.inner_text()
    pair = ctx.con.execute("select source_pair from review_queue group by 1 order by count(*) limit 1").fetchall()[0][0]
    page.select_option("#source_pair", pair)
    click(page, "#filters button[type=submit]")
    sources = page.locator("#queue tbody tr td:nth-child(3)").all_inner_texts()
    assert sources and all(s == pair for s in sources)


def test_decide_by_keyboard_and_mouse_undo_and_find_it_all_after_reload(browser, server, ctx):
    page = sign_in(browser, server, ctx, "Ann")
    page.goto(f"{server.url}/pair/10")
    press(page, "s")
    assert page.url.endswith("/pair/11?done=10")
    assert "pair 10 is same child" in page.inner_text("#saved")
    press(page, "u")                                    # undo the decision just saved
    assert "/pair/10?" in page.url and page.is_visible("#undone")
    assert "No decision yet" in page.inner_text("#status")
    press(page, "d")
    assert "pair 10 is different children" in page.inner_text("#saved")
    press(page, "n")                                    # pair 11: not sure
    click(page, "#decide-same")                         # pair 12, with the mouse
    click(page, "#decide-different")                    # pair 13
    page.fill("#note", "different school years")
    click(page, "#decide-not-sure")                     # pair 14, with a note
    page.goto(f"{server.url}/pair/13")
    click(page, "#undo")                                # mouse undo
    assert "No decision yet" in page.inner_text("#status")
    click(page, "#decide-different")

    again = sign_in(browser, server, ctx, "Ann")        # a fresh browser session: nothing lost
    again.goto(f"{server.url}/queue?status=all")
    status = {int(r.locator("td").nth(0).inner_text()): r.locator("td").nth(5).inner_text()
              for r in again.locator("#queue tbody tr").all()}
    assert [status[i].split(" by ")[0] for i in range(10, 15)] == \
        ["different children", "not sure", "same child", "different children", "not sure"]
    again.goto(f"{server.url}/pair/13")
    assert [e.split(" — ")[1] for e in again.locator("#history li").all_inner_texts()] == \
        ["different children", "undid the last decision", "different children"]
    again.goto(f"{server.url}/pair/14")
    assert "different school years" in again.inner_text("#status")


def test_two_reviewers_deciding_one_pair_get_a_conflict_not_a_lost_decision(browser, server, ctx):
    ann, ben = sign_in(browser, server, ctx, "Ann"), sign_in(browser, server, ctx, "Ben")
    for page in (ann, ben):
        page.goto(f"{server.url}/pair/30")
    assert click(ann, "#decide-same").status == 200
    response = click(ben, "#decide-different")
    assert response.status == 409
    conflict = ben.inner_text("#conflict")
    assert "changed by Ann" in conflict and "same child" in conflict and "not saved" in conflict.lower()
    assert "same child" in ben.inner_text("#status")
    assert click(ben, "#decide-different").status == 200  # having seen Ann's decision, Ben may change it
    key = ctx.con.execute("select pair_sa, pair_ra, pair_sb, pair_rb from review_queue where item = 30").fetchall()[0]
    from linkage.review.store import PairKey

    assert [(e.reviewer, e.action) for e in ctx.store.history(PairKey(*key))] == [("Ann", "same"), ("Ben", "different")]


def test_names_that_look_like_markup_render_as_text(browser, server, ctx):
    item = ctx.con.execute("""select item from review_queue
                              where record_id_l like 'XSS-%' and record_id_r like 'XSS-%'""").fetchall()
    assert item, "the markup pair should be in the review queue"
    page = sign_in(browser, server, ctx, "<b>Eve</b><script>window.pwned=2</script>")
    page.goto(f"{server.url}/pair/{item[0][0]}")
    assert page.evaluate("() => window.pwned") is None
    cells = page.locator("#records tbody td").all_inner_texts()
    assert "Amy<script>window.pwned=1</script>" in cells and "O'Hara <b>&amp;</b>" in cells
    assert page.locator("#records b, #records script").count() == 0
    assert page.inner_text("#reviewer-name") == "<b>Eve</b><script>window.pwned=2</script>"

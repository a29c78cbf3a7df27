"""The review app under hostile use (issue 9), beyond what tests/review already holds.

tests/review covers: requests without the token, the token leaving the address bar, a decision
without the CSRF token, a foreign Host header, CSP and no-store headers, markup in names on the
pair page and in the reviewer's name (in a browser), binding 0.0.0.0 without --allow-remote.
Here: template syntax, quotes and markup on every page (the data cannot break out of text or an
attribute), every state-changing form without its token or from another site, sign-in rate
limiting, binding rules for more addresses, directory traversal through every route, open
redirects, and error pages that do not echo what was typed.
"""

from __future__ import annotations

import socket
import warnings
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from linkage.errors import ChildlinkError
from linkage.job import load_job
from linkage.link import link
from linkage.review.access import LOCKOUT, MAX_FAILURES, PASSWORD_ENV, SignInLimiter, check_bind
from linkage.review.app import create_app
from linkage.review.serve import BackgroundServer, allowed_hosts, load_review
from linkage.review.store import PairKey
from linkage.synthetic.world import generate

with warnings.catch_warnings():
    # Starlette would rather its TestClient ran on httpx2; on httpx it works the same for these tests.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
TEMPLATE = "{{7*7}}{% if true %}IF{% endif %}${7*7}"
FORENAME = "Amy" + TEMPLATE + "<script>window.pwned=1</script>"
SURNAME = "O'Hara\" onmouseover=\"alert(1)\" data-pwned=\"<img src=x onerror=alert(2)>"
REVIEWER = "Eve\" autofocus onfocus=\"alert(3)<script>alert(4)</script>{{7*7}}"
NOTE = "</textarea><script>alert(5)</script>{{ config }}"
JOB_NAME = "job_{{7*7}}<b>&amp;x\"<i>.yaml"
MARKUP_GP = pd.DataFrame([
    {"record_id": "XSS-1", "forename": FORENAME, "surname": SURNAME, "dob": "2015-03-04", "sex": "F",
     "postcode": "B13 9QT", "practice_code": "M85001", "registration_date": "2016-01-01"},
    {"record_id": "XSS-2", "forename": "Amy", "surname": "O'Hara", "dob": "2015-03-04", "sex": "M",
     "postcode": "B20 1EE", "practice_code": "M85002", "registration_date": "2019-01-01"},
])


# ------------------------------------------------------------------ a world whose names are markup
@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("security")
    generate(100, 9, folder)
    MARKUP_GP.to_csv(folder / "markup_gp.csv", index=False)
    raw = yaml.safe_load((folder / "job.yaml").read_text())
    raw["sources"].append({"name": "markup_gp", "type": "gp", "path": "markup_gp.csv"})
    # A wide band, so the markup pair is surely in the queue whatever the model's exact score.
    raw["linkage"] = {"review_band": [0.01, 0.999], "workspace": str(folder / "ws")}
    job_path = folder / JOB_NAME
    job_path.write_text(yaml.safe_dump(raw))
    job = load_job(job_path)
    link(job, folder / "run", write_report=False)
    return load_review(job, folder / "run", password=PASSWORD)


@pytest.fixture(scope="module")
def markup_item(ctx) -> int:
    rows = ctx.con.execute("""select item from review_queue
                              where record_id_l like 'XSS-%' and record_id_r like 'XSS-%'""").fetchall()
    assert rows, "the markup pair should be in the review queue"
    return rows[0][0]


def client_for(ctx, address: str = "127.0.0.1") -> TestClient:
    return TestClient(create_app(ctx, allowed_hosts=allowed_hosts("127.0.0.1")), base_url="http://127.0.0.1",
                      client=(address, 50000), follow_redirects=False)


def sign_in(ctx, address: str = "127.0.0.1", name: str = "Ann") -> TestClient:
    client = client_for(ctx, address)
    assert client.get(f"/?token={ctx.access.token}").status_code == 303
    response = client.post("/name", data={"reviewer": name, "csrf": csrf_of(client.get("/name").text),
                                          "next": "/queue"})
    assert response.status_code == 303
    return client


def csrf_of(html: str) -> str:
    return Page(html).input_value("csrf")


class Page(HTMLParser):
    """A parsed page: its elements with their attributes, and its text as a reader sees it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def input_value(self, name: str) -> str:
        return next(a["value"] for t, a in self.elements if t == "input" and a.get("name") == name)

    def attribute_values(self) -> list[str]:
        return [v for _, attrs in self.elements for v in attrs.values() if v]


def assert_inert(html: str) -> Page:
    """No markup of the data's became an element, an attribute or a template expression."""
    page = Page(html)
    tags = {tag for tag, _ in page.elements}
    assert "img" not in tags
    assert [a for t, a in page.elements if t == "script"] == [{"src": "/static/review.js"}]
    assert not [name for _, attrs in page.elements for name in attrs if name.startswith("on") or name == "data-pwned"]
    return page


# ------------------------------------------------------------------ markup and template syntax
def test_markup_quotes_and_template_syntax_render_as_text_on_the_pair_page(ctx, markup_item):
    client = sign_in(ctx, name=REVIEWER)
    version = Page(client.get(f"/pair/{markup_item}").text).input_value("version")
    page = client.get(f"/pair/{markup_item}").text
    client.post(f"/pair/{markup_item}/decide", data={"decision": "not_sure", "version": version, "note": NOTE,
                                                     "csrf": csrf_of(page)})
    parsed = assert_inert(client.get(f"/pair/{markup_item}").text)
    # Verbatim, so nothing was evaluated: {{7*7}} did not become 49, {% if %} did not run.
    for text in (FORENAME, SURNAME, REVIEWER, NOTE, JOB_NAME):
        assert text in parsed.text, text
    assert not [v for v in parsed.attribute_values() if "alert" in v]


@pytest.mark.parametrize("path", ["/queue?status=all", "/queue?source_pair=%3Cscript%3E%7B%7B7*7%7D%7D%22",
                                  "/login?next=/%22%3E%3Cscript%3Ealert(1)%3C/script%3E%7B%7B7*7%7D%7D",
                                  "/name?next=/%22%20onfocus=%22alert(1)",
                                  "/pair/987654", "/pair/%3Cscript%3E", "/no-such-page%3Cscript%3E"])
def test_every_page_keeps_data_and_address_parts_inert(ctx, path):
    client = sign_in(ctx, name=REVIEWER)
    response = client.get(path)
    assert response.status_code in (200, 400, 404)
    if response.headers["content-type"].startswith("text/html"):
        page = assert_inert(response.text)
        assert REVIEWER in page.text or "Reviewing as" not in page.text
    else:
        assert "<script" not in response.text


def test_error_pages_do_not_echo_what_was_typed(ctx):
    """FastAPI's own answer to a malformed address quotes the input back; the app's does not."""
    client = sign_in(ctx)
    for path in ("/pair/Watson-2010-07-17", "/queue?page=Lily%20Watson"):
        response = client.get(path)
        assert response.status_code == 400 and "Watson" not in response.text and "Lily" not in response.text
        assert response.headers["content-type"].startswith("text/html")


# ------------------------------------------------------------------ CSRF and cross-site requests
def test_every_state_changing_form_needs_its_csrf_token(ctx, markup_item):
    client = sign_in(ctx)
    before = ctx.store.current()
    for path, data in ((f"/pair/{markup_item}/decide", {"decision": "same", "version": 9}),
                       (f"/pair/{markup_item}/undo", {"version": 9}),
                       ("/name", {"reviewer": "Mallory"})):
        for csrf in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": ctx.access.csrf_token("another-session")}):
            assert client.post(path, data={**data, **csrf}).status_code == 403, (path, csrf)
    assert ctx.store.current().equals(before)
    assert "Mallory" not in client.get("/queue").text


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},                   # another port of this machine is the same site
    {"Origin": "http://127.0.0.1:9999"},               # an older browser: Origin only
    {"Origin": "https://127.0.0.1"},
])
def test_a_post_from_another_site_is_refused_even_with_a_valid_token(ctx, markup_item, headers):
    client = sign_in(ctx)
    page = client.get(f"/pair/{markup_item}").text
    before = ctx.store.current()
    form = {"decision": "different", "version": Page(page).input_value("version"), "csrf": csrf_of(page)}
    assert client.post(f"/pair/{markup_item}/decide", data=form, headers=headers).status_code == 403
    assert client_for(ctx).post("/login", data={"code": PASSWORD, "reviewer": "X"},
                                headers=headers).status_code == 403
    assert ctx.store.current().equals(before)
    # The same form from the app's own page goes through (the refusal above was for the origin alone).
    own = {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}
    assert client.post(f"/pair/{markup_item}/decide", data=form, headers=own).status_code == 303
    state = ctx.store.state(PairKey.of(*ctx.con.execute(
        "select source_l, record_id_l, source_r, record_id_r from review_queue where item = ?",
        [markup_item]).fetchall()[0]))
    assert state.decision == "different"
    client.post(f"/pair/{markup_item}/undo", data={"version": state.version, "csrf": form["csrf"]}, headers=own)


# ------------------------------------------------------------------ rate limiting
def test_wrong_codes_lock_the_client_out_then_let_it_try_again():
    now = [0.0]
    limiter = SignInLimiter(clock=lambda: now[0])
    for _ in range(MAX_FAILURES - 1):
        limiter.failed("a")
    assert limiter.retry_after("a") == 0
    limiter.succeeded("a")                      # a right code wipes the count
    for _ in range(MAX_FAILURES - 1):
        limiter.failed("a")
    now[0] = 61.0                               # failures older than the window no longer count
    limiter.failed("a")
    assert limiter.retry_after("a") == 0
    for _ in range(MAX_FAILURES - 1):
        limiter.failed("a")
    assert limiter.retry_after("a") == LOCKOUT and limiter.retry_after("b") == 0
    now[0] += LOCKOUT
    assert limiter.retry_after("a") == 0


def test_the_password_and_the_token_are_rate_limited_per_client(ctx):
    guesser = client_for(ctx, "10.0.0.1")
    for i in range(MAX_FAILURES):
        assert guesser.post("/login", data={"code": f"guess{i}", "reviewer": "X"}).status_code == 401
    locked = guesser.post("/login", data={"code": PASSWORD, "reviewer": "X"})       # right, but too late
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert guesser.get(f"/queue?token={ctx.access.token}").status_code == 429
    assert "childlink_review" not in guesser.cookies
    assert client_for(ctx, "10.0.0.2").post("/login", data={"code": PASSWORD, "reviewer": "X"}).status_code == 303

    token_guesser = client_for(ctx, "10.0.0.3")
    for i in range(MAX_FAILURES):
        assert token_guesser.get(f"/queue?token=guess{i}").status_code == 401
    assert token_guesser.get(f"/queue?token={ctx.access.token}").status_code == 429


# ------------------------------------------------------------------ binding
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.1.2.3", "0", "example.org"])
def test_any_address_beyond_loopback_needs_allow_remote_and_a_password(host):
    with pytest.raises(ChildlinkError, match="--allow-remote"):
        check_bind(host, allow_remote=False, password=PASSWORD)
    with pytest.raises(ChildlinkError, match="password"):
        check_bind(host, allow_remote=True, password=None)
    with pytest.raises(ChildlinkError, match="password"):
        check_bind(host, allow_remote=True, password="")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_addresses_need_nothing_more(host):
    check_bind(host, allow_remote=False, password=None)


def test_the_cli_refuses_allow_remote_without_a_password_before_reading_anything(tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({"home_la": "330", "sources": [{"name": "gp", "type": "gp",
                                                                   "path": "missing.csv"}]}))
    out = CliRunner().invoke(main, ["review", "serve", str(job), "--run", str(tmp_path / "no_run"),
                                    "--host", "0.0.0.0", "--allow-remote"])
    assert out.exit_code == 2 and "without a reviewer password" in out.output and "Traceback" not in out.output


# ------------------------------------------------------------------ traversal and redirects
def raw_get(url: str, path: str, cookie: str | None = None) -> tuple[int, str]:
    """GET ``path`` exactly as written (no client normalises the dots away)."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
    request += f"Cookie: childlink_review={cookie}\r\n\r\n" if cookie else "\r\n"
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


TRAVERSALS = ["/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/app.py", "/static/%2e%2e%2fapp.py",
              "/static/..%5capp.py", "/static/..\\app.py", "/static/%252e%252e%252fapp.py", "/static/....//app.py",
              "/static/../../review/access.py", "/static/../templates/pair.html", "/static//etc/passwd",
              "/static/%2fetc%2fpasswd", "/static/..;/app.py", "/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
              "/pair/..%2f..%2f..%2fetc%2fpasswd", "/pair/1/..%2f..%2fapp.py", "/queue/../../etc/passwd",
              "/static/%c0%ae%c0%ae/app.py"]


def test_no_route_reaches_a_file_outside_the_static_folder(ctx):
    with BackgroundServer(create_app(ctx, allowed_hosts=allowed_hosts("127.0.0.1"))) as server:
        client = sign_in(ctx)
        cookie = client.cookies["childlink_review"]
        status, css = raw_get(server.url, "/static/review.css")
        assert status == 200 and "{" in css                      # the static route does serve its own files
        for path in TRAVERSALS:
            for session in (None, cookie):
                status, body = raw_get(server.url, path, session)
                assert status in (400, 401, 404), (path, status)
                assert "import " not in body and "root:" not in body and "{% " not in body, path


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/",
                                    "/%2fevil.example", "\\\\evil.example", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_the_app(ctx, target):
    response = client_for(ctx).post("/login", data={"code": PASSWORD, "reviewer": "Ann", "next": target})
    assert response.status_code == 303
    assert urlsplit(urljoin("http://127.0.0.1:8765/", response.headers["location"])).netloc == "127.0.0.1:8765"
    client = sign_in(ctx)
    named = client.post("/name", data={"reviewer": "Ann", "next": target, "csrf": csrf_of(client.get("/name").text)})
    assert named.status_code == 303
    assert urlsplit(urljoin("http://127.0.0.1:8765/", named.headers["location"])).netloc == "127.0.0.1:8765"


def test_the_decision_store_is_owner_only(ctx, markup_item):
    """Decisions and reviewers' notes (which may name the child) are readable by their owner only."""
    sign_in(ctx)                           # at least one session, so the store has been written
    for path in ctx.store.path.parent.glob(ctx.store.path.name + "*"):
        assert path.stat().st_mode & 0o777 == 0o600, path.name

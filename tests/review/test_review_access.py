"""Access to the review app over HTTP: token, sessions, CSRF, Host header, blind mode, the server log."""

from __future__ import annotations

import dataclasses
import logging
import re

import httpx
import pytest
from click.testing import CliRunner

from cli import main
from linkage.errors import ChildlinkError
from linkage.review.access import PASSWORD_ENV, check_bind, job_password
from linkage.review.app import create_app
from linkage.review.serve import BackgroundServer, allowed_hosts, load_review


@pytest.fixture(scope="module")
def ctx(world, make_job, tmp_path_factory):
    job = make_job(world, tmp_path_factory.mktemp("access") / "ws")
    return load_review(job, world / "run", password="correct horse")


@pytest.fixture(scope="module")
def server(ctx):
    with BackgroundServer(create_app(ctx, allowed_hosts=allowed_hosts("127.0.0.1"))) as srv:
        yield srv


def signed_in(server, ctx, name="Ann") -> httpx.Client:
    client = httpx.Client(base_url=server.url)
    client.get(f"/queue?token={ctx.access.token}")
    session = client.cookies["childlink_review"]
    client.post("/name", data={"reviewer": name, "csrf": ctx.access.csrf_token(session), "next": "/queue"})
    return client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_requests_without_the_token_are_refused(server, ctx):
    anonymous = httpx.Client(base_url=server.url)
    first = ctx.con.execute("select record_id_l, record_id_r from review_queue where item = 1").fetchall()[0]
    for path in ("/queue", "/pair/1", "/", "/queue?token=wrong"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert "Sign in" in response.text and 'id="queue"' not in response.text and 'id="records"' not in response.text
        assert not any(record_id in response.text for record_id in first)
    refused = anonymous.post("/pair/1/decide", data={"decision": "same", "version": 0, "csrf": "x"})
    assert refused.status_code == 401
    assert ctx.store.current().empty


def test_the_token_in_the_address_opens_a_session_and_leaves_the_address(server, ctx):
    client = httpx.Client(base_url=server.url)
    response = client.get(f"/queue?status=all&token={ctx.access.token}")
    assert response.status_code == 303 and "token" not in response.headers["location"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/queue").status_code == 303        # asks the reviewer's name first
    assert client.get("/name").status_code == 200


def test_the_reviewer_password_signs_in_too_and_a_wrong_one_does_not(server):
    client = httpx.Client(base_url=server.url)
    assert client.post("/login", data={"code": "wrong", "reviewer": "Ann"}).status_code == 401
    ok = client.post("/login", data={"code": "correct horse", "reviewer": "Ann", "next": "/queue"})
    assert ok.status_code == 303 and client.get("/queue").status_code == 200


def test_a_decision_without_the_csrf_token_is_refused(server, ctx):
    client = signed_in(server, ctx)
    response = client.post("/pair/3/decide", data={"decision": "same", "version": 0, "csrf": "forged"})
    assert response.status_code == 403
    assert client.get("/pair/3").status_code == 200 and "No decision yet" in client.get("/pair/3").text


def test_requests_for_another_host_name_are_refused(server, ctx):
    response = httpx.get(f"{server.url}/queue?token={ctx.access.token}", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_pages_forbid_inline_script_and_caching(server, ctx):
    response = signed_in(server, ctx).get("/pair/1")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_server_log_names_items_never_records_or_people(server, ctx, caplog):
    client = signed_in(server, ctx, name="Zebedee Quux")
    page = client.get("/pair/4")
    with caplog.at_level(logging.INFO, logger="childlink.review"):
        client.post("/pair/4/decide", data={"decision": "different", "version": 0, "csrf": csrf_of(page.text),
                                            "note": "Zebedee thinks not"})
        client.post("/pair/4/decide", data={"decision": "same", "version": 0, "csrf": csrf_of(page.text)})
    lines = [r.getMessage() for r in caplog.records if r.name == "childlink.review"]
    assert "pair #4: decision recorded (different)" in lines and "pair #4: stale decision refused (409)" in lines
    row = ctx.con.execute("select * from review_queue where item = 4").fetchdf().iloc[0]
    secrets = [row.record_id_l, row.record_id_r, "Zebedee", ctx.access.token]
    assert not [line for line in lines for s in secrets if s in line]


def test_blind_mode_hides_scores_and_evidence_and_marks_decisions_blind(ctx):
    blind = dataclasses.replace(ctx, blind=True)
    with BackgroundServer(create_app(blind, allowed_hosts=allowed_hosts("127.0.0.1"))) as srv:
        client = signed_in(srv, blind)
        queue = client.get("/queue").text
        assert "Blind mode" in queue and "Chance same child" not in queue and "%</td>" not in queue
        page = client.get("/pair/5").text
        assert 'id="evidence"' not in page and "% chance" not in page and "currently linked" not in page
        assert 'id="records"' in page
        client.post("/pair/5/decide", data={"decision": "not_sure", "version": 0, "csrf": csrf_of(page)})
    row = ctx.con.execute("select pair_sa, pair_ra, pair_sb, pair_rb from review_queue where item = 5").fetchall()[0]
    current = ctx.store.current()
    decided = current[(current.source_a == row[0]) & (current.record_id_a == row[1])
                      & (current.source_b == row[2]) & (current.record_id_b == row[3])].iloc[0]
    assert decided.decision == "not_sure" and decided.blind


def test_binding_beyond_loopback_needs_allow_remote_and_a_password():
    check_bind("127.0.0.1", allow_remote=False, password=None)
    check_bind("::1", allow_remote=False, password=None)
    with pytest.raises(ChildlinkError, match="--allow-remote"):
        check_bind("0.0.0.0", allow_remote=False, password="pw")
    with pytest.raises(ChildlinkError, match="password"):
        check_bind("0.0.0.0", allow_remote=True, password=None)
    check_bind("0.0.0.0", allow_remote=True, password="pw")


def test_password_comes_from_the_environment_or_the_job_file(tmp_path, monkeypatch):
    job = tmp_path / "job.yaml"
    job.write_text("home_la: '330'\nreview: {password: s3cret}\n")
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert job_password(job) == "s3cret"
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert job_password(job) == "from-env"
    monkeypatch.delenv(PASSWORD_ENV)
    job.write_text("home_la: '330'\nreview: [oops]\n")
    with pytest.raises(ChildlinkError, match="'review' must be a mapping"):
        job_password(job)


def test_cli_refuses_a_public_address_without_allow_remote(world, make_job, tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    job = make_job(world, tmp_path / "ws")
    out = CliRunner().invoke(main, ["review", "serve", str(job.path), "--run", str(world / "run"),
                                    "--host", "0.0.0.0"])
    assert out.exit_code == 2 and "--allow-remote" in out.output and "Traceback" not in out.output

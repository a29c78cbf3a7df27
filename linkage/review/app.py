"""The review web app: a queue, a side-by-side pair view, decisions with undo.

Server-rendered HTML (Jinja2 with autoescape: names are data, never markup) and one small
script for keyboard shortcuts; forms work without it. Every asset is served from this package.
The server log names queue items by number, never records, people or reviewers; the access log
(``childlink.review.access``) names the route, never the address as sent, whose query string or
unmatched path may hold a name, a date of birth or the sign-in token.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import jinja2
from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount

from .access import SESSION_COOKIE, Access
from .pair_view import pair_view
from .queue import PRIORITY_LABELS, QUEUE
from .store import DECISIONS, DecisionStore, PairKey, StaleDecision

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 100
STATUSES = {"undecided": "undecided", **DECISIONS, "all": "all"}
LOG = logging.getLogger("childlink.review")
ACCESS_LOG = logging.getLogger("childlink.review.access")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

SECURITY_HEADERS = {
    # No inline script or style, nothing from elsewhere: a name that slipped through escaping still could not run.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",   # pages hold children's records: keep them out of the browser cache
    "X-Frame-Options": "DENY",
}


@dataclass
class ReviewContext:
    """What the app serves: a workspace holding the queue and records, and the decision store."""

    con: duckdb.DuckDBPyConnection
    store: DecisionStore
    access: Access
    labels: dict[str, dict[int, str]]
    job_name: str
    review_band: tuple[float, float]
    blind: bool = False


class _NeedsSignIn(Exception):
    pass


class _Forbidden(Exception):
    pass


class _TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


class _Redirect(Exception):
    def __init__(self, url: str, cookie: str | None = None):
        self.url, self.cookie = url, cookie


def create_app(ctx: ReviewContext, *, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The FastAPI app over ``ctx``. ``allowed_hosts`` guards the Host header (DNS rebinding)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or ["*"])
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.globals.update(decisions=DECISIONS, priority_labels=PRIORITY_LABELS, blind=ctx.blind, job_name=ctx.job_name)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        if request.method not in SAFE_METHODS and _cross_site(request):
            LOG.info("cross-site %s refused", request.method)
            response = render("message.html", 403, title="Refused", reviewer=None,
                              message="This form did not come from this app, so nothing was changed.")
        else:
            try:
                response = await call_next(request)
            except Exception as exc:   # noqa: BLE001 - a traceback could quote records into the server log
                LOG.error("internal error (%s) on %s %s", type(exc).__name__, request.method,
                          _logged_path(request.scope))
                response = HTMLResponse("<h1>Something went wrong</h1><p>The decision was not saved. "
                                        "Go back and try again.</p>", status_code=500)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        ACCESS_LOG.info("%s %s %d", request.method, _logged_path(request.scope), response.status_code)
        return response

    def render(template: str, http_status: int = 200, **values) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(**values), status_code=http_status)

    @app.exception_handler(_NeedsSignIn)
    async def needs_sign_in(request: Request, exc: _NeedsSignIn):
        return render("login.html", 401, title="Sign in", reviewer=None, error=None, next=_local(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def not_understood(request: Request, exc: RequestValidationError):
        # FastAPI's own answer quotes the input back; it may be a name or date of birth.
        return render("message.html", 400, title="Not understood", reviewer=None,
                      message="That address or form was not understood. Go back and try again.")

    @app.exception_handler(_TooManyAttempts)
    async def too_many_attempts(request: Request, exc: _TooManyAttempts):
        response = render("message.html", 429, title="Too many attempts", reviewer=None,
                          message="Too many wrong access codes from this computer. Wait a minute and try again.")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def check_attempts(request: Request) -> str:
        """The client's address, unless it is locked out for too many wrong codes."""
        client = request.client.host if request.client else "unknown"
        wait = ctx.access.limiter.retry_after(client)
        if wait:
            LOG.info("sign-in refused: too many wrong codes (429)")
            raise _TooManyAttempts(wait)
        return client

    def sign_in_with(client: str, code: str | None) -> bool:
        """Is ``code`` right? Wrong codes count towards the client's lockout."""
        if ctx.access.accepts(code):
            ctx.access.limiter.succeeded(client)
            return True
        ctx.access.limiter.failed(client)
        LOG.info("sign-in refused")
        return False

    @app.exception_handler(_Redirect)
    async def redirect(request: Request, exc: _Redirect):
        response = RedirectResponse(exc.url, status_code=303)
        if exc.cookie:
            _set_cookie(response, exc.cookie)
        return response

    def signed_in(request: Request, *, need_reviewer: bool = True) -> tuple[str, str | None]:
        """The session id and reviewer name, or sign-in / name page. ``?token=`` opens a session."""
        session_id = request.cookies.get(SESSION_COOKIE)
        session = ctx.access.session(session_id)
        if session is None:
            token = request.query_params.get("token")
            if request.method == "GET" and token is not None and sign_in_with(check_attempts(request), token):
                # Drop the token from the address bar and history once it has done its job.
                query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                LOG.info("session opened with the start-up token")
                raise _Redirect(request.url.path + (f"?{query}" if query else ""), ctx.access.open_session())
            raise _NeedsSignIn()
        if need_reviewer and not session.reviewer:
            raise _Redirect("/name?" + urlencode({"next": _local(request.url.path)}))
        return session_id, session.reviewer

    def check_csrf(session_id: str, token: str) -> None:
        if not ctx.access.csrf_ok(session_id, token):
            raise _Forbidden()

    @app.exception_handler(_Forbidden)
    async def forbidden(request: Request, exc: _Forbidden):
        return render("message.html", 403, title="Refused", reviewer=None,
                      message="This form has expired or did not come from this app. Go back, reload the page "
                              "and try again.")

    @app.get("/")
    def home(request: Request):
        signed_in(request, need_reviewer=False)
        return RedirectResponse("/queue", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/queue"):
        return render("login.html", title="Sign in", reviewer=None, error=None, next=_local(next))

    @app.post("/login")
    def login(request: Request, code: str = Form(""), reviewer: str = Form(""), next: str = Form("/queue")):
        name = " ".join(reviewer.split())[:100]
        if not sign_in_with(check_attempts(request), code.strip()):
            return render("login.html", 401, title="Sign in", reviewer=None, next=_local(next),
                          error="That access code is not right. Use the code printed when the app started, "
                                "or the reviewer password.")
        LOG.info("reviewer signed in")
        response = RedirectResponse(_local(next) if name else "/name?" + urlencode({"next": _local(next)}),
                                    status_code=303)
        _set_cookie(response, ctx.access.open_session(name or None))
        return response

    @app.get("/name", response_class=HTMLResponse)
    def name_page(request: Request, next: str = "/queue"):
        session_id, reviewer = signed_in(request, need_reviewer=False)
        return render("name.html", title="Your name", reviewer=reviewer, next=_local(next),
                      csrf=ctx.access.csrf_token(session_id), error=None)

    @app.post("/name")
    def set_name(request: Request, reviewer: str = Form(""), csrf: str = Form(""), next: str = Form("/queue")):
        session_id, current = signed_in(request, need_reviewer=False)
        check_csrf(session_id, csrf)
        name = " ".join(reviewer.split())[:100]
        if not name:
            return render("name.html", 400, title="Your name", reviewer=current, next=_local(next),
                          csrf=ctx.access.csrf_token(session_id), error="Please give your name: it is recorded "
                                                                         "with each decision you make.")
        ctx.access.set_reviewer(session_id, name)
        return RedirectResponse(_local(next), status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, status: str = "undecided", source_pair: str = "", page: int = 1, done: int = 0):
        session_id, reviewer = signed_in(request)
        status = status if status in STATUSES else "undecided"
        cur = _cursor(ctx)
        counts = dict(cur.execute("""select status, count(*) from _queue_status
                                      where ? = '' or source_pair = ? group by status""",
                                  [source_pair, source_pair]).fetchall())
        counts["all"] = sum(counts.values())
        pairs = cur.execute("select source_pair, count(*) from _queue_status group by 1 order by 1").fetchall()
        where = "(? = 'all' or status = ?) and (? = '' or source_pair = ?)"
        args = [status, status, source_pair, source_pair]
        n = cur.execute(f"select count(*) from _queue_status where {where}", args).fetchall()[0][0]
        page = max(1, min(page, (n + PAGE_SIZE - 1) // PAGE_SIZE or 1))
        rows = cur.execute(f"""select item, priority, source_l, source_r, match_probability, why, status, reviewer
                               from _queue_status where {where} order by item limit {PAGE_SIZE}
                               offset {(page - 1) * PAGE_SIZE}""", args).fetchdf().to_dict("records")
        first = _next_undecided(cur, 0, source_pair)
        return render("queue.html", title="Review queue", reviewer=reviewer, rows=rows, counts=counts,
                      statuses=STATUSES, status=status, source_pairs=pairs, source_pair=source_pair, page=page,
                      pages=(n + PAGE_SIZE - 1) // PAGE_SIZE, n=n, first=first, done=done,
                      filters=_filters(source_pair), band=ctx.review_band)

    @app.get("/pair/{item}", response_class=HTMLResponse)
    def pair(request: Request, item: int, source_pair: str = "", done: int = 0, undone: int = 0):
        session_id, reviewer = signed_in(request)
        cur = _cursor(ctx)
        view = pair_view(cur, item, ctx.labels)
        if view is None:
            return render("message.html", 404, title="Not in the queue", reviewer=reviewer,
                          message=f"There is no pair {item} in this queue.")
        key = PairKey.of(*view.key)
        done_state = None
        if done and done != item:
            done_key = _item_key(cur, done)
            done_state = (done, ctx.store.state(done_key)) if done_key else None
        prev_item, next_item = _neighbours(cur, item, source_pair)
        return render("pair.html", title=f"Pair {item}", reviewer=reviewer, v=view, state=ctx.store.state(key),
                      history=ctx.store.history(key), csrf=ctx.access.csrf_token(session_id),
                      prev_item=prev_item, next_item=next_item, source_pair=source_pair,
                      filters=_filters(source_pair), done_state=done_state, undone=undone, conflict=None)

    @app.post("/pair/{item}/decide")
    def decide(request: Request, item: int, decision: str = Form(...), version: int = Form(...),
               csrf: str = Form(""), note: str = Form(""), source_pair: str = Form("")):
        session_id, reviewer = signed_in(request)
        check_csrf(session_id, csrf)
        cur = _cursor(ctx)
        scores = cur.execute(f"""select source_l, record_id_l, source_r, record_id_r, match_probability, match_weight
                                 from {QUEUE} where item = ?""", [item]).fetchall()
        if not scores or decision not in DECISIONS:
            return render("message.html", 400, title="Not saved", reviewer=reviewer,
                          message="That decision could not be saved: unknown pair or decision.")
        scores = scores[0]
        key = PairKey.of(*scores[:4])
        try:
            ctx.store.decide(key, decision, seen_version=version, reviewer=reviewer, match_probability=scores[4],
                             match_weight=scores[5], note=note[:2000], blind=ctx.blind)
        except StaleDecision as exc:
            LOG.info("pair #%d: stale decision refused (409)", item)
            return _conflict(request, item, str(exc), source_pair, session_id, reviewer)
        LOG.info("pair #%d: decision recorded (%s)", item, decision)
        nxt = _next_undecided(_cursor(ctx), item, source_pair)
        target = f"/pair/{nxt}" if nxt else "/queue"
        return RedirectResponse(target + "?" + urlencode({"done": item, **_filters(source_pair)}), status_code=303)

    @app.post("/pair/{item}/undo")
    def undo(request: Request, item: int, version: int = Form(...), csrf: str = Form(""),
             source_pair: str = Form("")):
        session_id, reviewer = signed_in(request)
        check_csrf(session_id, csrf)
        key = _item_key(_cursor(ctx), item)
        if key is None:
            return render("message.html", 404, title="Not in the queue", reviewer=reviewer,
                          message=f"There is no pair {item} in this queue.")
        try:
            ctx.store.undo(key, seen_version=version, reviewer=reviewer)
        except StaleDecision as exc:
            LOG.info("pair #%d: stale undo refused (409)", item)
            return _conflict(request, item, str(exc), source_pair, session_id, reviewer)
        except ValueError:
            return _conflict(request, item, "there is no decision on this pair to undo.", source_pair,
                             session_id, reviewer)
        LOG.info("pair #%d: decision undone", item)
        return RedirectResponse(f"/pair/{item}?" + urlencode({"undone": 1, **_filters(source_pair)}),
                                status_code=303)

    def _conflict(request, item, message, source_pair, session_id, reviewer) -> HTMLResponse:
        cur = _cursor(ctx)
        view = pair_view(cur, item, ctx.labels)
        key = PairKey.of(*view.key)
        prev_item, next_item = _neighbours(cur, item, source_pair)
        return render("pair.html", 409, title=f"Pair {item}: not saved", reviewer=reviewer, v=view,
                      state=ctx.store.state(key), history=ctx.store.history(key),
                      csrf=ctx.access.csrf_token(session_id), prev_item=prev_item, next_item=next_item,
                      source_pair=source_pair, filters=_filters(source_pair), done_state=None, undone=0,
                      conflict=message)

    return app


# -- helpers --------------------------------------------------------------------------------

def _set_cookie(response: Response, session_id: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", path="/")


def _local(path: str) -> str:
    """Only same-site paths as redirect targets (no open redirects: browsers read ``/\\host`` as ``//host``)."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/queue"


def _cross_site(request: Request) -> bool:
    """Did a browser send this from another site? A form on any other site (another port of this
    machine included) is refused before its CSRF token is even read. Browsers say where a request
    comes from in Sec-Fetch-Site, which no page can forge; older ones only in Origin, which is
    "null" on this app's own forms (its pages send no referrer). Clients that send neither are not
    browsers: the CSRF token still guards them."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin not in (None, "null") and origin != f"{request.url.scheme}://{request.headers.get('host', '')}"


def _logged_path(scope: dict) -> str:
    """The route of a request for the access log: its template, with a path parameter shown only
    when it is a queue item number. Query strings and unmatched paths are never logged."""
    route = scope.get("route")
    if route is None:
        return "(no such page)"
    if isinstance(route, Mount):
        return route.path + "/(file)"
    params = scope.get("path_params", {})

    def shown(match: re.Match) -> str:
        value = str(params.get(match[1], ""))
        # Items are small numbers; a long one could be an NHS number or a date of birth typed in.
        return value if re.fullmatch(r"[0-9]{1,6}", value) else "{" + match[1] + "}"

    return re.sub(r"\{(\w+)[^}]*\}", shown, route.path)


def _filters(source_pair: str) -> dict[str, str]:
    return {"source_pair": source_pair} if source_pair else {}


def _cursor(ctx: ReviewContext) -> duckdb.DuckDBPyConnection:
    """A cursor for this request (one per thread), with the queue joined to the current decisions."""
    cur = ctx.con.cursor()
    cur.register("_current", ctx.store.current())
    cur.execute(f"""
        create or replace temp view _queue_status as
        select q.*, coalesce(c.decision, 'undecided') as status, c.reviewer
        from {QUEUE} q left join _current c
          on c.source_a = q.pair_sa and c.record_id_a = q.pair_ra and c.source_b = q.pair_sb and c.record_id_b = q.pair_rb
    """)
    return cur


def _item_key(cur, item: int) -> PairKey | None:
    row = cur.execute(f"select source_l, record_id_l, source_r, record_id_r from {QUEUE} where item = ?",
                      [item]).fetchall()
    return PairKey.of(*row[0]) if row else None


def _next_undecided(cur, after: int, source_pair: str) -> int | None:
    """The first undecided item after ``after`` (wrapping round), within the source-pair filter."""
    row = cur.execute("""select item from _queue_status where status = 'undecided' and (? = '' or source_pair = ?)
                         order by item > ? desc, item limit 1""", [source_pair, source_pair, after]).fetchall()
    return int(row[0][0]) if row else None


def _neighbours(cur, item: int, source_pair: str) -> tuple[int | None, int | None]:
    row = cur.execute(f"""select max(item) filter (where item < ?), min(item) filter (where item > ?)
                          from {QUEUE} where ? = '' or source_pair = ?""",
                      [item, item, source_pair, source_pair]).fetchall()
    return row[0] if row else (None, None)

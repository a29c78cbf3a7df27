"""``childlink review serve``: load a link run's queue and serve the review app.

The records come from the job's sources (``linkage.prepare``), the pairs and identities from the
run folder, the decisions from ``<workspace>/review.sqlite``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..job import Job
from ..model import DEFAULT_MODEL, level_labels, load_model
from ..prepare import prepare
from ..workspace import open_workspace
from .access import Access, check_bind, is_loopback, job_password
from .queue import build_queue, load_run
from .store import DecisionStore

LOG = logging.getLogger("childlink.review")


def load_review(job: Job, run_dir: str | Path, *, blind: bool = False, token: str | None = None,
                password: str | None = None):
    """The app's context for ``job`` and its link run ``run_dir`` (queue built, store opened)."""
    from .app import ReviewContext   # the web framework loads only when serving

    con = open_workspace()
    prepared = prepare(job, con)
    load_run(con, run_dir)
    store = DecisionStore.for_job(job)
    build_queue(con, review_band=job.linkage.review_band, match_threshold=job.linkage.match_threshold,
                decided=store.current(), has_cme_cases=prepared.has_cme_cases)
    labels = level_labels(load_model(job.linkage.model or DEFAULT_MODEL))
    return ReviewContext(con=con, store=store, access=Access(token, password), labels=labels,
                         job_name=job.path.name, review_band=job.linkage.review_band, blind=blind)


def allowed_hosts(host: str) -> list[str]:
    """Host headers to accept: on loopback only loopback names, which stops DNS-rebinding pages."""
    return ["127.0.0.1", "localhost", "::1", "[::1]"] if is_loopback(host) else ["*"]


@dataclass
class Serving:
    url: str          # the address to open, with the token
    token: str
    queue_size: int


def serve(job: Job, run_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8765, allow_remote: bool = False,
          blind: bool = False, announce: Callable[[Serving], None] = print) -> None:
    """Serve the review app until interrupted. ``announce`` is told the URL (with the token) once ready."""
    import uvicorn

    from .app import create_app

    password = job_password(job.path)
    check_bind(host, allow_remote=allow_remote, password=password)
    if not LOG.hasHandlers():   # decisions by item number, sign-ins, refusals, and the access log
        # (childlink.review.access: method, route, status): never names, record IDs or the token
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s review: %(message)s"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
    ctx = load_review(job, run_dir, blind=blind, password=password)
    app = create_app(ctx, allowed_hosts=allowed_hosts(host))
    sock = bind_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    size = ctx.con.execute("select count(*) from review_queue").fetchall()[0][0]
    announce(Serving(url=f"http://{shown}:{sock.getsockname()[1]}/?token={ctx.access.token}",
                     token=ctx.access.token, queue_size=size))
    # Not uvicorn's access log: its request lines quote the query string (the sign-in token, and
    # whatever else was typed into the address); the app keeps its own (app.ACCESS_LOG).
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket (``port`` 0 picks a free one), bound before the server starts so no other
    process can take the port in between."""
    from ..errors import ChildlinkError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ChildlinkError(f"cannot listen on {host}:{port} ({exc.strerror}); try another --port") from None
    sock.listen(64)
    return sock


class BackgroundServer:
    """The app served from a thread on a free loopback port (tests and the screenshot script)."""

    def __init__(self, app, host: str = "127.0.0.1"):
        import uvicorn

        self.sock = bind_socket(host, 0)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "BackgroundServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the review server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

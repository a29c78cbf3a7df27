"""Who may use the review app, and from where.

- Every request needs a session, opened with the token printed when the server starts (``?token=``
  on the first visit, or typed on the sign-in page) or with the reviewer password set in the job
  file (``review: {password: ...}``) or in the environment (``CHILDLINK_REVIEW_PASSWORD``).
- The session lives in an HttpOnly, SameSite=Strict cookie; state-changing requests must also
  carry the session's CSRF token (an HMAC of the session id, so nothing more is stored).
- The server binds to loopback; another address needs ``--allow-remote`` and a password, because
  a token printed on one machine's terminal is no protection on a network.
- Wrong codes are rate-limited per client address: after ``MAX_FAILURES`` in ``FAILURE_WINDOW``
  seconds every sign-in from there is refused (429) for ``LOCKOUT`` seconds, so a password cannot
  be guessed by brute force.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ChildlinkError

PASSWORD_ENV = "CHILDLINK_REVIEW_PASSWORD"
SESSION_COOKIE = "childlink_review"
LOOPBACK_NAMES = ("localhost",)
MAX_FAILURES = 5
FAILURE_WINDOW = 60.0
LOCKOUT = 60.0


def job_password(job_path: str | Path) -> str | None:
    """The reviewer password: the environment variable, else the job file's ``review.password``."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    try:
        raw = yaml.safe_load(Path(job_path).read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None   # load_job has already checked the file; nothing more to say here
    review = raw.get("review") if isinstance(raw, dict) else None
    if review is None:
        return None
    if not isinstance(review, dict) or not isinstance(review.get("password", ""), (str, int)):
        raise ChildlinkError("'review' must be a mapping such as {password: ...}", file=str(job_path),
                             column="review")
    password = str(review.get("password") or "")
    return password or None


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, allow_remote: bool, password: str | None) -> None:
    """Refuse to serve beyond this machine unless asked to and protected by a password."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise ChildlinkError(f"refusing to listen on {host}: the review app serves children's records and "
                             "binds to this machine only (127.0.0.1) unless you add --allow-remote")
    if not password:
        raise ChildlinkError(f"refusing to listen on {host} without a reviewer password: set review.password "
                             f"in the job file or {PASSWORD_ENV}")


@dataclass
class Session:
    reviewer: str | None = None


class SignInLimiter:
    """Failed sign-ins per client, in memory (a restart forgets them, and mints a new token anyway)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = FAILURE_WINDOW, lockout: float = LOCKOUT,
                 clock=time.monotonic):
        self.max_failures, self.window, self.lockout, self.clock = max_failures, window, lockout, clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        with self._lock:
            left = self._locked_until.get(client, 0.0) - self.clock()
            if left <= 0:
                self._locked_until.pop(client, None)
                return 0
            return max(1, round(left))

    def failed(self, client: str) -> None:
        """Count a wrong code; the ``max_failures``-th within ``window`` seconds locks the client out."""
        with self._lock:
            now = self.clock()
            recent = self._failures.setdefault(client, deque())
            recent.append(now)
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) >= self.max_failures:
                self._locked_until[client] = now + self.lockout
                recent.clear()

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class Access:
    """Tokens, passwords, sessions and CSRF tokens of one server run (sessions end with it)."""

    def __init__(self, token: str | None = None, password: str | None = None,
                 limiter: SignInLimiter | None = None):
        self.token = token or secrets.token_urlsafe(24)
        self.password = password
        self.limiter = limiter or SignInLimiter()
        self._secret = secrets.token_bytes(32)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def accepts(self, code: str | None) -> bool:
        """Is ``code`` the start-up token or the reviewer password? (constant-time comparison)"""
        if not code:
            return False
        ok = hmac.compare_digest(code.encode(), self.token.encode())
        if self.password:
            ok = hmac.compare_digest(code.encode(), self.password.encode()) or ok
        return ok

    def open_session(self, reviewer: str | None = None) -> str:
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = Session(reviewer)
        return session_id

    def session(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            return self._sessions.get(session_id)

    def set_reviewer(self, session_id: str, reviewer: str) -> None:
        with self._lock:
            self._sessions[session_id].reviewer = reviewer

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session_id: str | None, token: str | None) -> bool:
        return bool(session_id and token) and hmac.compare_digest(self.csrf_token(session_id), token)

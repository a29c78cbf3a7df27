"""Fault injection for tests: kill the run at a named point, to prove a killed run loses nothing.

``checkpoint("score")`` does nothing unless the environment variable ``CHILDLINK_FAULT_AT``
names that point, in which case the process kills itself with SIGKILL there (no clean-up, no
``finally``: what a power cut or the out-of-memory killer does). Only the hardening tests set
the variable (tests/hardening/test_fault_kill.py); unset, every checkpoint is inert.

Points: ``score`` (after the first scoring chunk), ``workspace-save`` (a workspace transaction
with every write done, before COMMIT), ``write`` (half-way through writing a link run's outputs),
``review-decision`` (inside a review decision's SQLite transaction, before COMMIT).
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "CHILDLINK_FAULT_AT"
POINTS = ("score", "workspace-save", "write", "review-decision")


def checkpoint(point: str) -> None:
    """SIGKILL this process if ``CHILDLINK_FAULT_AT`` names ``point``; otherwise nothing."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)

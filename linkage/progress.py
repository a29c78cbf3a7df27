"""Progress, phase timings and peak memory of long commands, with no terminal code.

Library functions take ``progress: Progress | None = None`` and report to it; ``cli.py`` draws the
reports (a rich bar on stderr) or passes None for ``--quiet``. The protocol, ``progress(phase, done, total)``:

- ``total == 0``: the phase has started and the size of its work is not known (no ETA);
- ``0 <= done <= total``: ``done`` of ``total`` units (scoring chunks, runs, sources) are finished;
- ``done == total > 0``: the phase is finished.

Within one phase ``done`` never goes down, and a phase that finishes reports ``done == total``.

``PhaseTimer`` keeps ``timings`` (phase -> seconds, in the order the phases started: ``LinkResult.timings``,
``TraceResult.timings``) and reports each phase's start and end, so a phase whose work is not
counted still shows. Called as a ``Progress`` itself, it times the phases it is told about instead:
that is how the command line times phases reported from inside the library.
"""

from __future__ import annotations

import resource
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

Progress = Callable[[str, int, int], None]   # (phase, done, total)
Counter = Callable[[int, int], None]         # (done, total) of one phase's work, e.g. score_pairs(progress=...)


class PhaseTimer:
    """Wall time of each phase (``timings[name] = seconds``), reported to ``progress`` as phases start and end."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.timings: dict[str, float] = {}
        self._progress = progress
        self._open: dict[str, float] = {}     # running phase -> when it started
        self._order: dict[str, int] = {}      # phase -> rank of its first start, to list timings in that order
        self._totals: dict[str, int] = {}     # counted phase -> its total, for the closing report
        self._current: str | None = None      # the phase start() began

    def start(self, name: str) -> None:
        """End the phase ``start`` began last (if any) and begin ``name``: phases that follow one another."""
        self.stop()
        self._current = name
        self._begin(name)

    def stop(self) -> None:
        """End the phase ``start`` began last, if any."""
        if self._current is not None:
            self._end(self._current)
            self._current = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as phase ``name``; a block that raises is not reported as finished."""
        self._begin(name)
        yield
        self._end(name)

    def counter(self, name: str) -> Counter | None:
        """A ``(done, total)`` callback reporting counted work inside phase ``name`` (None when nobody listens)."""
        if self._progress is None:
            return None

        def report(done: int, total: int) -> None:
            self._totals[name] = total
            self._progress(name, done, total)
        return report

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Observe a report from elsewhere: a phase runs from its first report to the one that finishes it
        (a phase that runs again adds to its time). The report is passed on."""
        now = time.perf_counter()
        if phase not in self._open:
            self._open[phase] = now
            self._order.setdefault(phase, len(self._order))
        if total and done >= total:
            self._add(phase, now - self._open.pop(phase))
        if self._progress is not None:
            self._progress(phase, done, total)

    def _begin(self, name: str) -> None:
        self._open[name] = time.perf_counter()
        self._order.setdefault(name, len(self._order))
        if self._progress is not None:
            self._progress(name, 0, 0)

    def _end(self, name: str) -> None:
        self._add(name, time.perf_counter() - self._open.pop(name))
        if self._progress is not None:
            total = self._totals.get(name) or 1
            self._progress(name, total, total)

    def _add(self, name: str, seconds: float) -> None:
        first_time = name not in self.timings
        self.timings[name] = self.timings.get(name, 0.0) + seconds
        if first_time and any(self._order[other] > self._order[name] for other in self.timings):
            # An outer phase ends after the phases inside it; list it where it started. In place:
            # results hold this very dict (LinkResult.timings gains "report" after it is made).
            ordered = sorted(self.timings.items(), key=lambda item: self._order[item[0]])
            self.timings.clear()
            self.timings.update(ordered)


def within(progress: Progress | None, outer: str) -> Progress | None:
    """``progress`` for a library call nested in phase ``outer``: its phases show as ``outer: phase``."""
    if progress is None:
        return None
    return lambda phase, done, total: progress(f"{outer}: {phase}", done, total)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (getrusage counts KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def format_timings(timings: dict[str, float]) -> str:
    """One line: each phase and its seconds, in the order they started."""
    return "phase timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())


def summary_line(what: str, seconds: float) -> str:
    """The last line of a long command: what it did, its wall time and its peak memory (counts only)."""
    return f"{what} in {seconds:.1f} s, peak memory {peak_memory_mb():,.0f} MB"

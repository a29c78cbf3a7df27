"""Suite-wide test options: ``--slow`` and the hypothesis profiles.

Tests marked ``@pytest.mark.slow`` are skipped unless ``--slow`` is given. Hypothesis runs under
one of two profiles registered here:

- ``childlink`` (default): derandomized, so CI sees the same examples on every run; no deadline
  (the machine is shared and timings vary).
- ``childlink-slow`` (with ``--slow``): at least SLOW_EXAMPLES generated cases per property, random.

A property test that wants more than hypothesis's default number of examples in the default
run asks for ``settings(max_examples=max(N, settings.default.max_examples))``, so ``--slow``
still raises it (tests/hardening/fuzz_support.py has ``fuzz_settings`` for that).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

SLOW_EXAMPLES = 10_000

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
settings.register_profile("childlink", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=_HEALTH)
settings.register_profile("childlink-slow", max_examples=SLOW_EXAMPLES, deadline=None, print_blob=True,
                          suppress_health_check=_HEALTH)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False,
                     help=f"run tests marked slow and {SLOW_EXAMPLES:,} hypothesis examples per property")


def pytest_configure(config: pytest.Config) -> None:
    settings.load_profile("childlink-slow" if config.getoption("--slow") else "childlink")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)

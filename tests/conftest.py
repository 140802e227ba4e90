"""Shared pytest options and fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from reconciler.sandbox.store.database import Store
from tests.support.e2e import copy_example, open_store
from tests.support.golden import assert_golden

# tests/support/bytecode.py, loaded first by pyproject's addopts, has the run write bytecode

# Property tests must not fail because a loaded 2-core CI machine is slow: no per-example deadline, no
# "too slow" health check. In CI (CI=true) the examples are also derandomised, so a red run is reproducible.
settings.register_profile(
    "enrollctl",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("enrollctl-ci", parent=settings.get_profile("enrollctl"), derandomize=True)
settings.load_profile("enrollctl-ci" if os.environ.get("CI") else "enrollctl")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): one worker more than the cores this process may use. Many tests
    wait part of their time (a slow answer against a client timeout, a request deadline, a child process
    run to its kill point), and a third worker on two cores fills that time: ~5 s less in ~85 s there."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ files from current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def golden(update_golden: bool) -> Callable[[str, str], None]:
    """`golden(name, text)`: compare with (or with --update-golden, write) tests/golden/<name>."""

    def check(name: str, text: str) -> None:
        assert_golden(name, text, update_golden)

    return check


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    return copy_example("quickstart", tmp_path / "quickstart")


@pytest.fixture
def sandbox_store(quickstart: Path) -> Iterator[Store]:
    """The quickstart's sandbox state; opening it first seeds it, as the CLI would."""
    store = open_store(quickstart)
    try:
        yield store
    finally:
        store.close()

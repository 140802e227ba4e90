"""Shared pytest options and fixtures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from golden import assert_golden


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

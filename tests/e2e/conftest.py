"""Fixtures for end-to-end tests: a fresh copy of the quickstart and its sandbox store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.store.database import Store

from .helpers import copy_example, open_store


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

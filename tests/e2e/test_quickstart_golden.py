"""Golden quickstart plans (text, Markdown) with the clock pinned; `pytest --update-golden` rewrites them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.e2e import enrollctl


@pytest.mark.parametrize(
    ("fmt", "name"), [("text", "quickstart/plan.txt"), ("markdown", "quickstart/plan.md")]
)
def test_quickstart_plan_matches_its_golden_file(
    quickstart: Path, golden: Callable[[str, str], None], fmt: str, name: str
) -> None:
    result = enrollctl(quickstart, "plan", "--format", fmt, "--no-color")
    assert result.exit_code == 0, result.output
    assert str(quickstart) not in result.stdout, "plans never show where the repository was checked out"
    golden(name, result.stdout)

"""`enrollctl show NEW --compare OLD` on two plans of the quickstart, before and after a policy change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.e2e import enrollctl


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def plans(quickstart: Path) -> Path:
    """old.json, then a later due date, one more and one fewer learner, a shorter period: new.json."""
    assert enrollctl(quickstart, "plan", "--out", "old.json").exit_code == 0
    policies = quickstart / "policies"
    _edit(policies / "security-awareness.yaml", "due: 2026-12-31", "due: 2027-01-15")
    _edit(policies / "security-awareness.yaml", "users: [kevin@acme.example]", "users: [abel@acme.example]")
    _edit(policies / "onboarding.yaml", "within: 2w", "within: 1w")
    assert enrollctl(quickstart, "plan", "--out", "new.json").exit_code == 0
    return quickstart


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("text", "compare/quickstart.txt"),
        ("markdown", "compare/quickstart.md"),
        ("json", "compare/quickstart.json"),
    ],
)
def test_compare_lists_what_the_policy_change_changed(
    plans: Path, golden: Callable[[str, str], None], fmt: str, name: str
) -> None:
    result = enrollctl(plans, "show", "new.json", "--compare", "old.json", "--format", fmt)
    assert result.exit_code == 0, result.output
    golden(name, result.stdout)


def test_a_plan_compared_with_itself_has_the_same_actions(plans: Path) -> None:
    result = enrollctl(plans, "show", "new.json", "--compare", "new.json")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("has the same actions.\n")
    assert result.stdout.count("\n") == 1

"""`enrollctl plan` on the Litmos example shows overdue enrollments as information, in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.e2e import copy_example, enrollctl

OVERDUE = (
    "Litmos reports 1 overdue enrollment in managed items (amira@acme.example); Litmos has no "
    "per-assignment due dates, so enrollctl shows these for information only"
)


@pytest.fixture
def litmos(tmp_path: Path) -> Path:
    return copy_example("litmos", tmp_path / "litmos")


def test_text_plan_lists_overdue_enrollments_as_a_warning(litmos: Path) -> None:
    result = enrollctl(litmos, "plan")
    assert result.exit_code == 0, result.output
    warnings = result.output.split("  Warnings\n", 1)[1]
    assert warnings.startswith(f"    ! {OVERDUE}\n")


def test_markdown_and_json_plans_carry_the_same_line(litmos: Path) -> None:
    markdown = enrollctl(litmos, "plan", "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert OVERDUE in markdown.output
    plan = json.loads(enrollctl(litmos, "plan", "--format", "json").output)
    (provider,) = plan["providers"]
    assert {"message": OVERDUE, "position": None} in provider["warnings"]


def test_information_stays_after_apply_and_is_no_change(litmos: Path) -> None:
    assert enrollctl(litmos, "apply", "--auto-approve").exit_code == 0
    again = enrollctl(litmos, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output  # a warning is not a change
    assert "No changes" in again.output
    assert OVERDUE in again.output

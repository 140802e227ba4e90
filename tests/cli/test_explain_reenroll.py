"""`enrollctl explain` on examples/compliance: a re-enrollment is explained as plan makes it."""

from __future__ import annotations

from pathlib import Path

from tests.support.e2e import copy_example, enrollctl


def test_explain_shows_the_re_enrollment_plan_makes_with_the_rule_and_the_date(tmp_path: Path) -> None:
    repo = copy_example("compliance", tmp_path / "compliance")
    plan = enrollctl(repo, "plan", "--no-color")
    assert "↻ kevin@acme.example  re-enroll (compliance expired 2026-10-01" in plan.stdout
    result = enrollctl(repo, "explain", "kevin@acme.example")
    assert result.exit_code == 0, result.output
    litmos = result.stdout[result.stdout.index("provider academy") :]
    assert (
        "recurs     every 12 months from completion: compliance expired 2026-10-01 (the LMS's own expiry)"
        " → ↻ re-enroll" in litmos
    )
    assert "verdict    ↻ plan re-enrolls it: the period ran out: compliance expired 2026-10-01" in litmos

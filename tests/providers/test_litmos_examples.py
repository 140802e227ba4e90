"""The Litmos example repositories plan, apply and converge on the sandbox; validate rejects Litmos dues."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.app import main
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples"


def enrollctl(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(repo), *args])


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of examples/ (multi reuses the other examples' organisation files by relative path)."""
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns(".enrollctl"))
    return copy


@pytest.mark.parametrize("name", ["litmos", "multi"])
def test_plan_apply_plan_converges_on_the_sandbox(examples: Path, name: str) -> None:
    repo = examples / name
    first = enrollctl(repo, "plan", "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "Provider academy (litmos" in first.output
    applied = enrollctl(repo, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert " 0 failed" in applied.output
    again = enrollctl(repo, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


def test_litmos_example_enrolls_learning_paths_and_prunes_unstarted(examples: Path) -> None:
    plan = enrollctl(examples / "litmos", "plan").output
    assert 'learning path "Onboarding"' in plan
    assert "- gwen@acme.example" in plan  # not started: pruned
    assert "hugo@acme.example" in plan and "has progress" in plan  # started: kept
    assert "[no e-mail]" in plan  # notify: false on anti-bribery


def test_validate_rejects_a_litmos_due_date_naming_policy_limit_and_fix(examples: Path) -> None:
    repo = examples / "litmos"
    policy = repo / "policies" / "security-awareness.yaml"
    policy.write_text(policy.read_text().replace("due: default", "due: {within: 30d}"))
    result = enrollctl(repo, "validate")
    assert result.exit_code == 1
    assert "policies/security-awareness.yaml:" in result.output
    assert "spec.assign[0].due" in result.output
    assert "'security-awareness'" in result.output
    assert "'academy' (Litmos) cannot set a due date per assignment" in result.output
    assert "due: default" in result.output

"""A tripped guard is a verdict on a whole plan: the plan is shown and saved, and `apply --approve DIGEST`
applies exactly that plan and no other (issue 14, item 1)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.sandbox.store.database import Store
from tests.support.e2e import enrollctl, write_calls


def _trip_the_count_guard(root: Path) -> None:
    config = root / "enrollctl.yaml"
    config.write_text(config.read_text().replace("max_removals: 25", "max_removals: 0"))


def _digest(text: str) -> str:
    found = re.search(r"--approve ([0-9a-f]{16})", text)
    assert found, text
    return found.group(1)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_refused_plan_is_shown_whole_as_text_and_markdown_and_exits_1(
    quickstart: Path, sandbox_store: Store, fmt: str
) -> None:
    _trip_the_count_guard(quickstart)
    result = enrollctl(quickstart, "plan", "--format", fmt)
    assert result.exit_code == 1
    assert "Security Awareness 2026" in result.stdout  # the plan itself, not just an error
    assert "max_removals" in result.stderr and "--approve" in result.stderr
    assert re.search(r"Refused by guard max\\?_removals", result.stdout)
    assert _digest(result.stdout) == _digest(result.stderr)
    # not saved: the command shown has a placeholder for the file (the error line says how to save it)
    assert f"enrollctl apply PLAN_FILE --approve {_digest(result.stdout)}" in result.stdout
    assert write_calls(sandbox_store) == []


def test_a_refused_plan_is_shown_whole_as_json_and_exits_1(quickstart: Path, sandbox_store: Store) -> None:
    _trip_the_count_guard(quickstart)
    result = enrollctl(quickstart, "plan", "--format", "json")
    assert result.exit_code == 1
    assert "Security Awareness 2026" in result.stdout  # the plan itself, not just an error
    assert "max_removals" in result.stderr and "--approve" in result.stderr
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict["refused_by"] == ["max_removals"]
    assert verdict["approval_digest"] == _digest(result.stderr)
    assert write_calls(sandbox_store) == []


def test_the_refused_plan_is_saved_marked_refused(quickstart: Path, sandbox_store: Store) -> None:
    _trip_the_count_guard(quickstart)
    plan_file = quickstart / "plan.json"
    result = enrollctl(quickstart, "plan", "--out", str(plan_file))
    assert result.exit_code == 1
    saved = json.loads(plan_file.read_text())
    assert saved["verdict"]["refused_by"] == ["max_removals"]
    assert f"enrollctl apply {plan_file} --approve {saved['verdict']['approval_digest']}" in result.stderr


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_the_shown_approval_command_names_the_file_the_plan_is_saved_in(quickstart: Path, fmt: str) -> None:
    _trip_the_count_guard(quickstart)
    plan_file = quickstart / "plan.json"
    saved = enrollctl(quickstart, "plan", "--format", fmt, "--out", str(plan_file))
    command = f"enrollctl apply {plan_file} --approve {_digest(saved.stdout)}"
    assert command in saved.stdout and command in saved.stderr
    assert command in enrollctl(quickstart, "show", str(plan_file), "--format", fmt).stdout


def test_apply_of_a_refused_plan_without_approval_writes_nothing(
    quickstart: Path, sandbox_store: Store
) -> None:
    _trip_the_count_guard(quickstart)
    plan_file = quickstart / "plan.json"
    enrollctl(quickstart, "plan", "--out", str(plan_file))
    refused = enrollctl(quickstart, "apply", str(plan_file))
    assert refused.exit_code == 1
    assert "max_removals" in refused.stderr and "--approve" in refused.stderr
    assert write_calls(sandbox_store) == []


def test_the_right_digest_applies_exactly_that_plan(quickstart: Path, sandbox_store: Store) -> None:
    _trip_the_count_guard(quickstart)
    plan_file = quickstart / "plan.json"
    digest = _digest(enrollctl(quickstart, "plan", "--out", str(plan_file)).stderr)
    applied = enrollctl(quickstart, "apply", str(plan_file), "--approve", digest)
    assert applied.exit_code == 0, applied.output
    assert " 0 failed" in applied.stdout
    assert write_calls(sandbox_store)
    after = enrollctl(quickstart, "plan", "--detailed-exitcode")
    assert after.exit_code == 0, after.output


def test_a_different_digest_is_refused_and_nothing_is_written(quickstart: Path, sandbox_store: Store) -> None:
    _trip_the_count_guard(quickstart)
    plan_file = quickstart / "plan.json"
    digest = _digest(enrollctl(quickstart, "plan", "--out", str(plan_file)).stderr)
    other = ("0" if digest[0] != "0" else "1") + digest[1:]
    refused = enrollctl(quickstart, "apply", str(plan_file), "--approve", other)
    assert refused.exit_code == 1
    assert f"--approve {other} does not match this plan" in refused.stderr
    assert digest not in refused.output  # a mismatch never hands out the digest to copy
    assert write_calls(sandbox_store) == []


def test_a_malformed_approval_is_a_usage_error(quickstart: Path, sandbox_store: Store) -> None:
    refused = enrollctl(quickstart, "apply", "--approve", "yes")
    assert refused.exit_code == 1
    assert "16-digit hex digest" in refused.stderr
    assert write_calls(sandbox_store) == []


def test_a_replan_whose_actions_changed_invalidates_the_approval(
    quickstart: Path, sandbox_store: Store
) -> None:
    _trip_the_count_guard(quickstart)
    digest = _digest(enrollctl(quickstart, "plan").stderr)
    assert _digest(enrollctl(quickstart, "plan").stderr) == digest, "a re-plan of the same state keeps it"
    # the LMS changes under the approval: the approved plan is applied, so a re-plan has other actions
    assert enrollctl(quickstart, "apply", "--approve", digest).exit_code == 0
    writes = len(write_calls(sandbox_store))
    again = enrollctl(quickstart, "apply", "--approve", digest, "--auto-approve")
    assert again.exit_code == 1
    assert "does not match this plan" in again.stderr
    assert len(write_calls(sandbox_store)) == writes


def test_a_fresh_apply_with_a_tripped_guard_needs_the_approval(
    quickstart: Path, sandbox_store: Store
) -> None:
    _trip_the_count_guard(quickstart)
    refused = enrollctl(quickstart, "apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "Security Awareness 2026" in refused.stdout  # shown before it is refused
    assert "--approve" in refused.stderr
    assert write_calls(sandbox_store) == []

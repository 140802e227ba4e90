"""The quickstart, end to end through the CLI against the in-process iSpring sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from reconciler.planfile.file import plan_schema
from reconciler.sandbox.store.database import Store
from tests.support.e2e import enrollctl, write_calls


def test_plan_shows_the_quickstart_changes_and_writes_nothing(quickstart: Path, sandbox_store: Store) -> None:
    result = enrollctl(quickstart, "plan")
    assert result.exit_code == 0, result.output
    assert "Security Awareness 2026" in result.stdout
    assert write_calls(sandbox_store) == []
    assert sandbox_store.request_log(), "plan reads through the emulator"


def test_apply_converges_and_the_next_plan_has_no_changes(quickstart: Path, sandbox_store: Store) -> None:
    before = enrollctl(quickstart, "plan", "--detailed-exitcode")
    assert before.exit_code == 2, before.output
    applied = enrollctl(quickstart, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "failed" in applied.stdout and " 0 failed" in applied.stdout
    after = enrollctl(quickstart, "plan", "--detailed-exitcode")
    assert after.exit_code == 0, after.output


def test_apply_without_a_terminal_refuses_a_fresh_plan_without_auto_approve(
    quickstart: Path, sandbox_store: Store
) -> None:
    result = enrollctl(quickstart, "apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.output
    assert write_calls(sandbox_store) == []


def test_saved_plan_applies_and_reapplying_it_is_a_no_op(quickstart: Path, sandbox_store: Store) -> None:
    plan_file = str(quickstart / "plan.json")
    assert enrollctl(quickstart, "plan", "--out", plan_file).exit_code == 0
    first = enrollctl(quickstart, "apply", plan_file)
    assert first.exit_code == 0, first.output
    writes = len(write_calls(sandbox_store))
    again = enrollctl(quickstart, "apply", plan_file)
    assert again.exit_code == 0, again.output
    assert " 0 done" in again.stdout
    assert len(write_calls(sandbox_store)) == writes


def test_show_renders_a_saved_plan_in_every_format(quickstart: Path, sandbox_store: Store) -> None:
    plan_file = quickstart / "plan.json"
    assert enrollctl(quickstart, "plan", "--out", str(plan_file)).exit_code == 0
    for fmt in ("text", "markdown", "json"):
        shown = enrollctl(quickstart, "show", str(plan_file), "--format", fmt)
        assert shown.exit_code == 0, shown.output
        assert "Security Awareness 2026" in shown.stdout


def test_json_plan_validates_against_the_plan_schema(quickstart: Path, sandbox_store: Store) -> None:
    result = enrollctl(quickstart, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    jsonschema.validate(json.loads(result.stdout), plan_schema())


def test_the_plan_records_every_policy_file_it_was_made_from(quickstart: Path, sandbox_store: Store) -> None:
    result = enrollctl(quickstart, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["policy_files"]
    on_disk = sorted(p.relative_to(quickstart).as_posix() for p in (quickstart / "policies").rglob("*.yaml"))
    assert sorted(files) == on_disk and len(files) == len(set(files))

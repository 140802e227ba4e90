"""The quickstart, end to end through the CLI against the in-process iSpring sandbox."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from reconciler.apply.lock import repository_lock
from reconciler.engine import workspace
from reconciler.errors import ProviderError
from reconciler.planfile.file import plan_schema
from reconciler.providers.base import Outcome, Provider, WriteBatch
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import Terms as StoredTerms
from tests.support.e2e import FIXED_NOW, enrollctl, write_calls


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


def test_stale_plan_is_refused_listing_the_action_and_nothing_is_written(
    quickstart: Path, sandbox_store: Store
) -> None:
    plan_file = quickstart / "plan.json"
    assert enrollctl(quickstart, "plan", "--out", str(plan_file)).exit_code == 0
    add = next(a for a in _actions(plan_file) if a["kind"] == "add" and a["item_kind"] == "course")
    by_hand = StoredTerms(access_date=_fixed_now(), due_type="unlimited")
    sandbox_store.enroll(add["user_id"], add["item_id"], by_hand, _fixed_now())
    result = enrollctl(quickstart, "apply", str(plan_file))
    assert result.exit_code == 1
    assert "no longer match" in result.output
    assert f"add {add['user_login']} in" in result.output
    assert write_calls(sandbox_store) == []


def test_plan_made_from_other_manifests_is_refused(quickstart: Path, sandbox_store: Store) -> None:
    plan_file = quickstart / "plan.json"
    assert enrollctl(quickstart, "plan", "--out", str(plan_file)).exit_code == 0
    config = quickstart / "enrollctl.yaml"
    config.write_text(config.read_text() + "\n# edited after planning\n")
    result = enrollctl(quickstart, "apply", str(plan_file))
    assert result.exit_code == 1
    assert "other manifests" in result.output
    assert write_calls(sandbox_store) == []


class _FailingAfter:
    """A provider whose write calls fail after `allowed` of them (optionally after the write landed)."""

    def __init__(self, inner: Provider, allowed: int, *, lose_reply: bool) -> None:
        self._inner = inner
        self._allowed = allowed
        self._lose_reply = lose_reply

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def write(self, batch: WriteBatch) -> list[Outcome]:
        if self._allowed <= 0:
            if self._lose_reply:
                self._inner.write(batch)
            raise ProviderError("connection reset by peer", provider="lms", call="write", retryable=True)
        self._allowed -= 1
        return self._inner.write(batch)


def _break_writes(monkeypatch: pytest.MonkeyPatch, allowed: int, *, lose_reply: bool) -> None:
    real: Callable[..., tuple[Provider, Callable[[], None]]] = workspace.build_provider

    def failing(*args: object, **kwargs: object) -> tuple[Provider, Callable[[], None]]:
        provider, close = real(*args, **kwargs)
        return _FailingAfter(provider, allowed, lose_reply=lose_reply), close  # type: ignore[return-value]

    monkeypatch.setattr(workspace, "build_provider", failing)


@pytest.mark.parametrize("lose_reply", [False, True], ids=["refused", "reply-lost"])
def test_interrupted_apply_resumes_to_convergence_without_repeating_done_writes(
    quickstart: Path, sandbox_store: Store, monkeypatch: pytest.MonkeyPatch, lose_reply: bool
) -> None:
    plan_file = quickstart / "plan.json"
    assert enrollctl(quickstart, "plan", "--out", str(plan_file)).exit_code == 0
    estimated = json.loads(plan_file.read_text())["providers"][0]["summary"]["estimated_calls"]
    with monkeypatch.context() as patch:
        _break_writes(patch, 2, lose_reply=lose_reply)
        broken = enrollctl(quickstart, "apply", str(plan_file))
    assert broken.exit_code == 1, broken.output
    assert "resumes" in broken.output
    resumed = enrollctl(quickstart, "apply", str(plan_file))
    assert resumed.exit_code == 0, resumed.output
    assert len(write_calls(sandbox_store)) == estimated
    assert enrollctl(quickstart, "plan", "--detailed-exitcode").exit_code == 0


def test_a_second_apply_refuses_while_one_holds_the_repository_lock(
    quickstart: Path, sandbox_store: Store
) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with repository_lock(quickstart / ".enrollctl" / "apply.lock"):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        result = enrollctl(quickstart, "apply", "--auto-approve")
    finally:
        release.set()
        holder.join()
    assert result.exit_code == 1
    assert "another apply" in result.output
    assert write_calls(sandbox_store) == []


def test_guard_refuses_a_plan_with_too_many_removals_and_says_the_numbers(
    quickstart: Path, sandbox_store: Store
) -> None:
    config = quickstart / "enrollctl.yaml"
    config.write_text(config.read_text().replace("max_removals: 25", "max_removals: 0"))
    result = enrollctl(quickstart, "plan")
    assert result.exit_code == 1
    assert "max_removals" in result.output
    assert "exceed settings.max_removals (0)" in result.output


def test_unknown_policy_filter_is_a_usage_error(quickstart: Path, sandbox_store: Store) -> None:
    result = enrollctl(quickstart, "plan", "--policy", "no-such-policy")
    assert result.exit_code == 1
    assert "no-such-policy" in result.output


def test_policy_filter_plans_only_that_policy(quickstart: Path, sandbox_store: Store) -> None:
    result = enrollctl(quickstart, "plan", "--policy", "forklift-safety", "--format", "json")
    assert result.exit_code == 0, result.output
    titles = {a["item_title"] for p in json.loads(result.stdout)["providers"] for a in p["actions"]}
    assert titles <= {"Forklift Safety"}


def test_sandbox_reset_starts_over_from_the_organisation_file(quickstart: Path) -> None:
    assert enrollctl(quickstart, "apply", "--auto-approve").exit_code == 0
    assert enrollctl(quickstart, "plan", "--detailed-exitcode").exit_code == 0
    assert list((quickstart / ".enrollctl" / "journal").glob("*.jsonl"))
    reset = enrollctl(quickstart, "sandbox", "reset")
    assert reset.exit_code == 0, reset.output
    assert not list((quickstart / ".enrollctl" / "journal").glob("*.jsonl")), (
        "journals of the old state go too"
    )
    assert enrollctl(quickstart, "plan", "--detailed-exitcode").exit_code == 2


def test_state_directory_is_ignored_by_git(quickstart: Path, sandbox_store: Store) -> None:
    enrollctl(quickstart, "plan")
    assert (quickstart / ".enrollctl" / ".gitignore").read_text() == "*\n"


def _actions(plan_file: Path) -> list[dict[str, str]]:
    return [a for p in json.loads(plan_file.read_text())["providers"] for a in p["actions"]]


def _fixed_now():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.fromisoformat(FIXED_NOW)

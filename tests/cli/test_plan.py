"""CLI behaviour of plan / apply / show / validate beyond convergence: prompts, exit codes, flags."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from reconciler.cli import plan as cli_plan
from reconciler.sandbox.store.database import Store
from tests.support.e2e import copy_example, enrollctl, open_store, write_calls


def _writes(root: Path) -> list[str]:
    store: Store = open_store(root)
    try:
        return write_calls(store)
    finally:
        store.close()


def test_apply_on_a_terminal_writes_only_after_yes(quickstart: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_plan, "stdin_is_terminal", lambda: True)
    declined = enrollctl(quickstart, "apply", input="no\n")
    assert declined.exit_code == 1
    assert "Apply cancelled" in declined.output
    assert _writes(quickstart) == []
    accepted = enrollctl(quickstart, "apply", input="yes\n")
    assert accepted.exit_code == 0, accepted.output
    assert "Apply finished" in accepted.stdout
    assert _writes(quickstart)


def test_apply_of_a_fresh_plan_without_changes_writes_nothing_and_succeeds(quickstart: Path) -> None:
    assert enrollctl(quickstart, "apply", "--auto-approve").exit_code == 0
    again = enrollctl(quickstart, "apply")  # no terminal, but nothing to confirm
    assert again.exit_code == 0, again.output
    assert "No changes" in again.stdout


def test_plan_without_detailed_exitcode_exits_0_even_with_changes(quickstart: Path) -> None:
    assert enrollctl(quickstart, "plan").exit_code == 0


def test_a_saved_plan_with_plan_flags_is_a_usage_error(quickstart: Path) -> None:
    plan_file = str(quickstart / "plan.json")
    assert enrollctl(quickstart, "plan", "--out", plan_file).exit_code == 0
    result = enrollctl(quickstart, "apply", plan_file, "--policy", "onboarding")
    assert result.exit_code == 1
    assert "saved plan" in result.output


def test_show_of_a_tampered_plan_file_fails_clearly(quickstart: Path) -> None:
    plan_file = quickstart / "plan.json"
    assert enrollctl(quickstart, "plan", "--out", str(plan_file)).exit_code == 0
    data = json.loads(plan_file.read_text())
    data["format_version"] = 99
    plan_file.write_text(json.dumps(data))
    result = enrollctl(quickstart, "show", str(plan_file))
    assert result.exit_code == 1
    assert "format_version" in result.output or "version" in result.output


def test_the_clock_can_be_pinned_for_reproducible_plans(quickstart: Path) -> None:
    result = enrollctl(
        quickstart, "plan", "--format", "json", env={"ENROLLCTL_NOW": "2026-01-02T03:04:05+00:00"}
    )
    assert json.loads(result.stdout)["created_at"].startswith("2026-01-02T03:04:05")


def test_an_unreadable_pinned_clock_is_a_usage_error(quickstart: Path) -> None:
    result = enrollctl(quickstart, "plan", env={"ENROLLCTL_NOW": "yesterday"})
    assert result.exit_code == 1
    assert "ENROLLCTL_NOW" in result.output


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    assert cli_plan.use_color(no_color=False)
    assert not cli_plan.use_color(no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli_plan.use_color(no_color=False)


def test_validate_resolves_names_against_the_sandbox(quickstart: Path) -> None:
    result = enrollctl(quickstart, "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK")
    assert _writes(quickstart) == []


def test_validate_reports_unknown_items_with_their_position(quickstart: Path) -> None:
    policy = quickstart / "policies" / "onboarding.yaml"
    policy.write_text(policy.read_text().replace("learning_path: Onboarding", "learning_path: Onbaording"))
    result = enrollctl(quickstart, "validate")
    assert result.exit_code == 1
    assert "policies/onboarding.yaml:" in result.output
    assert "Onbaording" in result.output
    assert enrollctl(quickstart, "validate", "--offline").exit_code == 0


def test_validate_strict_makes_unknown_users_errors(quickstart: Path) -> None:
    policy = quickstart / "policies" / "onboarding.yaml"
    policy.write_text(
        policy.read_text().replace("groups: [New hires]", "groups: [New hires]\n    users: [nobody]")
    )
    assert enrollctl(quickstart, "validate").exit_code == 0
    strict = enrollctl(quickstart, "validate", "--strict")
    assert strict.exit_code == 1
    assert "nobody" in strict.output


def test_sandbox_reset_without_a_sandbox_provider_says_so(tmp_path: Path) -> None:
    root = copy_example("quickstart", tmp_path / "real")
    config = root / "enrollctl.yaml"
    config.write_text(
        config.read_text().replace(
            "    sandbox: sandbox.yaml\n",
            "    url: https://acme.ispringlearn.com\n    token_env: ISPRING_TOKEN\n",
        )
    )
    result = enrollctl(root, "sandbox", "reset")
    assert result.exit_code == 1
    assert "nothing to reset" in result.output


def test_a_real_provider_without_its_secret_names_the_variable(tmp_path: Path) -> None:
    root = copy_example("quickstart", tmp_path / "real")
    config = root / "enrollctl.yaml"
    config.write_text(
        config.read_text().replace(
            "    sandbox: sandbox.yaml\n",
            "    url: https://acme.ispringlearn.com\n    token_env: ENROLLCTL_TEST_UNSET_TOKEN\n",
        )
    )
    result = enrollctl(root, "plan")
    assert result.exit_code == 1
    assert "ENROLLCTL_TEST_UNSET_TOKEN is not set" in result.output


def test_plan_out_into_a_missing_directory_fails_before_reading_the_lms(quickstart: Path) -> None:
    result = enrollctl(quickstart, "plan", "--out", str(quickstart / "nowhere" / "plan.json"))
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_plan_keeps_the_collector_paused_until_its_output_is_written(
    quickstart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # resumed between planning and writing, the collector's next passes walk every object of the plan
    # (a 100,000-user Litmos plan: 3.8 s of 24); it is on again when the command is done
    seen: list[bool] = []
    save = cli_plan.save_plan
    monkeypatch.setattr(cli_plan, "save_plan", lambda *a, **k: (seen.append(gc.isenabled()), save(*a, **k)))
    echo = cli_plan.echo_json
    monkeypatch.setattr(cli_plan, "echo_json", lambda *a, **k: (seen.append(gc.isenabled()), echo(*a, **k)))
    assert gc.isenabled()
    result = enrollctl(quickstart, "plan", "--out", str(quickstart / "plan.json"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert seen == [False, False]
    assert gc.isenabled()

"""`enrollctl github ...` through the real command line, the pre-commit hook, and shell completion."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner, Result

import reconciler.cli.github
from reconciler.cli.app import main
from tests.github.test_replay import TOKEN, Replay
from tests.support.paths import ROOT

ROOT = ROOT
REPO = "acme/training-policies"
PLAN_1 = "### enrollctl plan\n\nPlan: 53 to add, 9 to change, 1 to remove, 3 kept.\n"
PLAN_2 = "### enrollctl plan\n\nPlan: 54 to add, 9 to change, 1 to remove, 3 kept.\n"


def run(monkeypatch: pytest.MonkeyPatch, recording: str, args: list[str]) -> tuple[Replay, Result]:
    """Run `enrollctl` with GitHub answered by a recording (and --debug, so tracebacks would show too)."""
    replay = Replay(recording)
    monkeypatch.setattr(reconciler.cli.github, "open_github", lambda _env, _app: replay.github())
    result = CliRunner().invoke(main, ["--debug", *args], env={"GITHUB_TOKEN": TOKEN})
    assert TOKEN not in result.output
    assert TOKEN not in (result.stderr or "")
    return replay, result


def body_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "plan.md"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_comment_command_creates_then_updates_one_comment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    common = ["github", "comment", "--repo", REPO, "--pr", "42", "--marker", "enrollctl-plan: ."]
    first, created = run(
        monkeypatch, "comment_first_push.json", [*common, "--body-file", body_file(tmp_path, PLAN_1)]
    )
    second, updated = run(
        monkeypatch, "comment_second_push.json", [*common, "--body-file", body_file(tmp_path, PLAN_2)]
    )
    first.assert_done()
    second.assert_done()
    assert (created.exit_code, updated.exit_code) == (0, 0)
    assert (
        "comment on #42 created: https://github.com/acme/training-policies/pull/42#issuecomment-2496123456"
        in (created.stderr)
    )
    assert "comment on #42 updated" in updated.stderr


def test_a_forbidden_comment_exits_1_with_the_missing_permission_and_no_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args = ["github", "comment", "--repo", REPO, "--pr", "42", "--marker", "enrollctl-plan: ."]
    _, result = run(
        monkeypatch, "comment_forbidden.json", [*args, "--body-file", body_file(tmp_path, PLAN_1)]
    )
    assert result.exit_code == 1
    assert "Error: github create comment: Resource not accessible by integration (HTTP 403)" in result.stderr
    assert "pull-requests: write" in result.stderr


def test_drift_issue_command_opens_and_closes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    drift = body_file(tmp_path, "Nightly drift check: Plan: 2 to add, 0 to change, 0 to remove.\n")
    replay, opened = run(
        monkeypatch,
        "drift_create.json",
        ["github", "drift-issue", "--repo", REPO, "--body-file", drift, "--state", "open"],
    )
    replay.assert_done()
    clean = body_file(tmp_path, "Nightly drift check: no changes. The LMS matches the manifests.\n")
    replay, closed = run(
        monkeypatch,
        "drift_resolve.json",
        ["github", "drift-issue", "--repo", REPO, "--body-file", clean, "--state", "resolved"],
    )
    replay.assert_done()
    assert "drift issue #51 created" in opened.stderr
    assert "drift issue #51 closed" in closed.stderr


def test_reviewed_plan_prints_lines_for_github_output(monkeypatch: pytest.MonkeyPatch) -> None:
    sha = "9f3c1d2e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"
    _, found = run(
        monkeypatch, "reviewed_plan.json", ["github", "reviewed-plan", "--repo", REPO, "--sha", sha]
    )
    _, none = run(
        monkeypatch,
        "reviewed_plan_direct_push.json",
        ["github", "reviewed-plan", "--repo", REPO, "--sha", sha],
    )
    assert found.stdout == "pr=42\nrun-id=11998877665\n"
    assert none.stdout == "pr=\nrun-id=\n"


def test_a_missing_token_is_reported_by_name(tmp_path: Path) -> None:
    args = ["github", "comment", "--repo", REPO, "--pr", "1", "--body-file", body_file(tmp_path, PLAN_1)]
    result = CliRunner().invoke(main, args, env={"GITHUB_TOKEN": ""})
    assert result.exit_code == 1
    assert "Error: GITHUB_TOKEN is not set" in result.stderr


@pytest.mark.parametrize("sha", ["main", "../../x", "9f3c"])
def test_reviewed_plan_refuses_what_is_not_a_commit_id(sha: str) -> None:
    result = CliRunner().invoke(main, ["github", "reviewed-plan", "--repo", REPO, "--sha", sha])
    assert result.exit_code == 1
    assert "is not a commit id" in result.stderr


def test_pre_commit_hook_runs_an_existing_offline_command() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "enrollctl-validate"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    program, *args = hook["entry"].split()
    assert program == "enrollctl"
    command = main.commands[args[0]]
    assert "--offline" in args
    assert any("--offline" in p.opts for p in command.params if isinstance(p, click.Option))


def test_pre_commit_hook_passes_on_an_example_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    _, *args = hooks[0]["entry"].split()
    monkeypatch.chdir(ROOT / "examples" / "quickstart")  # pre-commit runs hooks from the repository root
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_prints_a_script(shell: str) -> None:
    env = {"_ENROLLCTL_COMPLETE": f"{shell}_source"}
    result = CliRunner().invoke(main, [], env=env, prog_name="enrollctl")
    assert result.exit_code == 0
    assert "_enrollctl_completion" in result.stdout
    assert "_ENROLLCTL_COMPLETE" in result.stdout


def test_shell_completion_completes_commands() -> None:
    env = {"_ENROLLCTL_COMPLETE": "bash_complete", "COMP_WORDS": "enrollctl gi", "COMP_CWORD": "1"}
    result = CliRunner().invoke(main, [], env=env, prog_name="enrollctl")
    assert "plain,github" in result.stdout.splitlines()

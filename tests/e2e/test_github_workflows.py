"""The example workflows and the composite action do what their comments say, run for real on a sandbox.

Each step's `run:` script is executed with bash the way GitHub runs it (`bash -eo pipefail`), in a copy of
the quickstart repository, with the `GITHUB_*` files and variables a runner provides. Steps that talk to
GitHub are covered by tests/test_github*.py; here we check every `enrollctl` call they make names real
commands and options.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli.app import main
from tests.support.paths import ROOT

ROOT = ROOT
EXAMPLES = ROOT / "examples" / "github-actions"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))
NOW = "2026-11-20T09:00:00+00:00"
SHA = "9f3c1d2e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"


def steps(path: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [s for job in document["jobs"].values() for s in job["steps"]]


def step(path: Path, name: str) -> dict[str, Any]:
    (found,) = [s for s in steps(path) if s.get("name") == name]
    return found


def enrollctl_calls(script: str) -> list[list[str]]:
    """Every `enrollctl ...` command line in a script, split like the shell would (variables left as is)."""
    joined = re.sub(r"\\\n\s*", " ", script)
    calls = []
    for line in joined.splitlines():
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part.split(">", 1)[0].strip(), comments=True) if "enrollctl " in part else []
            if words and words[0] == "enrollctl":
                calls.append(words[1:])
    return calls


def _command(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = main
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        command, words = command.commands[words[0]], words[1:]
    return command, words


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_enrollctl_call_names_real_commands_and_options(path: Path) -> None:
    scripts = [s["run"] for s in steps(path) if "run" in s]
    scripts += [f"enrollctl {s['with']['command']}" for s in steps(path) if s.get("with", {}).get("command")]
    calls = [call for script in scripts for call in enrollctl_calls(script)]
    assert calls
    for words in calls:
        command, rest = _command(words)
        assert command is not main, words
        known = {o for p in command.params for o in p.opts}
        used = {w.split("=", 1)[0] for w in rest if w.startswith("--")}
        assert used <= known, f"{words}: unknown {used - known}"
        required = {p.opts[0] for p in command.params if isinstance(p, click.Option) and p.required}
        assert required <= used, f"{words}: missing {required - used}"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "quickstart", target, ignore=shutil.ignore_patterns(".enrollctl"))
    return target


def run_step(script: str, cwd: Path, **env: str) -> dict[str, str]:
    """Run one `run:` script as a GitHub runner would; return what it wrote to $GITHUB_OUTPUT."""
    output, summary = cwd / ".github_output", cwd / ".github_summary"
    output.write_text("")
    variables = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "ENROLLCTL_NOW": NOW,
        "ENROLLCTL_DIR": ".",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SHA": SHA,
        "GITHUB_REPOSITORY": "acme/training-policies",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "11998877665",
        **env,
    }
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=variables, check=True
    )
    lines = output.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_pull_request_plan_step_saves_json_and_markdown_from_one_plan(repo: Path) -> None:
    outputs = run_step(step(EXAMPLES / "plan-on-pull-request.yml", "Plan")["run"], repo, HEAD_SHA=SHA)
    assert outputs == {"exit-code": "0", "verdict": "ok"}
    assert (repo / "plan.json").is_file()
    comment = (repo / "plan.md").read_text()
    assert comment.startswith("### enrollctl plan: 53 to add")
    assert comment.endswith(
        "\n---\nPlanned for 9f3c1d2 in [this run](https://github.com/acme/training-policies/actions/runs/11998877665).\n"
    )


def test_pull_request_plan_step_turns_a_failure_into_the_comment(repo: Path) -> None:
    (repo / "policies" / "broken.yaml").write_text("apiVersion: enrollctl/v1\nkind: Policy\n")
    outputs = run_step(step(EXAMPLES / "plan-on-pull-request.yml", "Plan")["run"], repo)
    assert outputs == {"exit-code": "1", "verdict": "failed"}
    assert not (repo / "plan.json").exists()
    assert (repo / "plan.md").read_text().startswith("### enrollctl plan failed\n\n```\npolicies/broken.yaml")


def test_merge_applies_the_reviewed_plan_and_refuses_one_from_other_manifests(
    repo: Path, tmp_path: Path
) -> None:
    reviewed = tmp_path / "plan.json"
    subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "plan", "--out", str(reviewed)],
        env={**os.environ, "ENROLLCTL_NOW": NOW},
        check=True,
        capture_output=True,
    )
    script = step(EXAMPLES / "apply-on-merge.yml", "Apply")["run"]
    applied = run_step(script, repo, REVIEWED=str(reviewed), PR="42")
    assert applied == {"exit-code": "0"}
    assert (repo / "apply.md").read_text().startswith("### enrollctl apply of 9f3c1d2 succeeded")
    assert "Apply finished: 61 done" in (repo / "apply.md").read_text()
    assert "Planned again after apply: enrollctl plan: no changes." in (repo / "apply.md").read_text()
    # what was applied stays next to the journal, for the artifact a re-run resumes from
    assert (repo / "applied-plan.json").read_bytes() == reviewed.read_bytes()
    assert list((repo / ".enrollctl" / "journal").glob("*.jsonl"))

    (repo / "policies" / "security-awareness.yaml").write_text(
        (repo / "policies" / "security-awareness.yaml").read_text() + "\n# edited\n"
    )
    refused = run_step(script, repo, REVIEWED=str(reviewed), PR="42")
    assert refused == {"exit-code": "1"}
    result = (repo / "apply.md").read_text()
    assert result.startswith("### enrollctl apply of 9f3c1d2 failed")
    assert "the plan was made from other manifests" in result


def test_merge_without_a_reviewed_plan_applies_nothing_by_default(repo: Path) -> None:
    script = step(EXAMPLES / "apply-on-merge.yml", "Apply")["run"]
    outputs = run_step(script, repo, REVIEWED=str(repo / "missing.json"), PR="", REQUIRE_REVIEWED_PLAN="true")
    assert outputs == {"exit-code": "1"}
    assert "nothing applied" in (repo / "apply.txt").read_text()


def test_drift_step_exits_2_on_drift_and_0_once_applied(repo: Path) -> None:
    script = step(EXAMPLES / "drift-check.yml", "Plan (exit 2 means drift)")["run"]
    assert run_step(script, repo) == {"exit-code": "2"}
    assert "53 to add" in (repo / "body.md").read_text()
    upload = step(EXAMPLES / "drift-check.yml", "Keep the plan as an artifact")
    assert upload["with"]["path"] == "${{ env.ENROLLCTL_DIR }}/drift-plan.json"
    assert json.loads((repo / "drift-plan.json").read_text())["format_version"] == 1
    subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "apply", "--auto-approve"],
        env={**os.environ, "ENROLLCTL_NOW": NOW},
        check=True,
        capture_output=True,
    )
    assert run_step(script, repo) == {"exit-code": "0"}


def test_a_rerun_resumes_the_earlier_attempts_plan_from_its_journal(repo: Path, tmp_path: Path) -> None:
    """Attempt 1 applied and uploaded `enrollctl-apply-1`; attempt 2 restores it and applies nothing twice."""
    workflow = EXAMPLES / "apply-on-merge.yml"
    reviewed = tmp_path / "reviewed" / "plan.json"
    reviewed.parent.mkdir()
    subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "plan", "--out", str(reviewed)],
        env={**os.environ, "ENROLLCTL_NOW": NOW},
        check=True,
        capture_output=True,
    )
    apply = step(workflow, "Apply")["run"]
    assert run_step(apply, repo, REVIEWED=str(reviewed), PR="42") == {"exit-code": "0"}
    upload = step(workflow, "Keep the applied plan and the journal")
    assert upload["with"]["name"] == "enrollctl-apply-${{ github.run_attempt }}"
    assert upload["if"] == "always() && steps.apply.outcome != 'skipped'"
    # the artifact as download-artifact lays it out: a directory per attempt, paths relative to ENROLLCTL_DIR
    attempts = tmp_path / "attempts"
    for attempt in ("enrollctl-apply-1", "enrollctl-apply-10"):
        shutil.copytree(repo / ".enrollctl" / "journal", attempts / attempt / ".enrollctl" / "journal")
        shutil.copy(repo / "applied-plan.json", attempts / attempt / "applied-plan.json")
    shutil.rmtree(repo / ".enrollctl" / "journal")
    (repo / "applied-plan.json").unlink()
    restore = step(workflow, "Resume from the latest earlier attempt")["run"]
    rerun = tmp_path / "rerun" / "plan.json"
    run_step(restore, repo, ATTEMPTS=str(attempts), REVIEWED=str(rerun))
    assert rerun.read_bytes() == reviewed.read_bytes()
    assert [p.name for p in (repo / ".enrollctl" / "journal").glob("*.jsonl")] == [
        p.name for p in (attempts / "enrollctl-apply-10" / ".enrollctl" / "journal").glob("*.jsonl")
    ]
    resumed = run_step(apply, repo, REVIEWED=str(rerun), PR="", GITHUB_RUN_ATTEMPT="2", RESUME_RUN_ID="")
    assert resumed == {"exit-code": "0"}
    result = (repo / "apply.txt").read_text()
    assert result.startswith("Resuming the plan of an earlier attempt (run 11998877665).")
    assert "63 done" not in result  # the journal says they were done: nothing is written again


def test_a_rerun_without_an_earlier_plan_applies_as_on_a_push(repo: Path, tmp_path: Path) -> None:
    restore = step(EXAMPLES / "apply-on-merge.yml", "Resume from the latest earlier attempt")["run"]
    (tmp_path / "attempts").mkdir()
    missing = tmp_path / "none" / "plan.json"
    run_step(restore, repo, ATTEMPTS=str(tmp_path / "attempts"), REVIEWED=str(missing))
    assert not (tmp_path / "none" / "plan.json").exists()


def test_the_action_reports_exit_code_plan_file_and_changes(repo: Path) -> None:
    script = step(ROOT / "action.yml", "Run enrollctl")["run"]
    env = {
        "ENROLLCTL_ARGS": "plan --out plan.json --format markdown",
        "OUTPUT_FILE": "plan.md",
        "WORKING_DIRECTORY": ".",
    }
    assert run_step(script, repo, **env) == {
        "exit-code": "0",
        "plan-file": "plan.json",
        "has-changes": "true",
    }
    assert (repo / "plan.md").read_text().startswith("### enrollctl plan")
    env = {"ENROLLCTL_ARGS": "plan --detailed-exitcode", "OUTPUT_FILE": "", "WORKING_DIRECTORY": "."}
    assert run_step(script, repo, **env) == {"exit-code": "2", "plan-file": "", "has-changes": "true"}


def test_the_action_fails_the_step_on_an_error(repo: Path) -> None:
    script = step(ROOT / "action.yml", "Run enrollctl")["run"]
    env = {"ENROLLCTL_ARGS": "show missing.json", "OUTPUT_FILE": "", "WORKING_DIRECTORY": "."}
    with pytest.raises(subprocess.CalledProcessError):
        run_step(script, repo, **env)
    assert (repo / ".github_output").read_text() == "exit-code=1\nplan-file=\nhas-changes=false\n"


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_github_commands_name_real_commands_and_options() -> None:
    section = _readme_section("GitOps setup in five minutes")
    lines = [line.replace("|", " ") for line in section.splitlines() if line.startswith("enrollctl github")]
    assert len(lines) == 5
    for words in (shlex.split(re.sub(r"\[|\]|\.\.\.", " ", line))[1:] for line in lines):
        command, rest = _command(words)
        known = {o for p in command.params for o in p.opts}
        assert {w for w in rest if w.startswith("--")} <= known, words


def test_the_readme_gitops_repository_validates_offline(tmp_path: Path) -> None:
    section = _readme_section("GitOps setup in five minutes")
    init = re.search(r"^\s*enrollctl init (\S+)", section, re.MULTILINE)
    assert (
        init is not None
    )  # the setup starts with `enrollctl init DIR` (tests/cli/test_init.py covers the rest)
    assert CliRunner().invoke(main, ["-C", str(tmp_path), "init", init.group(1)]).exit_code == 0
    result = CliRunner().invoke(main, ["-C", str(tmp_path / init.group(1)), "validate", "--offline"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "OK: 1 policy in 1 file, 1 provider\n"

"""Review in the pull request, run as the workflows run it: the plan comment shows the digest, how the plan is
applied and what changed since the plan it showed before; a maintainer's `/enrollctl approve <digest>`
comment lets apply-on-merge apply exactly that refused plan, and nothing else does.

Each step's `run:` script runs with bash as GitHub runs it (tests/e2e/test_github_workflows.py), against a
fake GitHub served over HTTP (tests/github/fake.py) and the quickstart's sandbox. `actions/download-artifact`
is played by copying the file it would download.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_github_workflows import EXAMPLES, NOW, SHA, run_step, step
from tests.github.fake import REPO, FakeGitHub, fake_github, github_env
from tests.support.e2e import write_calls
from tests.support.paths import ROOT

PLAN = EXAMPLES / "plan-on-pull-request.yml"
APPLY = EXAMPLES / "apply-on-merge.yml"
PR = "42"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "quickstart", target, ignore=shutil.ignore_patterns(".enrollctl"))
    return target


def _trip_the_count_guard(root: Path) -> None:
    config = root / "enrollctl.yaml"
    config.write_text(config.read_text().replace("max_removals: 25", "max_removals: 0"))


def _plan_run(repo: Path, fake: FakeGitHub, run_id: str, temp: Path) -> dict[str, str]:
    """One run of plan-on-pull-request's steps after checkout; returns the Plan step's outputs."""
    env = {**github_env(fake), "PR": PR, "GITHUB_RUN_ID": run_id, "HEAD_SHA": SHA}
    shown = run_step(step(PLAN, "Find the plan the comment shows")["run"], repo, **env)
    downloaded = temp / f"shown-{run_id}" / "plan.json"
    if shown["run-id"]:  # what download-artifact fetches: that run's `enrollctl-plan`
        downloaded.parent.mkdir()
        shutil.copy(temp / f"artifact-{shown['run-id']}.json", downloaded)
    outputs = run_step(step(PLAN, "Plan")["run"], repo, **env)
    if outputs["verdict"] != "failed":  # what upload-artifact keeps for this run
        shutil.copy(repo / "plan.json", temp / f"artifact-{run_id}.json")
    run_step(step(PLAN, "Post or update the plan comment")["run"], repo, **env, SHOWN=str(downloaded))
    return outputs


def _plan_comment(fake: FakeGitHub) -> str:
    (body,) = [b for b in fake.bodies(int(PR)) if "<!-- enrollctl-plan: . -->" in b]
    return body


def _digest(plan_file: Path) -> str:
    return str(json.loads(plan_file.read_text())["verdict"]["approval_digest"])


def test_the_comment_shows_the_digest_and_later_what_changed_since_the_plan_it_showed(
    repo: Path, tmp_path: Path
) -> None:
    with fake_github() as fake:
        assert _plan_run(repo, fake, "1001", tmp_path) == {"exit-code": "0", "verdict": "ok"}
        first = _plan_comment(fake)
        digest = _digest(repo / "plan.json")
        assert f"<!-- enrollctl-plan-shown: run=1001 digest={digest} -->" in first
        assert f"**Plan `{digest}`**: merging applies exactly this plan" in first
        assert "Since the last plan comment" not in first

        policy = repo / "policies" / "security-awareness.yaml"
        policy.write_text(policy.read_text().replace("due: 2026-12-31", "due: 2027-01-15"))
        _plan_run(repo, fake, "1002", tmp_path)
        second = _plan_comment(fake)
    assert len(fake.comments[int(PR)]) == 1  # the same comment, updated
    assert f"<!-- enrollctl-plan-shown: run=1002 digest={_digest(repo / 'plan.json')} -->" in second
    assert f"Since the last plan comment: 0 added, 0 dropped, 31 changed (plan `{digest}`)" in second
    assert '! abel@acme.example in "Security Awareness 2026": due 2026-12-31 → 2027-01-15' in second
    assert second.index("Since the last plan comment") < second.index("<summary>lms")  # before the plan


def test_a_refused_plan_is_commented_whole_with_the_approval_command_and_uploaded(
    repo: Path, tmp_path: Path
) -> None:
    _trip_the_count_guard(repo)
    with fake_github() as fake:
        assert _plan_run(repo, fake, "1001", tmp_path) == {"exit-code": "1", "verdict": "refused"}
        comment = _plan_comment(fake)
    digest = _digest(repo / "plan.json")
    assert (tmp_path / "artifact-1001.json").is_file()
    assert f"comments `/enrollctl approve {digest}` on this pull request" in comment
    assert "Security Awareness 2026" in comment  # the plan itself, not an error
    assert "enrollctl plan failed" not in comment


# --- approval at merge ---------------------------------------------------------------------------------


def _refused_plan(repo: Path, tmp_path: Path) -> Path:
    _trip_the_count_guard(repo)
    reviewed = tmp_path / "reviewed" / "plan.json"
    reviewed.parent.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(repo), "plan", "--out", str(reviewed)],
        env={**os.environ, "ENROLLCTL_NOW": NOW},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 1 and reviewed.is_file(), result.stderr
    return reviewed


def _merge(repo: Path, fake: FakeGitHub, reviewed: Path) -> tuple[dict[str, str], str]:
    """apply-on-merge's approval and apply steps; returns the apply outputs and its report."""
    env = {**github_env(fake), "PR": PR, "REVIEWED": str(reviewed)}
    approval = run_step(step(APPLY, "Find a maintainer's approval in the pull request")["run"], repo, **env)
    outputs = run_step(
        step(APPLY, "Apply")["run"],
        repo,
        REVIEWED=str(reviewed),
        PR=PR,
        APPROVE=approval.get("approve", ""),
        APPROVED_BY=approval.get("approved-by", ""),
    )
    return outputs, (repo / "apply.txt").read_text()


def _writes(repo: Path) -> list[str]:
    from tests.support.e2e import open_store

    store = open_store(repo)
    try:
        return write_calls(store)
    finally:
        store.close()


def test_a_maintainers_approval_of_exactly_this_plan_applies_it(repo: Path, tmp_path: Path) -> None:
    reviewed = _refused_plan(repo, tmp_path)
    digest = _digest(reviewed)
    with fake_github(mia="maintain") as fake:
        fake.comment(int(PR), "mia", f"Reviewed the removals with HR.\n/enrollctl approve {digest}\n")
        outputs, report = _merge(repo, fake, reviewed)
    assert outputs == {"exit-code": "0"}, report
    assert f"Plan {digest} approved by mia." in report
    assert "Apply finished:" in report and " 0 failed" in report
    assert "Unenroll" in _writes(repo)  # the removals the guard held back were made
    assert ("GET", "/repos/acme/training-policies/collaborators/mia/permission") in fake.requests


def test_an_approval_of_another_plan_is_refused_and_nothing_is_written(repo: Path, tmp_path: Path) -> None:
    reviewed = _refused_plan(repo, tmp_path)
    stale = "0123456789abcdef"
    assert _digest(reviewed) != stale
    with fake_github(mia="admin") as fake:
        fake.comment(int(PR), "mia", f"/enrollctl approve {stale}")  # an earlier push's plan
        outputs, report = _merge(repo, fake, reviewed)
    assert outputs == {"exit-code": "1"}
    assert "approved by" not in report
    assert f"--approve {_digest(reviewed)}" in report  # apply's refusal: this plan needs its own approval
    assert _writes(repo) == []


def test_a_stale_digest_given_to_a_manual_run_is_refused_by_apply(repo: Path, tmp_path: Path) -> None:
    reviewed = _refused_plan(repo, tmp_path)
    stale = "0123456789abcdef"
    script = step(APPLY, "Apply")["run"]
    outputs = run_step(script, repo, REVIEWED=str(reviewed), PR="", APPROVE=stale, APPROVED_BY="mia")
    assert outputs == {"exit-code": "1"}
    assert f"--approve {stale} does not match this plan" in (repo / "apply.txt").read_text()
    assert _writes(repo) == []


def test_an_approval_from_someone_without_write_permission_is_ignored(repo: Path, tmp_path: Path) -> None:
    reviewed = _refused_plan(repo, tmp_path)
    digest = _digest(reviewed)
    with fake_github(rita="read", tom="triage") as fake:
        fake.comment(int(PR), "rita", f"/enrollctl approve {digest}")
        fake.comment(int(PR), "tom", f"/enrollctl approve {digest}")
        fake.comment(int(PR), "outsider", f"/enrollctl approve {digest}")  # not a collaborator: 404
        fake.comment(int(PR), "helper[bot]", f"/enrollctl approve {digest}", bot=True)
        outputs, report = _merge(repo, fake, reviewed)
    assert outputs == {"exit-code": "1"}
    assert "approved by" not in report
    assert f"--approve {digest}" in report  # apply's refusal: this plan needs an approval
    assert _writes(repo) == []


def test_the_plan_comment_quoting_the_command_is_not_an_approval(repo: Path, tmp_path: Path) -> None:
    reviewed = _refused_plan(repo, tmp_path)
    digest = _digest(reviewed)
    with fake_github(**{"github-actions[bot]": "write"}) as fake:
        # our own comment quotes the command, on a line of its own here, and its author may write
        fake.comment(
            int(PR), "github-actions[bot]", f"<!-- enrollctl-plan: . -->\n/enrollctl approve {digest}"
        )
        outputs, _ = _merge(repo, fake, reviewed)
    assert outputs == {"exit-code": "1"}
    assert not any(re.search(r"/permission$", path) for _, path in fake.requests)
    assert REPO in {path.split("/issues")[0].removeprefix("/repos/") for _, path in fake.requests}

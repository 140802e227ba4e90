"""The nightly drift workflow's compliance status: the Markdown table goes into the drift issue (and the run's
summary), the HTML report into an artifact, from one read. Its `run:` scripts are run the way GitHub runs
them (tests/e2e/test_github_workflows.py's helpers) on examples/compliance, and the drift issue is written to
a fake GitHub issues API on loopback by the real `enrollctl github drift-issue`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.serve import serve
from tests.e2e.test_github_workflows import EXAMPLES, run_step, step
from tests.support.e2e import copy_example, enrollctl

DRIFT = EXAMPLES / "drift-check.yml"
PLAN, STATUS = (
    "Plan (exit 2 means drift)",
    "Compliance status (Markdown for the issue, HTML report for the artifact)",
)
NOW = "2026-11-25T12:00:00+00:00"
REPO = "acme/training-policies"
FORKLIFT_ROW = "| forklift-safety | Forklift Safety | 2 | 1 | 0 | 0 | 1 | 0 | 1 | 50% |"


@dataclass
class FakeIssues:
    """GitHub's issues API, as much of it as `enrollctl github drift-issue` uses, kept in memory."""

    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[str]] = field(default_factory=dict)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        sent = json.loads(environ["wsgi.input"].read(length) or b"null")
        status, answer = self._answer(method, path, sent)
        body = json.dumps(answer).encode()
        start_response(
            f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _answer(self, method: str, path: str, sent: Any) -> tuple[int, Any]:
        if path == f"/repos/{REPO}/issues" and method == "GET":
            return 200, [i for i in self.issues.values() if i["state"] == "open"]
        if path == f"/repos/{REPO}/issues" and method == "POST":
            number = len(self.issues) + 1
            labels = [{"name": name} for name in sent["labels"]]
            self.issues[number] = {
                "number": number,
                "title": sent["title"],
                "body": sent["body"],
                "labels": labels,
            }
            self.issues[number].update(state="open", html_url=f"https://github.com/{REPO}/issues/{number}")
            return 201, self.issues[number]
        found = re.fullmatch(rf"/repos/{REPO}/issues/(\d+)(/comments)?", path)
        if found is None or int(found[1]) not in self.issues:
            return 404, {"message": "Not Found"}
        issue = self.issues[int(found[1])]
        if found[2] and method == "POST":
            self.comments.setdefault(issue["number"], []).append(sent["body"])
            return 201, {"id": 1, "body": sent["body"]}
        if method == "PATCH":
            issue.update({k: v for k, v in sent.items() if k in ("body", "state", "title")})
            return 200, issue
        return 405, {"message": "Method Not Allowed"}


@pytest.fixture
def github() -> Iterator[tuple[FakeIssues, str]]:
    fake = FakeIssues()
    server, url = serve(fake, poll_interval=0.01)
    try:
        yield fake, url
    finally:
        server.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_example("compliance", tmp_path / "repo")


def _issue_step(name: str, repo: Path, url: str) -> None:
    run_step(step(DRIFT, name)["run"], repo, ENROLLCTL_NOW=NOW, GITHUB_TOKEN="test-token", GITHUB_API_URL=url)


def test_the_drift_issue_carries_the_status_table_below_the_plan(
    repo: Path, github: tuple[FakeIssues, str]
) -> None:
    fake, url = github
    assert run_step(step(DRIFT, PLAN)["run"], repo, ENROLLCTL_NOW=NOW) == {"exit-code": "2"}
    assert run_step(step(DRIFT, STATUS)["run"], repo, ENROLLCTL_NOW=NOW) == {"ok": "true"}
    body = (repo / "body.md").read_text(encoding="utf-8")
    assert body.index("### enrollctl plan:") < body.index("## Compliance status") < body.index(FORKLIFT_ROW)
    assert "need attention" not in body  # the table only: who needs attention is in the HTML report
    assert FORKLIFT_ROW in (repo / ".github_summary").read_text(encoding="utf-8")
    _issue_step("Open or update the drift issue", repo, url)
    (issue,) = fake.issues.values()
    assert issue["state"] == "open" and [label["name"] for label in issue["labels"]] == ["enrollctl-drift"]
    assert FORKLIFT_ROW in issue["body"] and "↻ yusuf@acme.example" in issue["body"]


def test_the_html_report_from_the_same_read_is_kept_as_an_artifact(repo: Path) -> None:
    outputs = run_step(step(DRIFT, STATUS)["run"], repo, ENROLLCTL_NOW=NOW)
    assert outputs == {"ok": "true"}
    page = (repo / "status.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page and "rosa@acme.example" in page  # self-contained, with the people
    upload = step(DRIFT, "Keep the status report as an artifact")
    assert upload["if"] == "steps.status.outputs.ok == 'true'"
    assert upload["with"]["path"] == "${{ env.ENROLLCTL_DIR }}/status.html"
    assert upload["with"]["retention-days"] == 30
    reads = [e for e in _request_log(repo) if e.startswith("GET")]
    assert reads and len(reads) == len(set(reads))  # one read for both formats: no listing asked twice


def test_a_status_that_cannot_be_read_says_so_in_the_issue_and_fails_the_job(repo: Path) -> None:
    outputs = run_step(step(DRIFT, STATUS)["run"], repo, ENROLLCTL_NOW="not a date")
    assert outputs == {"ok": "false"}
    assert "could not be read" in (repo / "body.md").read_text(encoding="utf-8")
    assert not (repo / "status.html").exists()
    fail = step(DRIFT, "Fail when the plan or the status failed")
    assert "steps.status.outputs.ok == 'false'" in fail["if"] and fail["run"] == "exit 1"


def test_once_applied_the_issue_is_closed_with_the_status_in_its_last_comment(
    repo: Path, github: tuple[FakeIssues, str]
) -> None:
    fake, url = github
    for _ in range(2):  # drift, then the night after the merge was applied
        plan = run_step(step(DRIFT, PLAN)["run"], repo, ENROLLCTL_NOW=NOW)
        assert run_step(step(DRIFT, STATUS)["run"], repo, ENROLLCTL_NOW=NOW) == {"ok": "true"}
        if plan == {"exit-code": "2"}:
            _issue_step("Open or update the drift issue", repo, url)
            subprocess.run(
                [sys.executable, "-m", "reconciler", "-C", str(repo), "apply", "--auto-approve"],
                env={**os.environ, "ENROLLCTL_NOW": NOW},
                check=True,
                capture_output=True,
            )
        else:
            assert plan == {"exit-code": "0"}
            _issue_step("Close the drift issue", repo, url)
    (issue,) = fake.issues.values()
    assert issue["state"] == "closed"
    (last,) = fake.comments[issue["number"]]
    assert "The LMS matches the manifests." in last
    # everyone targeted is assigned now; yusuf's completion was due again, so he starts over (not started)
    assert "| forklift-safety | Forklift Safety | 2 | 2 | 2 | 0 | 0 | 0 | 0 | 0% |" in last


def _request_log(repo: Path) -> list[str]:
    """The iSpring sandbox's calls as `METHOD path?query`, oldest first (the status step's only)."""
    from tests.support.e2e import open_store

    store = open_store(repo, "lms")
    try:
        return [f"{e.method} {e.action}" for e in store.request_log()]
    finally:
        store.close()


def test_html_out_into_a_missing_directory_is_a_usage_error_naming_the_option(repo: Path) -> None:
    result = enrollctl(repo, "status", "--html-out", str(repo / "missing" / "status.html"))
    assert result.exit_code == 1
    assert "--html-out" in result.output and "does not exist" in result.output

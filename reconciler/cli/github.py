"""`enrollctl github ...`: the GitHub side of the GitOps workflows (sticky plan comment, drift issue).

Each command reads `GITHUB_TOKEN` (never printed) and `GITHUB_API_URL`, does one job and says what it did
on stderr; `reviewed-plan` prints `key=value` lines for `$GITHUB_OUTPUT`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import click

from reconciler.cli.app import AppContext
from reconciler.errors import UsageError
from reconciler.github.client import DRIFT_LABEL, GitHub, Written, repository


def open_github(env: Mapping[str, str], app: AppContext) -> GitHub:
    """The client the commands use, waiting with the run's sleep (tests replace this to replay recordings)."""
    return GitHub.from_env(env, sleep=app.sleep)


def _read_body(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read --body-file {path}: {error}") from None


def _report(what: str, written: Written) -> None:
    where = f" #{written.number}" if written.number is not None else ""
    url = f": {written.url}" if written.url else ""
    click.echo(f"{what}{where} {written.action}{url}", err=True)


repo_option = click.option("--repo", required=True, metavar="OWNER/NAME", help="The repository.")
body_option = click.option(
    "--body-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Markdown file with the body (e.g. from `plan --format markdown`).",
)


@click.group("github")
def github_group() -> None:
    """Post plans to pull requests and track drift in an issue (for GitHub Actions; needs GITHUB_TOKEN)."""


@github_group.command("comment")
@repo_option
@click.option("--pr", "number", required=True, type=click.IntRange(min=1), help="Pull request number.")
@body_option
@click.option(
    "--marker",
    default="enrollctl-plan",
    show_default=True,
    help="Identifies the one comment to update, as a hidden <!-- MARKER --> line.",
)
@click.pass_obj
def comment_command(app: AppContext, repo: str, number: int, body_file: Path, marker: str) -> None:
    """Create the pull request's sticky comment, or update it in place on every later run."""
    github = open_github(os.environ, app)
    try:
        written = github.upsert_comment(repository(repo), number, _read_body(body_file), marker=marker)
    finally:
        github.close()
    _report("comment on", written)


@github_group.command("drift-issue")
@repo_option
@body_option
@click.option(
    "--state",
    required=True,
    type=click.Choice(["open", "resolved"]),
    help="open: drift found (open or update the issue); resolved: none (close it).",
)
@click.option("--label", default=DRIFT_LABEL, show_default=True, help="Label of the drift issue.")
@click.option("--marker", default="enrollctl-drift", show_default=True, help="Hidden <!-- MARKER --> line.")
@click.option(
    "--title", default="enrollctl: the LMS differs from the manifests", show_default=True, help="Issue title."
)
@click.pass_obj
def drift_issue_command(
    app: AppContext, repo: str, body_file: Path, state: str, label: str, marker: str, title: str
) -> None:
    """Keep ONE open issue while the LMS has drifted from the manifests; close it when the drift is gone."""
    github = open_github(os.environ, app)
    try:
        written = github.drift_issue(
            repository(repo),
            _read_body(body_file),
            drifted=state == "open",
            marker=marker,
            title=title,
            label=label,
        )
    finally:
        github.close()
    _report("drift issue", written)


@github_group.command("reviewed-plan")
@repo_option
@click.option("--sha", required=True, help="The commit pushed to the main branch.")
@click.option(
    "--workflow",
    default="plan-on-pull-request.yml",
    show_default=True,
    help="File name of the workflow that planned the pull request.",
)
@click.pass_obj
def reviewed_plan_command(app: AppContext, repo: str, sha: str, workflow: str) -> None:
    """Print `pr=N` and `run-id=M`: the merged PR of SHA and the run that planned it (empty if none)."""
    if not re.fullmatch(r"[0-9a-fA-F]{7,40}", sha):
        raise UsageError(f"--sha {sha!r} is not a commit id")
    if not re.fullmatch(r"[\w.-]+", workflow):
        raise UsageError(f"--workflow {workflow!r} is not a workflow file name or id")
    github = open_github(os.environ, app)
    try:
        number, run_id = github.reviewed_plan_run(repository(repo), sha, workflow)
    finally:
        github.close()
    click.echo(f"pr={number if number is not None else ''}")
    click.echo(f"run-id={run_id if run_id is not None else ''}")


def register(main: click.Group) -> None:
    """Add the `github` group to `enrollctl`."""
    main.add_command(github_group)

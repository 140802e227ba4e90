"""`enrollctl github ...`: the GitHub side of the GitOps workflows (sticky plan comment, drift issue,
approvals in the pull request).

Each command reads `GITHUB_TOKEN` (never printed) and `GITHUB_API_URL`, does one job and says what it did
on stderr; `reviewed-plan`, `last-plan` and `approval` print `key=value` lines for `$GITHUB_OUTPUT`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import click

from reconciler.cli.app import AppContext
from reconciler.errors import UsageError
from reconciler.github.approval import find_approval
from reconciler.github.client import GitHub, repository
from reconciler.github.comment import (
    DRIFT_LABEL,
    ShownPlan,
    Written,
    drift_issue,
    our_comment,
    plan_comment,
    review_block,
    shown_plan,
    since_block,
    upsert_comment,
)
from reconciler.planfile.codec import approval_digest
from reconciler.planfile.file import load_plan


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


SINCE_LIMIT = 20  # changed actions listed per section in the comment; `show --compare` lists more
plan_file = click.Path(exists=True, dir_okay=False, path_type=Path)
marker_option = click.option(
    "--marker",
    default="enrollctl-plan",
    show_default=True,
    help="Identifies the one comment to update, as a hidden <!-- MARKER --> line.",
)


@github_group.command("comment")
@repo_option
@click.option("--pr", "number", required=True, type=click.IntRange(min=1), help="Pull request number.")
@body_option
@marker_option
@click.option(
    "--plan",
    "plan_path",
    type=plan_file,
    help="The saved plan the body shows: adds its digest and how it gets applied (or approved).",
)
@click.option(
    "--run-id",
    type=click.IntRange(min=1),
    help="The workflow run whose artifact holds --plan; recorded in the comment for `last-plan`.",
)
@click.option(
    "--since",
    "since_path",
    type=plan_file,
    help="The plan the previous comment showed: adds what changed since (needs --plan).",
)
@click.pass_obj
def comment_command(
    app: AppContext,
    repo: str,
    number: int,
    body_file: Path,
    marker: str,
    plan_path: Path | None,
    run_id: int | None,
    since_path: Path | None,
) -> None:
    """Create the pull request's sticky comment, or update it in place on every later run."""
    body = _read_body(body_file)
    if plan_path is not None:
        body = _plan_body(body, plan_path, run_id, since_path)
    elif since_path is not None or run_id is not None:
        raise UsageError("--since and --run-id describe the plan of --plan; give --plan too")
    github = open_github(os.environ, app)
    try:
        written = upsert_comment(github, repository(repo), number, body, marker=marker)
    finally:
        github.close()
    _report("comment on", written)


def _plan_body(body: str, plan_path: Path, run_id: int | None, since_path: Path | None) -> str:
    from reconciler.planfile.compare import compare_plans
    from reconciler.render.compare import counts_text, render_compare_markdown

    plan = load_plan(plan_path)
    digest = approval_digest(plan)
    since = ""
    if since_path is not None:
        comparison = compare_plans(load_plan(since_path), plan)
        text = render_compare_markdown(comparison, heading="Changes since that plan", limit=SINCE_LIMIT)
        since = since_block(f"{counts_text(comparison)} (plan `{comparison.old_digest}`)", text)
    shown = ShownPlan(run_id, digest) if run_id is not None else None
    return plan_comment(body, review=review_block(digest, plan.refused_by), since=since, shown=shown)


@github_group.command("last-plan")
@repo_option
@click.option("--pr", "number", required=True, type=click.IntRange(min=1), help="Pull request number.")
@marker_option
@click.pass_obj
def last_plan_command(app: AppContext, repo: str, number: int, marker: str) -> None:
    """Print `run-id=N` and `digest=D`: the plan the sticky comment shows now (empty when none)."""
    github = open_github(os.environ, app)
    try:
        found = our_comment(github, repository(repo), number, marker=marker)
    finally:
        github.close()
    shown = shown_plan(str(found.get("body") or "")) if found is not None else None
    click.echo(f"run-id={shown.run_id if shown else ''}")
    click.echo(f"digest={shown.digest if shown else ''}")


@github_group.command("approval")
@repo_option
@click.option("--pr", "number", required=True, type=click.IntRange(min=1), help="Pull request number.")
@click.option("--plan", "plan_path", required=True, type=plan_file, help="The plan about to be applied.")
@click.pass_obj
def approval_command(app: AppContext, repo: str, number: int, plan_path: Path) -> None:
    """Print `approve=DIGEST` and `approved-by=LOGIN` when a maintainer approved exactly this plan in the
    pull request (a comment line `/enrollctl approve DIGEST`); both empty otherwise."""
    digest = approval_digest(load_plan(plan_path))
    github = open_github(os.environ, app)
    try:
        approval, ignored = find_approval(github, repository(repo), number, digest)
    finally:
        github.close()
    for request in ignored:
        where = request.url or request.login
        click.echo(f"not an approval of this plan: {where}: {request.reason}", err=True)
    if approval is not None:
        click.echo(f"plan {digest} approved by {approval.login}: {approval.url}", err=True)
    click.echo(f"approve={approval.digest if approval else ''}")
    click.echo(f"approved-by={approval.login if approval else ''}")


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
        written = drift_issue(
            github,
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

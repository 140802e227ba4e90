"""The engine's commands: `plan`, `apply` and `show`.

Thin, like every command: parse options, call `workspace` / `apply`, render, map to an exit code. The clock is
read here and only here (`now`) and passed into the core; `ENROLLCTL_NOW` pins it, for tests only.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.apply import run as apply
from reconciler.apply.basis import check_plan_target
from reconciler.apply.lock import repository_lock
from reconciler.apply.run import ApplyIncomplete, ApplyResult
from reconciler.core.collector import collector_paused
from reconciler.core.plan import OutcomeStatus, Plan, RunOptions
from reconciler.core.words import counted
from reconciler.engine.build import state_dir
from reconciler.engine.clock import NOW_VARIABLE, current_time
from reconciler.engine.workspace import Workspace, load_workspace, make_plan, refusal
from reconciler.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, GuardTripped, PlanError, UsageError
from reconciler.planfile.codec import APPROVAL_DIGITS, approval_digest
from reconciler.planfile.file import load_plan, save_plan
from reconciler.render.formats import FORMATS, render_plan
from reconciler.render.json import echo_json

if TYPE_CHECKING:
    from reconciler.cli.app import AppContext
    from reconciler.cli.output import Output


def stdout_is_terminal() -> bool:
    """True when standard output is a terminal (where colour helps)."""
    return sys.stdout.isatty()


def use_color(no_color: bool, app: AppContext | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set or a --no-color (global or own) is given."""
    if no_color or (app is not None and app.no_color) or "NO_COLOR" in os.environ:
        return False
    return stdout_is_terminal()


def _echo(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


def _options(
    policies: tuple[str, ...],
    allow_started: bool,
    allow_completed: bool,
    allow_unknown: bool,
    update_completed: bool = False,
) -> RunOptions:
    return RunOptions(
        allow_remove_started=allow_started,
        allow_remove_completed=allow_completed,
        allow_unknown=allow_unknown,
        policies=tuple(policies),
        update_completed=update_completed,
    )


format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
)
full_option = click.option("--full", is_flag=True, help="List every change, even in large plans.")
no_color_option = click.option("--no-color", is_flag=True, help="No colour, even on a terminal.")
policy_option = click.option(
    "--policy", "policies", multiple=True, metavar="NAME", help="Plan only these policies (repeatable)."
)
started_option = click.option(
    "--allow-remove-started", is_flag=True, help="Allow removing enrollments that have progress."
)
completed_option = click.option(
    "--allow-remove-completed", is_flag=True, help="Allow removing completed enrollments (implies started)."
)
update_completed_option = click.option(
    "--update-completed",
    is_flag=True,
    help="Change the terms (due, lock, access) of completed enrollments too; by default they are kept.",
)
unknown_option = click.option(
    "--allow-unknown",
    is_flag=True,
    help="Prune although some enrollments' state could not be read (those are still never removed).",
)


CLOCK_EPILOG = (
    f"For tests only: {NOW_VARIABLE}=<ISO date-time> pins the clock, "
    "so plans (and golden files) are reproducible."
)


@click.command("plan", epilog=CLOCK_EPILOG)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan (JSON) for `apply FILE`."
)
@format_option
@full_option
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes (0 when none).")
@policy_option
@started_option
@completed_option
@unknown_option
@update_completed_option
@no_color_option
@click.pass_obj
@collector_paused()  # the plan lives until the command ends: see core.collector
def plan_command(
    app: AppContext,
    out: Path | None,
    fmt: str,
    full: bool,
    detailed_exitcode: bool,
    policies: tuple[str, ...],
    allow_remove_started: bool,
    allow_remove_completed: bool,
    allow_unknown: bool,
    update_completed: bool,
    no_color: bool,
) -> int:
    """Show what would change in the LMS, and why; nothing is written."""
    if out is not None and not out.resolve().parent.is_dir():
        raise UsageError(f"--out {out}: the directory {out.parent} does not exist")
    options = _options(
        policies, allow_remove_started, allow_remove_completed, allow_unknown, update_completed
    )
    plan, workspace = make_plan(
        app.root, now=current_time(), options=options, env=os.environ, build=app.build
    )
    workspace.close()
    app.output.display.clear()
    if out is not None:
        save_plan(plan, out)
    if fmt == "json":  # in pieces: a large plan's text is 100s of MB
        echo_json(plan, lambda piece: click.echo(piece, nl=False), saved=out)
    else:
        _echo(
            render_plan(
                plan, fmt, color=use_color(no_color, app), full=full, verbose=app.verbose > 0, saved=out
            )
        )
    tripped = refusal(plan, workspace.config.settings)
    if tripped is not None:
        # the plan is shown (and saved) whole; only applying it needs an approval bound to it
        raise _needs_approval(tripped, plan, out)
    if out is not None:
        app.output.info(f"Saved the plan to {out}. Apply exactly this plan with: enrollctl apply {out}")
    return EXIT_CHANGES if detailed_exitcode and plan.has_changes else EXIT_OK


def _needs_approval(tripped: GuardTripped, plan: Plan, saved: Path | None) -> GuardTripped:
    """`tripped`, with the way through a review: the approval bound to exactly this plan."""
    digest = approval_digest(plan)
    if saved is not None:
        way = f"enrollctl apply {saved} --approve {digest}"
    else:
        way = f"enrollctl plan --out plan.json, then enrollctl apply plan.json --approve {digest}"
    return GuardTripped(
        tripped.message,
        hint=f"the full plan is shown above. If it is intended, apply exactly this plan after review: {way} "
        "(the approval matches no other plan); or change the settings the guard names",
    )


def _check_approval(approve: str | None, plan: Plan, workspace: Workspace) -> None:
    """Refuse an approval for another plan, and a refused plan without its approval."""
    digest = approval_digest(plan)
    if approve is not None and approve.lower() != digest:
        raise PlanError(
            f"--approve {approve} does not match this plan: the approval was given for another plan "
            "(its actions, or the LMS state they were computed from, differ); nothing was written",
            hint="run `enrollctl plan --out FILE` again and have the new plan reviewed",
        )
    tripped = refusal(plan, workspace.config.settings)
    if tripped is not None and approve is None:
        raise _needs_approval(tripped, plan, None)


def _approval(value: str | None) -> str | None:
    if value is not None and (
        len(value) != APPROVAL_DIGITS or any(c not in "0123456789abcdef" for c in value.lower())
    ):
        raise UsageError(
            f"--approve {value!r}: expected the {APPROVAL_DIGITS}-digit hex digest "
            "that `enrollctl plan` prints"
        )
    return value


@click.command("apply", epilog=CLOCK_EPILOG)
@click.argument("plan_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply a fresh plan without asking for `yes`.")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=0,
    metavar="SECONDS",
    help="Wait this long for another apply of this repository to finish (default: refuse at once).",
)
@click.option(
    "--approve",
    metavar="DIGEST",
    help="Apply a plan its guards refused: the digest `plan` printed for exactly that plan.",
)
@policy_option
@started_option
@completed_option
@unknown_option
@update_completed_option
@full_option
@no_color_option
@click.pass_obj
def apply_command(
    app: AppContext,
    plan_file: Path | None,
    auto_approve: bool,
    lock_timeout: float,
    approve: str | None,
    policies: tuple[str, ...],
    allow_remove_started: bool,
    allow_remove_completed: bool,
    allow_unknown: bool,
    update_completed: bool,
    full: bool,
    no_color: bool,
) -> int:
    """Make the LMS match the manifests: from a saved plan FILE, or from a fresh plan after confirmation."""
    shaping = [
        name
        for name, given in (
            ("--policy", bool(policies)),
            ("--allow-remove-started", allow_remove_started),
            ("--allow-remove-completed", allow_remove_completed),
            ("--allow-unknown", allow_unknown),
            ("--update-completed", update_completed),
        )
        if given
    ]
    if plan_file is not None and shaping:
        raise UsageError(
            f"{', '.join(shaping)} shape{'s' if len(shaping) == 1 else ''} a new plan; "
            "a saved plan already records its options"
        )
    approve = _approval(approve)
    now = current_time()
    with repository_lock(state_dir(app.root) / "apply.lock", timeout=lock_timeout):
        if plan_file is not None:
            plan = load_plan(plan_file)
            workspace = load_workspace(app.root, os.environ, build=app.build)
        else:
            options = _options(
                policies, allow_remove_started, allow_remove_completed, allow_unknown, update_completed
            )
            plan, workspace = make_plan(app.root, now=now, options=options, env=os.environ, build=app.build)
        app.output.display.clear()
        try:
            return _apply(
                plan,
                workspace,
                fresh=plan_file is None,
                auto_approve=auto_approve,
                approve=approve,
                now=now,
                full=full,
                color=use_color(no_color, app),
                output=app.output,
            )
        finally:
            workspace.close()


def _apply(
    plan: Plan,
    workspace: Workspace,
    *,
    fresh: bool,
    auto_approve: bool,
    approve: str | None,
    now: dt.datetime,
    full: bool,
    color: bool,
    output: Output,
) -> int:
    if not fresh:
        # the guards are checked again on the file itself, under today's settings: it may have been edited
        check_plan_target(plan, workspace.providers, workspace.digest)
        _check_approval(approve, plan, workspace)
    if fresh:
        _echo(render_plan(plan, "text", color=color, full=full))
        _check_approval(approve, plan, workspace)
        if not plan.has_changes:
            return EXIT_OK
        # a matching --approve is a reviewed, exact confirmation
        if not auto_approve and approve is None and not _confirmed():
            click.echo("Apply cancelled: nothing was written.", err=True)
            return EXIT_ERROR
    try:
        result = apply.run(
            plan,
            workspace.providers,
            workspace.state_dir / "journal",
            now=now,
            manifest_digest=workspace.digest,
            directories=workspace.directories if fresh else None,
            progress=output.info,
            advance=lambda done, total: output.progress("apply: enrollments written", done, total),
        )
    except ApplyIncomplete as failed:
        output.display.clear()
        _echo(result_summary(failed.result))
        raise
    output.display.clear()
    _echo(result_summary(result))
    return EXIT_OK


def stdin_is_terminal() -> bool:
    """True when a person can answer the confirmation prompt."""
    return sys.stdin.isatty()


def _confirmed() -> bool:
    if not stdin_is_terminal():
        raise UsageError(
            "refusing to apply a fresh plan without confirmation: standard input is not a terminal",
            hint="pass --auto-approve, or run `enrollctl plan --out FILE` and then `enrollctl apply FILE`",
        )
    answer = click.prompt(
        "Apply these changes? Only 'yes' is accepted", default="", show_default=False, err=True
    )
    return bool(answer.strip() == "yes")


def result_summary(result: ApplyResult) -> str:
    """What one apply did: counts, write calls, failures with reasons, the journal's path."""
    lines = [
        f"Apply finished: {result.done} done, {result.already} already so, {result.failed} failed "
        f"({counted(result.calls, 'write call')}).",
    ]
    for o in result.outcomes:
        if o.status in (OutcomeStatus.FAILED, OutcomeStatus.UNKNOWN):
            a = o.action
            lines.append(
                f"  failed: {o.provider}: {a.kind.value} {a.user_login} in {a.item_title!r}: {o.detail}"
            )
    if result.journal and result.outcomes:
        lines.append(f"Journal: {result.journal}")
    return "\n".join(lines) + "\n"


@click.command("show")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--compare",
    "older",
    metavar="OLD",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Show what changed since the saved plan OLD instead: actions added, dropped or changed, "
    "and changes to the manifests, options, guards and verdict.",
)
@format_option
@full_option
@no_color_option
@click.pass_obj
def show_command(
    app: AppContext, plan_file: Path, older: Path | None, fmt: str, full: bool, no_color: bool
) -> None:
    """Render a saved plan FILE, or with --compare OLD what changed since OLD."""
    plan = load_plan(plan_file)
    if older is not None:
        from reconciler.cli.compare import render_comparison

        _echo(render_comparison(load_plan(older), plan, fmt, full=full))
        return
    color = use_color(no_color, app)
    _echo(render_plan(plan, fmt, color=color, full=full, verbose=app.verbose > 0, saved=plan_file))


def register(main: click.Group) -> None:
    """Add the engine's commands to the `enrollctl` group."""
    for command in (plan_command, apply_command, show_command):
        main.add_command(command)

"""`enrollctl status`: compliance as the LMS sees it, for what the manifests manage.

Thin like every command: options → `engine.status.make_status` → a renderer → stdout or `--out`.
Nothing is written to the LMS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.plan import CLOCK_EPILOG
from reconciler.core.status import DEFAULT_EXPIRING_DAYS, StatusReport
from reconciler.engine.clock import current_time
from reconciler.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from reconciler.cli.app import AppContext

STATUS_FORMATS = ("text", "markdown", "json", "html")


def render_status(report: StatusReport, fmt: str, *, people: bool) -> str:
    """The report in one of STATUS_FORMATS."""
    if fmt == "html":
        from reconciler.render.report import render_status_html

        return render_status_html(report, people=people)
    from reconciler.render import status

    if fmt == "json":
        return status.render_status_json(report, people=people)
    if fmt == "markdown":
        return status.render_status_markdown(report, people=people)
    return status.render_status_text(report, people=people)


@click.command("status", epilog=CLOCK_EPILOG)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(STATUS_FORMATS),
    default="text",
    show_default=True,
    help="Output format; html is one self-contained page with charts (no scripts, no network), for --out.",
)
@click.option(
    "--people", is_flag=True, help="List the people: who needs attention (text, Markdown), everyone (JSON)."
)
@click.option(
    "--expiring-within",
    "expiring_days",
    type=click.IntRange(min=0),
    default=DEFAULT_EXPIRING_DAYS,
    show_default=True,
    metavar="DAYS",
    help="Count completions whose validity ends within DAYS as expiring.",
)
@click.option("--policy", "policies", multiple=True, metavar="NAME", help="Only these policies (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option(
    "--html-out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the HTML report, with the people, to FILE from the same read (e.g. Markdown for an "
    "issue on stdout and the page for an auditor).",
)
@click.pass_obj
def status_command(
    app: AppContext,
    fmt: str,
    people: bool,
    expiring_days: int,
    policies: tuple[str, ...],
    out: Path | None,
    html_out: Path | None,
) -> int:
    """Show compliance per policy and item: assigned, started, completed, overdue, expiring."""
    for option, path in (("--out", out), ("--html-out", html_out)):
        if path is not None and not path.resolve().parent.is_dir():
            raise UsageError(f"{option} {path}: the directory {path.parent} does not exist")
    from reconciler.engine.status import make_status

    report = make_status(
        app.root,
        now=current_time(),
        env=os.environ,
        expiring_days=expiring_days,
        policies=policies,
        build=app.build,
    )
    app.output.display.clear()
    text = render_status(report, fmt, people=people)
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        out.write_text(text, encoding="utf-8")
        app.output.info(f"Wrote the {fmt} status report to {out}.")
    if html_out is not None:
        html_out.write_text(render_status(report, "html", people=True), encoding="utf-8")
        app.output.info(f"Wrote the html status report to {html_out}.")
    return EXIT_OK


def register(main: click.Group) -> None:
    """Add `status` to the `enrollctl` group."""
    main.add_command(status_command)

"""`enrollctl doctor`: the first command to run against a real account. Read-only.

Thin like every command: options → `engine.doctor.run_doctor` → `render.doctor` → stdout; exit 0 only when
every call plan and apply need works, 1 otherwise (config errors exit as everywhere else).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.errors import EXIT_ERROR, EXIT_OK
from reconciler.transport.terminal import safe_lines

if TYPE_CHECKING:
    from reconciler.cli.app import AppContext

DOCTOR_FORMATS = ("text", "json")


@click.command("doctor")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DOCTOR_FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--record",
    "record_to",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Save every exchange (request, status, headers, body) under DIR, secrets masked and logins, "
    "e-mails, names and phone numbers replaced by placeholders, to attach to a bug report.",
)
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="NAME",
    help="Only this provider of enrollctl.yaml (repeatable; default: every one).",
)
@click.pass_obj
def doctor_command(app: AppContext, fmt: str, record_to: Path | None, providers: tuple[str, ...]) -> int:
    """Check credentials, permissions and every vendor call plan and apply read; never writes.

    One line per call: ok, refused (with the vendor's message and what it usually means), unexpected shape
    (what was expected, what came), unreachable, or not probed (writes). Exits 0 only when everything
    plan and apply need works; a failed read that only `where:`/`joined_within:` targets need (Litmos
    profiles) is a caveat in the verdict.
    """
    from reconciler.engine.doctor import run_doctor
    from reconciler.render.doctor import render_doctor_json, render_doctor_text

    report = run_doctor(app.root, os.environ, providers=providers, record_to=record_to)
    app.output.display.clear()
    text = render_doctor_json(report) if fmt == "json" else render_doctor_text(report)
    click.echo(safe_lines(text), nl=False)
    return EXIT_OK if report.ready else EXIT_ERROR


def register(main: click.Group) -> None:
    """Add `doctor` to the `enrollctl` group."""
    main.add_command(doctor_command)

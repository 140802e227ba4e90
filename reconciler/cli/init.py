"""`enrollctl init [DIR]`: scaffold a manifest repository that plans and applies against its own sandbox."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.app import AppContext

NEXT_STEPS = """\
Next:
  enrollctl -C {dir} plan                     # what the example policy would change in the sandbox
  enrollctl -C {dir} apply --auto-approve     # ... and do it; plan again shows no changes
Before pushing, point enrollctl.yaml at your account."""
PLACEHOLDER_NOTE = """\
The workflows and the pre-commit hook name the placeholder `{placeholder}`: run init again with
--action OWNER/NAME@REF (the enrollctl repository you use) and --force, or replace it by hand."""


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--action",
    metavar="OWNER/NAME@REF",
    help="The enrollctl repository (or fork) and ref the workflows and the pre-commit hook use, e.g. "
    "acme/enrollctl@main (a commit SHA as REF is reproducible). Default: the placeholder "
    "your-org/enrollctl@main, to replace before pushing.",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist already.")
@click.pass_obj
def init_command(app: AppContext, directory: Path | None, action: str | None, force: bool) -> None:
    """Create a manifest repository in DIRECTORY (default: -C or the current directory).

    It holds enrollctl.yaml on the built-in sandbox (with the lines for a real account commented), one
    policy, the sandbox organisation, the JSON Schemas its files point editors at, three GitHub workflows,
    a pre-commit config and a .gitignore for .enrollctl/. Existing files are never overwritten without
    --force: the command names them and writes nothing.
    """
    from reconciler.scaffold import PLACEHOLDER_ACTION, repository_files, write_files

    target = app.root if directory is None else directory if directory.is_absolute() else app.root / directory
    written = write_files(target, repository_files(action), force=force)
    click.echo(f"Created {len(written)} files in {target.resolve()}")  # `.` would read "in .."
    app.output.info(NEXT_STEPS.format(dir=_shell_word(target)))
    if action is None:
        app.output.info(PLACEHOLDER_NOTE.format(placeholder=PLACEHOLDER_ACTION))


def _shell_word(path: Path) -> str:
    text = path.as_posix()
    return text if text and all(c.isalnum() or c in "/._-" for c in text) else repr(text)


def register(main: click.Group) -> None:
    """Add `init` to the command group."""
    main.add_command(init_command)

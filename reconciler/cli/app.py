"""The enrollctl command line: options → core calls → output → exit code.

Commands stay thin. Error handling lives in one place, `EnrollctlGroup`: expected errors print as
`Error: ...` and exit with their own code; anything else is an internal error whose traceback only
`--debug` shows. Commands get the repository root from `AppContext` (`-C DIR`), never from `os.chdir`.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from reconciler import version
from reconciler.cli.console import make_streams_safe
from reconciler.cli.output import Output, configure, silent
from reconciler.core.words import counted
from reconciler.errors import EXIT_ERROR, EnrollctlError, ManifestError
from reconciler.transport.bounds import parse_duration, set_run_timeout
from reconciler.transport.pacing import Sleep
from reconciler.transport.redact import redact_known
from reconciler.transport.terminal import safe_lines

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reconciler.core.model import ProviderConfig
    from reconciler.engine.build import Closer
    from reconciler.manifest.load import ManifestRepository
    from reconciler.providers.base import Provider


@dataclass(frozen=True)
class AppContext:
    """What every command may need: the repository root, tracebacks, and the global output options."""

    root: Path
    debug: bool = False
    no_color: bool = False
    output: Output = field(default_factory=silent)
    verbose: int = 0
    sleep: Sleep = time.sleep  # waits out retry back-offs and rate limits (Runtime)

    def build(self, config: ProviderConfig, root: Path, env: Mapping[str, str]) -> tuple[Provider, Closer]:
        """The engine's provider builder, waiting with this run's `sleep`."""
        from reconciler.engine.build import build_provider

        return build_provider(config, root, env, sleep=self.sleep)


@dataclass(frozen=True)
class Runtime:
    """How a run waits: real time, unless a caller (a test) invokes `main` with another as click's `obj`."""

    sleep: Sleep = time.sleep


pass_app = click.make_pass_decorator(AppContext)


def _print_error(error: EnrollctlError) -> None:
    """Print an expected error: diagnostics one per line, then one `Error:` line."""
    # messages quote servers (fault strings, course titles in hints): no escape sequence reaches the terminal
    if isinstance(error, ManifestError):
        for diagnostic in error.diagnostics:
            click.echo(safe_lines(str(diagnostic)), err=True)
        click.echo(f"Error: {safe_lines(error.message)}", err=True)
    else:
        click.echo(f"Error: {safe_lines(str(error))}", err=True)


def _fail(error: BaseException, *, debug: bool) -> NoReturn:
    """Report an error raised by a command and exit with the code it deserves."""
    if debug:
        trace = redact_known("".join(traceback.format_exception(error)))
        click.echo(safe_lines(trace).rstrip("\n"), err=True)
    if isinstance(error, EnrollctlError):
        _print_error(error)
        sys.exit(error.exit_code)
    # Only the exception type: an unexpected message might carry a URL or payload with a secret in it.
    click.echo(
        f"Error: internal error ({type(error).__name__}); rerun with --debug to see the traceback",
        err=True,
    )
    sys.exit(EXIT_ERROR)


class EnrollctlGroup(click.Group):
    """A click group that maps every error to one message and an exit code (never 2, see DESIGN §5)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # the one place that turns any failure into an exit code
            if isinstance(ctx.obj, AppContext):
                ctx.obj.output.display.clear()  # an error message never continues a progress line
            _fail(error, debug=bool(ctx.params.get("debug")))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        make_streams_safe()
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            # click exits 2 on usage errors; enrollctl reserves 2 for "plan has changes".
            error.show()
            sys.exit(EXIT_ERROR)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(result if isinstance(result, int) else 0)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _version(ctx: click.Context) -> None:
    click.echo(f"enrollctl, version {version()}")  # looked up only when asked (see `reconciler.version`)
    ctx.exit()


@click.group(cls=EnrollctlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--chdir",
    "root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Run as if started in DIR (like git -C): the repository holding enrollctl.yaml, and the base of "
    "relative paths in options such as --out.",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More detail on stderr: -v what enrollctl is doing (e.g. how Litmos enrollments are read), "
    "-vv debug logs of every vendor call (secrets masked).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Only errors and the result (the plan, apply's summary): no progress, no informational lines.",
)
@click.option("--no-color", is_flag=True, help="No colour in any output (as does the NO_COLOR variable).")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.option(
    "--timeout",
    metavar="DURATION",
    callback=_duration,
    help="Give up on vendor calls once this much wall-clock time has passed since the start, e.g. 90s, 30m, "
    "2h (default: no run limit; each request still has its own 120 s deadline).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _version(ctx) if value else None,
    help="Show the version and exit.",
)
@click.pass_context
def main(
    ctx: click.Context,
    root: Path,
    verbose: int,
    quiet: bool,
    no_color: bool,
    debug: bool,
    timeout: float | None,
) -> None:
    """enrollctl: enrollments as code for iSpring Learn and Litmos.

    Progress of long reads and applies shows on stderr: one updating line on a terminal, a plain line
    every few seconds elsewhere (CI), nothing with --quiet.
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other; give one")
    output, restore = configure(verbose, quiet)
    ctx.call_on_close(restore)
    ctx.call_on_close(set_run_timeout(timeout))
    if root != Path("."):
        # like `git -C`: the subcommand's own paths (parsed after this) are taken from DIR too
        previous = os.getcwd()
        os.chdir(root)
        ctx.call_on_close(lambda: os.chdir(previous))
        root = Path(".")
    runtime = ctx.obj if isinstance(ctx.obj, Runtime) else Runtime()
    ctx.obj = AppContext(
        root=root, debug=debug, no_color=no_color, output=output, verbose=verbose, sleep=runtime.sleep
    )


def validate_offline(root: Path) -> ManifestRepository:
    """Load and check every manifest under `root` without contacting any LMS."""
    from reconciler.manifest.load import load_manifest_repository

    return load_manifest_repository(str(root))


def summary_line(repository: ManifestRepository) -> str:
    """`OK: 4 policies in 3 files, 1 provider`; the files are every Policy file read."""
    policies = len(repository.policies)
    providers = len(repository.config.providers)
    return (
        f"OK: {counted(policies, 'policy', 'policies')} in {counted(len(repository.policy_files), 'file')}, "
        f"{counted(providers, 'provider')}"
    )


@main.command()
@click.option("--offline", is_flag=True, help="Check manifests only; do not contact any LMS.")
@click.option("--strict", is_flag=True, help="Unknown or non-enrollable users are errors too.")
@pass_app
def validate(app: AppContext, offline: bool, strict: bool) -> None:
    """Check that manifests parse and match the schema; report every problem."""
    repository = validate_offline(app.root)
    from reconciler.engine.workspace import check_vendor_limits_offline

    # vendor limits need no network, so pre-commit hooks (offline) catch e.g. `due` on Litmos too
    check_vendor_limits_offline(repository.config, repository.policies)
    if not offline:
        import os

        from reconciler.engine.workspace import validate_online

        validate_online(app.root, os.environ, strict=strict, build=app.build)
    click.echo(summary_line(repository))


SCHEMA_NAMES = ("enrollctl", "policy", "plan", "status")


@main.command()
@click.argument("name", type=click.Choice(SCHEMA_NAMES), required=False)
@click.option(
    "--write",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the schema (without NAME: every schema) into this directory, replacing older copies, "
    "for editors; manifests point at it with `# yaml-language-server: $schema=<relative path>`.",
)
def schema(name: str | None, directory: Path | None) -> None:
    """Print a JSON Schema (enrollctl, policy, plan or status), or write them into a directory (--write)."""
    from reconciler.manifest.schema import schema_text

    if directory is not None:
        from reconciler.scaffold import write_schemas

        for path in write_schemas(directory, (name,) if name else SCHEMA_NAMES):
            click.echo(f"Wrote {path}")
        return
    if name is None:
        raise click.UsageError("name a schema (enrollctl, policy or plan), or give --write DIR")
    click.echo(schema_text(name), nl=False)


from reconciler.cli.sandbox import sandbox  # noqa: E402  (the `sandbox` group; the engine adds `reset`)

main.add_command(sandbox)

from reconciler.cli.plan import register  # noqa: E402  (after `main` exists: the engine adds its commands)

register(main)

from reconciler.cli.github import register as register_github  # noqa: E402

register_github(main)

from reconciler.cli.export import register as register_export  # noqa: E402

register_export(main)

from reconciler.cli.init import register as register_init  # noqa: E402

register_init(main)

from reconciler.cli.status import register as register_status  # noqa: E402

register_status(main)

from reconciler.cli.doctor import register as register_doctor  # noqa: E402

register_doctor(main)

"""`enrollctl sandbox serve | generate | log`: run the emulators over HTTP, make org files, read the log."""

from __future__ import annotations

import signal
import threading
from collections import defaultdict
from typing import TYPE_CHECKING

import click

from reconciler.apply.lock import repository_lock
from reconciler.core.model import ProviderKind
from reconciler.engine.build import sandbox_db_path, state_dir
from reconciler.errors import ConfigError, UsageError

# The emulators are imported by the commands that run them, not when the CLI starts: every other command
# would pay ~40 ms (SQLite store, WSGI apps, org generator) for nothing.
if TYPE_CHECKING:
    from reconciler.cli.app import AppContext
    from reconciler.sandbox.faults import Faults

VENDORS = tuple(kind.value for kind in ProviderKind)  # the vendors the sandbox emulates: every provider kind


@click.group("sandbox")
def sandbox() -> None:
    """Run and manage the built-in iSpring / Litmos emulators."""


def wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM (tests replace this)."""
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    # Explicit handlers: a shell starts background jobs with SIGINT ignored, and CI stops with SIGTERM.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def credential_lines(vendor: str) -> list[str]:
    """The sandbox-only test credentials of `vendor`, one `name: value` per line."""
    from reconciler.sandbox.serve import SANDBOX_CREDENTIALS

    return [f"  {name}: {value}" for name, value in SANDBOX_CREDENTIALS[vendor].items()]


@sandbox.command("serve")
@click.option("--vendor", type=click.Choice(VENDORS), required=True, help="Which vendor API to emulate.")
@click.option(
    "--org", "org_file", type=click.Path(exists=True, dir_okay=False), required=True, help="Org file."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=0, show_default=True, help="Port (0: any free port).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="SQLite file; kept between runs.")
@click.option("--faults", "faults_file", type=click.Path(exists=True, dir_okay=False), help="Fault switches.")
def serve_command(
    vendor: str, org_file: str, host: str, port: int, db_path: str | None, faults_file: str | None
) -> None:
    """Serve an emulator over HTTP until Ctrl-C; prints its URL and the sandbox's test credentials."""
    from reconciler.sandbox.faults import load_faults
    from reconciler.sandbox.serve import build_app, open_sandbox, serve

    faults: Faults | None = load_faults(faults_file) if faults_file else None
    store = open_sandbox(org_file, db_path)
    try:
        server, url = serve(build_app(vendor, store, faults), host, port)
    except OSError as error:
        store.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    base = f"{url}/v1.svc" if vendor == "litmos" else url
    click.echo(f"{vendor} sandbox serving {org_file} at {base}")
    click.echo("Test credentials (sandbox only):")
    for line in credential_lines(vendor):
        click.echo(line)
    click.echo("Press Ctrl-C to stop.")
    try:
        wait_for_interrupt()
    finally:
        server.close()
        store.close()
        click.echo("stopped")


@sandbox.command("generate")
@click.option("--users", type=click.IntRange(min=0), required=True, help="How many users.")
@click.option("--departments", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--groups", type=click.IntRange(min=0), default=5, show_default=True)
@click.option("--courses", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--learning-paths", type=click.IntRange(min=0), default=3, show_default=True)
@click.option("--enrollments-per-user", type=click.IntRange(min=0), default=4, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same organisation.")
@click.option(
    "--block", is_flag=True, help="Print only a `generate:` block (tiny; expanded when the sandbox loads it)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (valid YAML; loads ~100x faster when big).")
def generate_command(
    users: int,
    departments: int,
    groups: int,
    courses: int,
    learning_paths: int,
    enrollments_per_user: int,
    seed: int,
    block: bool,
    as_json: bool,
) -> None:
    """Print a synthetic organisation file (deterministic for a seed): `... > org.yaml`."""
    from reconciler.sandbox.org.load import GenerateSpec, OrgSpec, dump_org_json, dump_org_yaml, generate_org

    numbers = (users, departments, groups, courses, learning_paths, enrollments_per_user, seed)
    org = OrgSpec(generate=GenerateSpec(*numbers)) if block else generate_org(*numbers)
    click.echo(dump_org_json(org) if as_json else dump_org_yaml(org), nl=False)


@sandbox.command("log")
@click.option(
    "--db", "db_path", type=click.Path(exists=True, dir_okay=False), required=True, help="SQLite file."
)
@click.option("--vendor", type=click.Choice(VENDORS), help="Only this vendor's calls.")
def log_command(db_path: str, vendor: str | None) -> None:
    """Summarise a sandbox's request log: calls per method and their status codes."""
    from reconciler.sandbox.store.database import Store

    store = Store.open(db_path)
    try:
        rows = [r for r in store.request_summary() if vendor is None or r[0] == vendor]
    finally:
        store.close()
    for line in summary_lines(rows):
        click.echo(line)


def summary_lines(rows: list[tuple[str, str, int, int]]) -> list[str]:
    """`vendor  method  calls  200×n 500×m` lines, then a total."""
    per_method: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for vendor, action, status, calls in rows:
        per_method[(vendor, action)][status] = calls
    if not per_method:
        return ["no calls recorded"]
    width = max(len(action) for _, action in per_method)
    lines = []
    for (vendor, action), statuses in sorted(per_method.items()):
        counts = " ".join(f"{status}×{n}" for status, n in sorted(statuses.items()))
        lines.append(f"{vendor:<8} {action:<{width}} {sum(statuses.values()):>7}  {counts}")
    total = sum(calls for *_, calls in rows)
    lines.append(f"{'total':<8} {'':<{width}} {total:>7}")
    return lines


@sandbox.command("reset")
@click.pass_obj
def sandbox_reset_command(app: AppContext) -> None:
    """Start the built-in sandboxes over from their organisation files (deletes their state)."""
    from reconciler.manifest.load import load_repository

    config, _ = load_repository(str(app.root))
    sandboxes = [p for p in config.providers.values() if p.sandbox]
    if not sandboxes:
        raise UsageError("no provider in enrollctl.yaml uses `sandbox:`; there is nothing to reset")
    with repository_lock(state_dir(app.root) / "apply.lock"):
        for provider in sandboxes:
            db = sandbox_db_path(app.root, provider.name)
            for path in (db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))):
                path.unlink(missing_ok=True)
            click.echo(
                f"Reset the sandbox of provider {provider.name!r}: it reseeds from {provider.sandbox}."
            )
        if len(sandboxes) == len(config.providers):
            # journals describe writes to the state just thrown away; keeping them would make re-applies lie
            for journal in (state_dir(app.root) / "journal").glob("*.jsonl"):
                journal.unlink()

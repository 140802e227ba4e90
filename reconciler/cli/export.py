"""Adoption commands: `export` (manifests from what the LMS holds) and `explain` (why a learner has what).

Thin: read the LMS, call the pure core (`reconciler.core.export`, `reconciler.core.explain`), write or print.
`export` writes only inside `--out`, never over an existing file without `--force`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from reconciler.cli.plan import CLOCK_EPILOG
from reconciler.core.directory import DirectoryIndex
from reconciler.core.explain import Explanation, explain_user, find_item, find_user, user_candidates
from reconciler.core.export import ExportResult, export_policies, slug, summary_counts
from reconciler.core.model import Config, Policy, Snapshot
from reconciler.core.words import number, plural
from reconciler.engine.clock import current_time
from reconciler.engine.directory import read_directory
from reconciler.engine.workspace import Workspace, connected, load_workspace, read_snapshot
from reconciler.errors import ManifestError, UsageError
from reconciler.manifest.dump import dump_policy
from reconciler.manifest.load import load_config, load_repository
from reconciler.render.explain import render_explain_json, render_explain_text
from reconciler.scaffold import SCHEMA_DIR, write_schemas

if TYPE_CHECKING:
    from reconciler.cli.app import AppContext

DEFAULT_OUT = Path("policies") / "exported"


# --- reading the LMS ---------------------------------------------------------------------------------


def chosen_providers(config: Config, name: str | None) -> list[str]:
    """`--provider NAME`, or every provider of enrollctl.yaml."""
    if name is None:
        return list(config.providers)
    if name not in config.providers:
        known = ", ".join(config.providers) or "none"
        raise UsageError(f"--provider {name}: no such provider", hint=f"enrollctl.yaml declares: {known}")
    return [name]


# --- export ------------------------------------------------------------------------------------------


def _existing_policies(root: Path) -> tuple[Config, tuple[Policy, ...]]:
    """The repository's config and policies; a repository without (valid) policies yet exports too."""
    try:
        return load_repository(str(root))
    except ManifestError as error:
        config = load_config(str(root))  # a broken enrollctl.yaml still stops the export
        if all(d.key_path == "policies" for d in error.diagnostics):
            return config, ()  # no policy files yet: the usual start of an adoption
        click.echo(
            f"Note: the repository's policies do not load ({error.message}); exported policy names are "
            "not checked against them.",
            err=True,
        )
        return config, ()


def _out_dir(root: Path, out: Path | None) -> Path:
    target = out if out is not None else DEFAULT_OUT
    return target if target.is_absolute() else root / target


def _schema_line(root: Path, folder: Path) -> str:
    schema = root / SCHEMA_DIR / "policy.schema.json"
    return f"# yaml-language-server: $schema={os.path.relpath(schema, folder).replace(os.sep, '/')}"


def _schemas_beside(root: Path) -> None:
    """Write the manifest schemas into `<root>/schemas/` when missing: exported schema lines point there."""
    if not (root / SCHEMA_DIR / "policy.schema.json").is_file():
        for path in write_schemas(root / SCHEMA_DIR, ("enrollctl", "policy")):
            click.echo(f"Wrote {path} (the schema lines of the exported files point at it)", err=True)


def render_policy_file(policies: tuple[Policy, ...], header: str) -> str:
    """The YAML text of one exported file: header comments, then one document per policy."""
    body = yaml.safe_dump_all(
        [_plain_dates(dump_policy(p)) for p in policies],
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=110,
        explicit_start=False,
    )
    return f"{header}\n{body}"


def _plain_dates(document: dict[str, Any]) -> dict[str, Any]:
    """Dates as YAML dates (`due: 2026-12-31`, as people write them) instead of quoted text."""
    for entry in document["spec"]["assign"]:
        for key in ("due", "access"):
            if isinstance(entry.get(key), str) and key in entry:
                with contextlib.suppress(ValueError):  # `default`, `unlimited`: words, not dates
                    entry[key] = dt.date.fromisoformat(entry[key])
    return document


def _header(root: Path, folder: Path, snapshot: Snapshot, title: str, now: dt.datetime) -> str:
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "\n".join(
        [
            _schema_line(root, folder),
            f"# Exported by `enrollctl export` at {stamp} from provider {snapshot.provider} "
            f"({snapshot.kind.value}, {snapshot.account}).",
            f"# It reproduces the administrator assignments of {title!r} as they were then, so",
            "# `enrollctl plan` shows no changes. prune stays off: review, rename and tidy before you let",
            "# enrollctl remove anything.",
        ]
    )


def planned_files(
    root: Path, out_dir: Path, result: ExportResult, snapshot: Snapshot, now: dt.datetime
) -> dict[Path, str]:
    """File path → text for every exported item; paths are always inside `out_dir`."""
    files: dict[Path, str] = {}
    for exported in result.items:
        name = slug(exported.item.title)
        if exported.item.kind.value != "course":
            name = f"{name}-{exported.item.kind.value.replace('_', '-')}"
        path = out_dir / f"{name}.yaml"
        n = 1
        while path in files:
            n += 1
            path = out_dir / f"{name}-{n}.yaml"
        header = _header(root, out_dir, snapshot, exported.item.title, now)
        files[path] = render_policy_file(exported.policies, header)
    return files


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def write_files(files: Mapping[Path, str], out_dir: Path, *, force: bool) -> None:
    """Write every file, refusing all of them when one exists (without --force) or lies outside out_dir."""
    outside = [p for p in files if not _inside(p, out_dir)]
    if outside:
        raise UsageError(f"refusing to write outside {out_dir}: {', '.join(map(str, outside))}")
    existing = sorted(p for p in files if p.exists())
    if existing and not force:
        listed = ", ".join(str(p) for p in existing[:5]) + (" ..." if len(existing) > 5 else "")
        raise UsageError(
            f"{number(len(existing), 'file')} {plural(len(existing), 'exists', 'exist')} already: {listed}",
            hint="pass --force to overwrite them",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")


def _summary(provider: str, result: ExportResult, files: int, calls: int | None, out: Path) -> str:
    counts = summary_counts(result)
    lines = [
        f"Provider {provider}: {counts['policies']} policies for {counts['items']} items in {files} files "
        f"under {out}",
        f"  {counts['enrollments']} administrator-assigned enrollments reproduced "
        f"({counts['listed_users']} users listed by login)",
    ]
    if counts["catalog_skipped"]:
        lines.append(
            f"  {counts['catalog_skipped']} catalog self-enrollments left out (the learners chose them)"
        )
    if counts["unknown_users_skipped"]:
        lines.append(
            f"  {counts['unknown_users_skipped']} enrollments of users the directory does not list skipped"
        )
    if counts["not_enrollable"]:
        lines.append(
            f"  {counts['not_enrollable']} enrollments belong to users outside settings.user_statuses: "
            "exported, and shown as not enrollable by plan"
        )
    lines.append(f"  {calls if calls is not None else 'unknown number of'} API calls made")
    return "\n".join(lines)


@click.command("export", epilog=CLOCK_EPILOG)
@click.option("--provider", "provider_name", metavar="NAME", help="Export this provider only (default: all).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory for the policy files, relative to the repository (default: {DEFAULT_OUT.as_posix()}).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist already.")
@click.pass_obj
def export_command(app: AppContext, provider_name: str | None, out: Path | None, force: bool) -> None:
    """Write policies reproducing today's administrator-assigned enrollments: plan then shows no changes."""
    config, existing = _existing_policies(app.root)
    names = chosen_providers(config, provider_name)
    base = _out_dir(app.root, out)
    now = current_time()
    taken = {p.name for p in existing}
    _schemas_beside(app.root)
    for name in names:
        folder = base / name if len(config.providers) > 1 else base
        with connected(config, name, app.root, os.environ, build=app.build) as provider:
            read = read_snapshot(provider, now=now)
            result = export_policies(
                read.snapshot,
                config.settings,
                now=now,
                capabilities=provider.capabilities,
                provider=name if len(config.providers) > 1 else None,
                taken_names=taken,
                name_prefix=f"{name}-" if len(config.providers) > 1 else "",
            )
        taken |= {p.name for p in result.policies}
        files = planned_files(app.root, folder, result, read.snapshot, now)
        write_files(files, folder, force=force)
        click.echo(_summary(name, result, len(files), read.calls, folder))
    if not _covered_by_config(app.root, config, base):
        click.echo(
            f"Note: enrollctl.yaml `policies:` does not include {base}; add it so plan reads the export.",
            err=True,
        )


def _covered_by_config(root: Path, config: Config, folder: Path) -> bool:
    for entry in config.policies:
        if any(c in entry for c in "*?["):
            return True  # a glob may well match; do not second-guess it
        if _inside(folder, root / entry):
            return True
    return False


# --- explain -----------------------------------------------------------------------------------------


def explain_at(
    workspace: Workspace, name: str, reference: str, item: str | None, now: dt.datetime
) -> Explanation | list[str]:
    """The explanation of one provider, or (user unknown there) the closest logins and emails."""
    provider = workspace.providers[name]
    directory = read_directory(provider, workspace.policies)
    index = DirectoryIndex.build(directory)
    user = find_user(index, reference)
    if user is None:
        return user_candidates(index, reference)
    try:
        item_id = find_item(index, item).id if item is not None else None
    except UsageError:
        if len(workspace.providers) == 1:
            raise
        return []  # the item is another provider's
    snapshot = read_snapshot(provider, now=now, directory=directory, user_ids=frozenset({user.id})).snapshot
    return explain_user(
        workspace.policies,
        snapshot,
        workspace.config.settings,
        user,
        now=now,
        capabilities=provider.capabilities,
        index=index,
        item_id=item_id,
        dues=provider.due_information(),  # completions and expiries, for re-enrollments (as plan reads them)
    )


@click.command("explain", epilog=CLOCK_EPILOG)
@click.argument("user")
@click.option("--item", metavar="ITEM", help="Only this course or learning path (exact title or id).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_obj
def explain_command(app: AppContext, user: str, item: str | None, fmt: str) -> None:
    """Why USER (login, email or id) has, or will get, each enrollment, and what plan would do about it."""
    now = current_time()
    workspace = load_workspace(app.root, os.environ, build=app.build)
    try:
        results = {name: explain_at(workspace, name, user, item, now) for name in workspace.providers}
    finally:
        workspace.close()
    found = [r for r in results.values() if isinstance(r, Explanation)]
    if not found:
        candidates = sorted({c for r in results.values() if isinstance(r, list) for c in r})
        hint = f"did you mean: {', '.join(candidates[:5])}?" if candidates else "nobody with a similar login"
        where = ", ".join(results) or "no provider"
        raise UsageError(f"no user {user!r} (by login, email or id) in {where}", hint=hint)
    if fmt == "json":
        click.echo(render_explain_json(found), nl=False)
    else:
        click.echo(render_explain_text(found), nl=False)


def register(main: click.Group) -> None:
    """Add `export` and `explain` to the `enrollctl` group."""
    main.add_command(export_command)
    main.add_command(explain_command)

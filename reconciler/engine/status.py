"""`enrollctl status`: read what the manifests manage, as `plan` does, and report compliance.

Per provider: the directory, the policies expanded against it, then the enrollments of the managed items
only, through the engine's one snapshot read (`read_snapshot`), batched exactly like `plan`'s read. Nothing
is written; no guard or diff runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from reconciler.core.desired import expand
from reconciler.core.directory import DirectoryIndex
from reconciler.core.status import DEFAULT_EXPIRING_DAYS, PolicyStatus, StatusReport, provider_status
from reconciler.engine.build import ProviderBuilder
from reconciler.engine.directory import read_directory
from reconciler.engine.workspace import Workspace, load_workspace, read_snapshot
from reconciler.errors import UsageError
from reconciler.providers.base import Provider


def make_status(
    root: Path,
    *,
    now: dt.datetime,
    env: Mapping[str, str],
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
    policies: tuple[str, ...] = (),
    build: ProviderBuilder | None = None,
) -> StatusReport:
    """The compliance status of every policy (or only `policies`) of the repository at `root`."""
    workspace = load_workspace(root, env, build=build)
    try:
        known = {p.name for p in workspace.policies}
        unknown = [name for name in policies if name not in known]
        if unknown:
            raise UsageError(
                f"--policy {', '.join(unknown)}: no such policy",
                hint=f"policies in this repository: {', '.join(sorted(known)) or 'none'}",
            )
        parts: list[PolicyStatus] = []
        for name, provider in workspace.providers.items():
            parts.extend(_provider_status(workspace, name, provider, now, expiring_days, policies))
        return StatusReport(
            created_at=now,
            expiring_days=expiring_days,
            policies=tuple(sorted(parts, key=lambda p: (p.name, p.provider))),
            accounts={name: p.account for name, p in workspace.providers.items()},
        )
    finally:
        workspace.close()


def _provider_status(
    workspace: Workspace,
    name: str,
    provider: Provider,
    now: dt.datetime,
    expiring_days: int,
    policies: tuple[str, ...],
) -> tuple[PolicyStatus, ...]:
    directory = read_directory(provider, workspace.policies)
    expanded = expand(
        workspace.policies, DirectoryIndex.build(directory), workspace.config.settings, provider=name, now=now
    )
    expanded.raise_for_diagnostics()
    snapshot = read_snapshot(
        provider, now=now, directory=directory, item_ids=expanded.desired.managed_item_ids
    ).snapshot
    return provider_status(
        expanded.desired,
        snapshot,
        now=now,
        expiring_days=expiring_days,
        dues=provider.due_information(),
        policies=policies,
    )

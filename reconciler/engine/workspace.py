"""The orchestration the CLI calls: load the repository, connect providers, read, expand, diff, guard.

`make_plan` is the whole of `enrollctl plan` minus the output: for each provider the policies use, read the
directory, expand the policies against it, read the enrollments of the managed items only, diff, estimate
the write calls, and run the removal guards. It returns the `Plan` and the open `Workspace` (providers,
directories, manifest digest), which `apply` reuses so a fresh plan is applied without reading twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconciler.core import safety
from reconciler.core.capabilities import check_capabilities
from reconciler.core.collector import collector_paused
from reconciler.core.desired import expand
from reconciler.core.diff import build_plan
from reconciler.core.directory import DirectoryIndex
from reconciler.core.due import due_warnings
from reconciler.core.model import Config, Directory, Policy, Settings, Snapshot
from reconciler.core.plan import IdentityIssue, Plan, ProviderPlan, RunOptions
from reconciler.core.recurrence import add_reenrollments
from reconciler.core.safety import check_guards
from reconciler.engine.build import Closer, ProviderBuilder, build_provider, offline_capabilities, state_dir
from reconciler.engine.directory import read_directory
from reconciler.errors import Diagnostic, GuardTripped, ManifestError, ResolutionError, UsageError
from reconciler.manifest.load import load_manifest_repository
from reconciler.manifest.scope import check_online
from reconciler.planfile.file import manifest_digest
from reconciler.providers.base import Provider

CONFIG_FILE = "enrollctl.yaml"
Timings = dict[str, float]


@dataclass
class Workspace:
    """A loaded repository with its providers connected; close it when done."""

    root: Path
    config: Config
    policies: tuple[Policy, ...]
    digest: str
    providers: dict[str, Provider] = field(default_factory=dict)
    directories: dict[str, Directory] = field(default_factory=dict)
    closers: list[Closer] = field(default_factory=list)
    policy_files: tuple[str, ...] = ()  # every policy file read, relative to the root (recorded in plans)

    @property
    def state_dir(self) -> Path:
        """`.enrollctl/` of this repository (journal, lock, sandbox state)."""
        return state_dir(self.root)

    def close(self) -> None:
        """Release every provider (HTTP clients, sandbox stores)."""
        while self.closers:
            self.closers.pop()()


@dataclass(frozen=True)
class ReadResult:
    snapshot: Snapshot
    calls: int  # vendor calls the read made


def read_snapshot(
    provider: Provider,
    *,
    now: dt.datetime,
    directory: Directory | None = None,
    item_ids: frozenset[str] | None = None,
    user_ids: frozenset[str] | None = None,
) -> ReadResult:
    """The one way a Snapshot is read: the directory (unless already read), then the enrollments in
    `item_ids` (default: every item), optionally of `user_ids` only. Plan, explain and export use it."""
    before = provider.call_count()
    if directory is None:
        directory = provider.read_directory()
    items = item_ids if item_ids is not None else frozenset(i.id for i in directory.items)
    enrollments = provider.read_enrollments(directory, items, user_ids) if items else ()
    snapshot = Snapshot(
        provider=provider.name,
        kind=provider.kind,
        account=provider.account,
        directory=directory,
        enrollments=enrollments,
        managed_item_ids=items,
        scope_department_ids=provider.scope_department_ids,
        read_at=now,
    )
    return ReadResult(snapshot, provider.call_count() - before)


@contextmanager
def connected(
    config: Config, name: str, root: Path, env: Mapping[str, str], *, build: ProviderBuilder | None = None
) -> Iterator[Provider]:
    """One provider of enrollctl.yaml, released on exit."""
    provider, close = (build or build_provider)(config.providers[name], root, env)
    try:
        yield provider
    finally:
        close()


def load_workspace(root: Path, env: Mapping[str, str], *, build: ProviderBuilder | None = None) -> Workspace:
    """Load manifests and connect the providers that policies use."""
    repository = load_manifest_repository(str(root))
    config, policies, files = repository.config, repository.policies, repository.policy_files
    workspace = Workspace(root, config, policies, repository_digest(root, files), policy_files=files)
    try:
        for name in used_providers(config, workspace.policies):
            provider, closer = (build or build_provider)(config.providers[name], root, env)
            workspace.providers[name] = provider
            workspace.closers.append(closer)
    except BaseException:
        workspace.close()
        raise
    return workspace


def used_providers(config: Config, policies: tuple[Policy, ...]) -> list[str]:
    """Providers at least one policy belongs to, in config order (a lone provider owns unnamed policies)."""
    only = next(iter(config.providers)) if len(config.providers) == 1 else None
    wanted = {p.provider or only for p in policies}
    return [name for name in config.providers if name in wanted]


def repository_digest(root: Path, policy_files: Sequence[str]) -> str:
    """The manifest digest of enrollctl.yaml and every policy file (even one without a policy in it)."""
    files: dict[str, bytes] = {CONFIG_FILE: (root / CONFIG_FILE).read_bytes()}
    for name in policy_files:
        path = Path(name)
        path = path if path.is_absolute() else root / path
        files[_relative(path, root)] = path.read_bytes()
    return manifest_digest(files)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def make_plan(
    root: Path,
    *,
    now: dt.datetime,
    options: RunOptions,
    env: Mapping[str, str],
    build: ProviderBuilder | None = None,
    timings: Timings | None = None,
) -> tuple[Plan, Workspace]:
    """Plan every provider of the repository at `root`; the caller closes the returned workspace."""
    workspace = load_workspace(root, env, build=build)
    try:
        with collector_paused():  # a plan's objects live until the run ends: see core.collector
            return plan_workspace(workspace, now=now, options=options, timings=timings), workspace
    except BaseException:
        workspace.close()
        raise


def plan_workspace(
    workspace: Workspace, *, now: dt.datetime, options: RunOptions, timings: Timings | None = None
) -> Plan:
    """Read, expand, diff and guard each provider of an open workspace.

    A tripped guard does not raise: the plan is whole, with the verdict in `Plan.guard` (`Plan.refused_by`),
    so it can be shown and saved; `refusal` says why, and the CLI refuses to apply it without an approval.
    """
    _check_policy_filter(workspace.policies, options)
    check_vendor_limits(workspace)
    clock = timings if timings is not None else {}
    parts = [
        _plan_provider(workspace, name, provider, now=now, options=options, timings=clock)
        for name, provider in workspace.providers.items()
    ]
    guard: dict[str, str] = {}
    for part in parts:
        for check, state in check_guards(
            part, workspace.config.settings, allow_unknown=options.allow_unknown
        ).items():
            guard[check if len(parts) == 1 else f"{part.provider}.{check}"] = state
    return Plan(
        created_at=now,
        manifest_digest=workspace.digest,
        policy_files=workspace.policy_files,
        providers=tuple(parts),
        options=options,
        guard=guard,
    )


def refusal(plan: Plan, settings: Settings) -> GuardTripped | None:
    """Why the guards refuse `plan` under `settings` (the first tripped provider's reasons), or None."""
    for part in plan.providers:
        try:
            safety.check(part, settings, allow_unknown=plan.options.allow_unknown)
        except GuardTripped as tripped:
            return tripped
    return None


def check_vendor_limits(workspace: Workspace) -> None:
    """Refuse policies that ask what their provider cannot store (ManifestError naming the vendor limit)."""
    capabilities = {name: p.capabilities for name, p in workspace.providers.items()}
    kinds = {name: p.kind for name, p in workspace.providers.items()}
    problems = check_capabilities(workspace.policies, capabilities, kinds)
    if problems:
        raise ManifestError(problems)


def check_vendor_limits_offline(config: Config, policies: Sequence[Policy]) -> None:
    """`check_vendor_limits` without contacting any LMS: capabilities come from enrollctl.yaml alone."""
    capabilities = {name: offline_capabilities(p) for name, p in config.providers.items()}
    kinds = {name: p.kind for name, p in config.providers.items()}
    problems = check_capabilities(policies, capabilities, kinds)
    if problems:
        raise ManifestError(problems)


def check_scopes(workspace: Workspace, index: DirectoryIndex, provider: str) -> None:
    """Refuse policies that target what their scope (enrollctl.yaml `scopes:`) does not allow."""
    problems = check_online(workspace.config.scopes, workspace.policies, index, provider=provider)
    if problems:
        raise ManifestError(problems)


def _check_policy_filter(policies: tuple[Policy, ...], options: RunOptions) -> None:
    known = {p.name for p in policies}
    unknown = [name for name in options.policies if name not in known]
    if unknown:
        raise UsageError(
            f"--policy {', '.join(unknown)}: no such policy",
            hint=f"policies in this repository: {', '.join(sorted(known)) or 'none'}",
        )


@contextmanager
def _timed(timings: Timings, phase: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - start


def _plan_provider(
    workspace: Workspace,
    name: str,
    provider: Provider,
    *,
    now: dt.datetime,
    options: RunOptions,
    timings: Timings,
) -> ProviderPlan:
    settings = workspace.config.settings
    with _timed(timings, "read"):
        directory = read_directory(provider, workspace.policies)
    workspace.directories[name] = directory
    with _timed(timings, "expand"):
        index = DirectoryIndex.build(directory)
        expanded = expand(workspace.policies, index, settings, provider=name, now=now)
    expanded.raise_for_diagnostics(scope=provider.scope_department_ids)
    check_scopes(workspace, index, name)
    with _timed(timings, "read"):
        snapshot = read_snapshot(
            provider, now=now, directory=directory, item_ids=expanded.desired.managed_item_ids
        ).snapshot
    with _timed(timings, "diff"):
        part = build_plan(
            expanded.desired,
            snapshot,
            settings,
            options,
            now=now,
            capabilities=provider.capabilities,
            identity=expanded.identity,
            index=index,
        )
        part = add_reenrollments(
            part,
            expanded.desired,
            snapshot,
            now=now,
            capabilities=provider.capabilities,
            dues=provider.due_information(),
            index=index,
        )
        calls = provider.write_calls(part.actions)
    part = replace(
        part,
        summary=replace(part.summary, estimated_calls=calls),
        warnings=expanded.warnings + part.warnings,
    )
    dues = provider.due_information()  # due dates the vendor reports but cannot set (Litmos)
    if dues is not None:
        part = replace(part, warnings=part.warnings + due_warnings(dues, directory, now))
    return part


def validate_online(
    root: Path, env: Mapping[str, str], *, strict: bool = False, build: ProviderBuilder | None = None
) -> tuple[Config, tuple[Policy, ...]]:
    """Resolve every name in the manifests against each provider; ResolutionError lists all problems."""
    workspace = load_workspace(root, env, build=build)
    try:
        check_vendor_limits(workspace)
        problems: list[Diagnostic] = []
        for name, provider in workspace.providers.items():
            index = DirectoryIndex.build(read_directory(provider, workspace.policies))
            expanded = expand(workspace.policies, index, workspace.config.settings, provider=name)
            problems.extend(expanded.diagnostics)
            problems.extend(check_online(workspace.config.scopes, workspace.policies, index, provider=name))
            if strict:
                problems.extend(_identity_diagnostic(issue) for issue in expanded.identity.issues)
        if problems:
            raise ResolutionError(problems)
        return workspace.config, workspace.policies
    finally:
        workspace.close()


def _identity_diagnostic(issue: IdentityIssue) -> Diagnostic:
    what = (
        "no such user" if issue.problem.value == "unknown" else f"user is {issue.status or 'not enrollable'}"
    )
    return Diagnostic(
        issue.position,
        f"policy {issue.policy}: users",
        f"{issue.reference}: {what}",
        "--strict makes identity problems errors; without it the plan reports them and goes on",
    )

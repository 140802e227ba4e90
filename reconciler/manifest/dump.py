"""The model back to manifest data: `dump_policy(load(x))` loads again to the same Policy.

Dumps are canonical (defaults left out, keys in MANIFEST.md order), so tests can compare dumps instead of
objects whose positions differ.
"""

from __future__ import annotations

from typing import Any

from reconciler.core.model import (
    Assignment,
    Config,
    DepartmentRef,
    Due,
    DueKind,
    GroupRef,
    Policy,
    ProviderConfig,
    RefBy,
    Scope,
    Settings,
    Targets,
    UserRef,
    format_hours,
)

API_VERSION = "enrollctl/v1"


def dump_policy(policy: Policy) -> dict[str, Any]:
    """A Policy as the plain data of its YAML document."""
    metadata: dict[str, Any] = {"name": policy.name}
    _put(metadata, "owner", policy.owner)
    _put(metadata, "description", policy.description)
    spec: dict[str, Any] = {}
    _put(spec, "provider", policy.provider)
    spec["targets"] = _targets(policy.targets)
    spec["assign"] = [_assignment(a) for a in policy.assign]
    if policy.prune:
        spec["prune"] = True
    if policy.prune_catalog:
        spec["prune_catalog"] = True
    if not policy.notify:
        spec["notify"] = False
    return {"apiVersion": API_VERSION, "kind": "Policy", "metadata": metadata, "spec": spec}


def dump_config(config: Config) -> dict[str, Any]:
    """A Config as the plain data of enrollctl.yaml."""
    data: dict[str, Any] = {"version": config.version, "policies": list(config.policies)}
    data["providers"] = {name: _provider(p) for name, p in config.providers.items()}
    settings = _settings(config.settings)
    if settings:
        data["settings"] = settings
    if config.scopes:
        data["scopes"] = [_scope(s) for s in config.scopes]
    return data


def _scope(scope: Scope) -> dict[str, Any]:
    data: dict[str, Any] = {"policies": scope.policies}
    if scope.departments:
        data["departments"] = list(scope.departments)
    if scope.groups:
        data["groups"] = list(scope.groups)
    if not scope.users:
        data["users"] = False
    if scope.everyone:
        data["everyone"] = True
    return data


def dump_due(due: Due) -> Any:
    """`2026-12-31`, `{within: 2w}`, `unlimited` or `default`."""
    if due.kind is DueKind.DATE and due.date is not None:
        return due.date.isoformat()
    if due.kind is DueKind.WITHIN and due.hours is not None:
        return {"within": format_hours(due.hours)}
    return due.kind.value


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def _name_or_id(value: str, by: RefBy) -> Any:
    return {"id": value} if by is RefBy.ID else value


def _department(ref: DepartmentRef) -> Any:
    if ref.by is RefBy.NAME and not ref.recursive:
        return {"path": ref.value, "recursive": False}
    return _name_or_id(ref.value, ref.by)


def _targets(targets: Targets) -> dict[str, Any]:
    data: dict[str, Any] = {"everyone": True} if targets.everyone else {}
    data.update(_ref_lists(targets.departments, targets.groups, targets.users))
    exclude = targets.exclude
    excluded = _ref_lists(exclude.departments, exclude.groups, exclude.users)
    if excluded:
        data["exclude"] = excluded
    return data


def _ref_lists(
    departments: tuple[DepartmentRef, ...], groups: tuple[GroupRef, ...], users: tuple[UserRef, ...]
) -> dict[str, Any]:
    """The non-empty reference lists of a targets or exclude block."""
    lists = {
        "departments": [_department(d) for d in departments],
        "groups": [_name_or_id(g.value, g.by) for g in groups],
        "users": [_name_or_id(u.value, u.by) for u in users],
    }
    return {key: refs for key, refs in lists.items() if refs}


def _assignment(assignment: Assignment) -> dict[str, Any]:
    item = assignment.item
    data: dict[str, Any] = {item.kind.value: _name_or_id(item.value, item.by)}
    if assignment.terms.due.kind is not DueKind.DEFAULT:
        data["due"] = dump_due(assignment.terms.due)
    if assignment.terms.lock_after_due:
        data["lock_after_due"] = True
    if assignment.terms.access is not None:
        data["access"] = assignment.terms.access.isoformat()
    return data


_PROVIDER_KEYS = ("url", "client_id_env", "client_secret_env", "token_env", "api_key_env")


def _provider(provider: ProviderConfig) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": provider.kind.value}
    for key in _PROVIDER_KEYS:
        _put(data, key, getattr(provider, key))
    if provider.source != "enrollctl":
        data["source"] = provider.source
    _put(data, "requests_per_minute", provider.requests_per_minute)
    _put(data, "concurrency", provider.concurrency)
    _put(data, "sandbox", provider.sandbox)
    if provider.api != "rest":
        data["api"] = provider.api
    return data


def _settings(settings: Settings) -> dict[str, Any]:
    defaults = Settings()
    data: dict[str, Any] = {}
    if settings.user_statuses != defaults.user_statuses:
        data["user_statuses"] = [s.value for s in settings.user_statuses]
    if settings.max_removals != defaults.max_removals:
        data["max_removals"] = settings.max_removals
    if settings.max_removal_share != defaults.max_removal_share:
        data["max_removal_share"] = settings.max_removal_share
    return data

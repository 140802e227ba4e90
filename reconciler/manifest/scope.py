"""Scope restrictions (`scopes:` in enrollctl.yaml): which policy files may target which departments.

Pure. Rules (documented in docs/MANIFEST.md):
- A policy is governed by the LAST scope whose `policies` glob matches its file path (relative to the
  repository root), as in CODEOWNERS; a policy whose file matches no scope is unrestricted. A first entry
  `policies: "**"` that allows nothing turns that into "deny unless a later scope allows it".
- A governed policy's targets may only name departments whose paths match `departments`, groups whose names
  match `groups` (none when omitted), individual users only with `users: true` (the default), and
  `everyone` only with `everyone: true`. Exclusions only narrow a policy, so they are never restricted.
- Globs: `*` and `?` within one path segment, `**` any number of whole segments (zero included), so
  `Acme/Sales/**` allows Acme/Sales itself and everything below it.
- `check_offline` compares the text of references (what `validate --offline` can know); `{id: ...}`
  references and sub-departments are left to `check_online`, which resolves every department reference to
  the department ids it really enrolls (the whole subtree unless `recursive: false`), so an id cannot
  bypass a scope. Each violation is a Diagnostic at the reference's file:line:col.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Sequence

from reconciler.core.directory import DirectoryIndex, normalize_path
from reconciler.core.model import DepartmentRef, GroupRef, Policy, RefBy, Scope
from reconciler.core.where import lists, narrows
from reconciler.errors import Diagnostic, Position

SEPARATOR = "/"


def glob_match(pattern: str, path: str) -> bool:
    """True when `path` matches `pattern`: `*`/`?` inside a segment, `**` any number of segments."""
    return _match(_segments(pattern), _segments(path))


def _segments(text: str) -> list[str]:
    return [s for s in normalize_path(text).split(SEPARATOR) if s] if text.strip() else []


def _match(pattern: Sequence[str], path: Sequence[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _match(rest, path[1:])


def governing_scope(scopes: Sequence[Scope], file: str) -> Scope | None:
    """The last scope whose `policies` glob matches the policy file, or None (unrestricted)."""
    found = None
    for scope in scopes:
        if glob_match(scope.policies, file):
            found = scope
    return found


def department_allowed(scope: Scope, path: str) -> bool:
    """True when the scope lets its policies target the department at `path`."""
    return any(glob_match(pattern, path) for pattern in scope.departments)


def group_allowed(scope: Scope, name: str) -> bool:
    """True when the scope lets its policies target the group called `name`."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in scope.groups)


def _allowed_text(patterns: Iterable[str]) -> str:
    listed = ", ".join(patterns)
    return f"allows {listed}" if listed else "allows none"


def _where(scope: Scope) -> str:
    return f"scope {scope.policies!r}" + (
        f" (enrollctl.yaml:{scope.position.line})" if scope.position.line else ""
    )


def _diagnostic(
    policy: Policy, position: Position, key: str, message: str, scope: Scope, hint: str
) -> Diagnostic:
    where = position if position.file else policy.position
    return Diagnostic(where, key, f"policy {policy.name!r}: {message}, outside {_where(scope)}", hint)


_HINT = "ask the owners of enrollctl.yaml to widen the scope, or move the policy where a scope allows it"


# --- offline: the text of references -----------------------------------------------------------------


def check_offline(scopes: Sequence[Scope], policies: Iterable[Policy]) -> list[Diagnostic]:
    """Violations visible without the LMS: department paths, group names, users and everyone, by text."""
    if not scopes:
        return []
    found: list[Diagnostic] = []
    for policy in policies:
        scope = governing_scope(scopes, policy.position.file)
        if scope is not None:
            found.extend(_offline(policy, scope))
    return sorted(found)


def _offline(policy: Policy, scope: Scope) -> Iterator[Diagnostic]:
    for i, dept in enumerate(policy.targets.departments):
        if dept.by is RefBy.NAME and not department_allowed(scope, dept.value):
            message = f"may not target department {dept.value!r} ({_allowed_text(scope.departments)})"
            yield _diagnostic(policy, dept.position, f"spec.targets.departments[{i}]", message, scope, _HINT)
    yield from _textual(policy, scope)


def _textual(policy: Policy, scope: Scope) -> Iterator[Diagnostic]:
    """Checks that need no LMS and are complete without one: everyone, group names, users."""
    targets = policy.targets
    if targets.everyone and not scope.everyone:
        position = targets.everyone_position
        yield _diagnostic(policy, position, "spec.targets.everyone", "may not target everyone", scope, _HINT)
    if narrows(targets) and not lists(targets) and not scope.everyone:
        # `where` / `joined_within` alone select from everyone: the same permission as everyone: true
        message = (
            "may not target everyone (where or joined_within without other targets selects from everyone)"
        )
        yield _diagnostic(policy, policy.position, "spec.targets", message, scope, _HINT)
    for i, group in enumerate(targets.groups):
        if group.by is RefBy.NAME and not group_allowed(scope, group.value):
            message = f"may not target group {group.value!r} ({_allowed_text(scope.groups)})"
            yield _diagnostic(policy, group.position, f"spec.targets.groups[{i}]", message, scope, _HINT)
    if not scope.users:
        for i, user in enumerate(targets.users):
            message = f"may not list individual users ({user.value!r}; the scope sets users: false)"
            yield _diagnostic(policy, user.position, f"spec.targets.users[{i}]", message, scope, _HINT)


# --- online: what references resolve to --------------------------------------------------------------


def check_online(
    scopes: Sequence[Scope], policies: Iterable[Policy], index: DirectoryIndex, *, provider: str
) -> list[Diagnostic]:
    """Violations of the departments and groups references really resolve to (ids and subtrees included)."""
    if not scopes:
        return []
    found: list[Diagnostic] = []
    for policy in policies:
        if policy.provider is not None and policy.provider != provider:
            continue
        scope = governing_scope(scopes, policy.position.file)
        if scope is None:
            continue
        found.extend(_textual(policy, scope))
        for i, dept in enumerate(policy.targets.departments):
            found.extend(_department_online(policy, scope, dept, f"spec.targets.departments[{i}]", index))
        for i, group in enumerate(policy.targets.groups):
            found.extend(_group_online(policy, scope, group, f"spec.targets.groups[{i}]", index))
    return sorted(set(found))


def _resolve_department(ref: DepartmentRef, index: DirectoryIndex) -> str | None:
    if ref.by is RefBy.ID:
        return ref.value if ref.value in index.departments_by_id else None
    found = index.departments_at(normalize_path(ref.value))  # as expand resolves it, hidden roots too
    return found[0].id if len(found) == 1 else None  # unknown or ambiguous: expand reports it


def _allowed_in_index(scope: Scope, index: DirectoryIndex, dept_id: str) -> bool:
    """`department_allowed` for a department of the index, also below a root the caller cannot see.

    Below a hidden root (a department administrator's view) only the visible path is known, e.g.
    `Engineering/Platform` for `Acme/Engineering/Platform`. A pattern allows it when a later segment of the
    pattern is literally the visible root's name and the rest of the pattern matches the visible path
    (`Acme/Engineering/**`), or when it starts with `**`. The manifest's own text cannot vouch for the hidden
    part (`Acme/Sales/X/Engineering` resolves to Engineering too), so no other pattern allows it.
    """
    path = index.department_path(dept_id)
    if dept_id not in index.orphan_rooted:
        return department_allowed(scope, path)
    segments = _segments(path)
    patterns = [_segments(pattern) for pattern in scope.departments]
    if any(p and p[0] == "**" and _match(p, segments) for p in patterns):
        return True  # a leading `**` allows any hidden prefix
    return any(p[k] == segments[0] and _match(p[k:], segments) for p in patterns for k in range(1, len(p)))


def _department_online(
    policy: Policy, scope: Scope, ref: DepartmentRef, key: str, index: DirectoryIndex
) -> Iterator[Diagnostic]:
    dept_id = _resolve_department(ref, index)
    if dept_id is None:
        return
    ids = index.subtree(dept_id) if ref.recursive else [dept_id]
    outside = sorted(index.department_path(d) for d in ids if not _allowed_in_index(scope, index, d))
    if not outside:
        return
    named = f"{{id: {ref.value}}}" if ref.by is RefBy.ID else repr(ref.value)
    more = f" and {len(outside) - 1} more" if len(outside) > 1 else ""
    message = f"department {named} enrolls {outside[0]!r}{more} ({_allowed_text(scope.departments)})"
    narrower = ref.recursive and _allowed_in_index(scope, index, dept_id)
    hint = f"write recursive: false, or {_HINT}" if narrower else _HINT
    yield _diagnostic(policy, ref.position, key, message, scope, hint)


def _group_online(
    policy: Policy, scope: Scope, ref: GroupRef, key: str, index: DirectoryIndex
) -> Iterator[Diagnostic]:
    if ref.by is RefBy.NAME:
        return  # names are checked by text (offline)
    group = index.groups_by_id.get(ref.value)
    if group is not None and not group_allowed(scope, group.name):
        message = f"group {{id: {ref.value}}} is {group.name!r} ({_allowed_text(scope.groups)})"
        yield _diagnostic(policy, ref.position, key, message, scope, _HINT)

"""Resolve the references of one policy (departments, groups, users, items) against a `DirectoryIndex`.

Pure. Unknown or ambiguous departments, groups and items become `Diagnostic`s with the reference's position
and up to five candidates; users are never errors: they become `IdentityIssue`s. `core.desired` drives
this per policy and combines the results.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from reconciler.core.directory import DirectoryIndex, closest, normalize_path
from reconciler.core.model import (
    DepartmentRef,
    GroupRef,
    Item,
    ItemRef,
    Policy,
    RefBy,
    Settings,
    User,
    UserRef,
)
from reconciler.core.plan import IdentityIssue, IdentityProblem
from reconciler.core.where import narrow
from reconciler.core.words import counted
from reconciler.errors import Diagnostic, Position

Ref = DepartmentRef | GroupRef | UserRef


def rule_text(section: str, ref: Ref) -> str:
    """The target rule as a reviewer would write it: `departments: Acme/Sales`, `users: {id: 42}`."""
    recursive = ref.recursive if isinstance(ref, DepartmentRef) else True
    if ref.by is RefBy.ID:
        inner = f"id: {ref.value}" + ("" if recursive else ", recursive: false")
        return f"{section}: {{{inner}}}"
    if not recursive:
        return f"{section}: {{path: {ref.value}, recursive: false}}"
    return f"{section}: {ref.value}"


def _reference(ref: Ref | ItemRef) -> str:
    return f"{{id: {ref.value}}}" if ref.by is RefBy.ID else ref.value


def _hint(candidates: Sequence[str]) -> str:
    return f"did you mean: {', '.join(candidates)}?" if candidates else "nothing similar exists in the LMS"


class Resolver:
    """Resolves references for many policies, collecting diagnostics and identity issues as it goes."""

    def __init__(self, index: DirectoryIndex, settings: Settings, now: dt.datetime | None = None) -> None:
        self.index = index
        self.now = now
        self.statuses = frozenset(settings.user_statuses)
        self.diagnostics: list[Diagnostic] = []
        self.issues: list[IdentityIssue] = []

    def enrollable(self, user: User) -> bool:
        """True when the user's status lets policies enroll them (settings.user_statuses)."""
        return user.status in self.statuses

    # --- targets ---------------------------------------------------------------------------------------

    def targets(self, policy: Policy, excluded: set[str]) -> dict[str, list[str]]:
        """User id → the target rules of `policy` that match the user (exclusions not yet applied)."""
        targets = policy.targets
        matched: defaultdict[str, list[str]] = defaultdict(list)
        if targets.everyone:
            for user in self.index.directory.users:
                matched[user.id].append("everyone")
        for i, dept in enumerate(targets.departments):
            rule = rule_text("departments", dept)  # once per rule, not once per user it matches
            for user_id in self.department(policy, dept, f"spec.targets.departments[{i}]"):
                matched[user_id].append(rule)
        for i, group in enumerate(targets.groups):
            rule = rule_text("groups", group)
            for user_id in self.group(policy, group, f"spec.targets.groups[{i}]"):
                matched[user_id].append(rule)
        for user_ref in targets.users:
            named = self.user(policy, user_ref)
            if named is None:
                continue
            matched[named.id].append(rule_text("users", user_ref))
            if named.id not in excluded and not self.enrollable(named):
                self._issue(policy, user_ref, IdentityProblem.NOT_ENROLLABLE, status=named.status.value)
        kept, problems = narrow(policy, matched, self.index, self.now)
        self.diagnostics.extend(problems)
        return kept

    def exclusions(self, policy: Policy) -> set[str]:
        """Ids of the users `spec.targets.exclude` removes."""
        exclude = policy.targets.exclude
        ids: set[str] = set()
        for i, dept in enumerate(exclude.departments):
            ids |= self.department(policy, dept, f"spec.targets.exclude.departments[{i}]")
        for i, group in enumerate(exclude.groups):
            ids |= self.group(policy, group, f"spec.targets.exclude.groups[{i}]")
        for user_ref in exclude.users:
            user = self.user(policy, user_ref)
            if user is not None:
                ids.add(user.id)
        return ids

    def department(self, policy: Policy, ref: DepartmentRef, key: str) -> set[str]:
        """Users of the department `ref` names (with sub-departments unless `recursive: false`)."""
        index = self.index
        if ref.by is RefBy.ID:
            if ref.value in index.departments_by_id:
                return index.department_users(ref.value, recursive=ref.recursive)
            self._unknown(policy, ref, key, "department id", closest(ref.value, index.departments_by_id))
            return set()
        path = normalize_path(ref.value)
        found = index.departments_at(path)  # full paths also resolve below a root the caller cannot see
        if len(found) == 1:
            return index.department_users(found[0].id, recursive=ref.recursive)
        if found:
            self._ambiguous(policy, ref, key, "department path", [f"{{id: {d.id}}}" for d in found])
            return set()
        self._unknown(policy, ref, key, "department", self._department_candidates(path))
        return set()

    def _department_candidates(self, path: str) -> list[str]:
        # Paths below a hidden root that the full path could mean (more than one, or it would have resolved)
        # come first; then, since a bare name ("EMEA") is a common slip, the paths that end with it.
        index = self.index
        hidden = [index.department_path(d.id) for d in index.below_hidden_root(path)]
        paths = sorted(index.departments_by_path)
        suffix = f"/{path.casefold()}"
        by_suffix = [p for p in paths if p.casefold().endswith(suffix) or p.casefold() == path.casefold()]
        similar = [p for p in closest(path, paths) if p not in by_suffix]
        return list(dict.fromkeys(hidden + by_suffix + similar))[:5]

    def group(self, policy: Policy, ref: GroupRef, key: str) -> set[str]:
        """Members of the group `ref` names; groups are never recursive."""
        index = self.index
        if ref.by is RefBy.ID:
            if ref.value in index.groups_by_id:
                return set(index.group_members.get(ref.value, ()))
            self._unknown(policy, ref, key, "group id", closest(ref.value, index.groups_by_id))
            return set()
        found = index.groups_by_name.get(ref.value.strip(), ())
        if len(found) == 1:
            return set(index.group_members.get(found[0].id, ()))
        if found:
            self._ambiguous(policy, ref, key, "group name", [f"{{id: {g.id}}}" for g in found])
            return set()
        self._unknown(policy, ref, key, "group", closest(ref.value, index.groups_by_name))
        return set()

    def user(self, policy: Policy, ref: UserRef) -> User | None:
        """The user `ref` names, or None (recorded as an UNKNOWN identity issue, never an error)."""
        if ref.by is RefBy.ID:
            by_id = self.index.users_by_id.get(ref.value)
            found: tuple[User, ...] = (by_id,) if by_id is not None else ()
        else:
            found = self.index.users_named(ref.value)
        if len(found) == 1:
            return found[0]
        # inferred: the report has no "ambiguous" problem; an email shared by several users enrolls none of
        # them and is reported as unknown, because guessing the wrong person would be worse.
        self._issue(policy, ref, IdentityProblem.UNKNOWN)
        return None

    # --- items -----------------------------------------------------------------------------------------

    def items(self, policy: Policy) -> list[tuple[Position, int, Item]]:
        """(position of the entry, index in `spec.assign`, item) for each resolvable assignment."""
        resolved: list[tuple[Position, int, Item]] = []
        for i, assignment in enumerate(policy.assign):
            item = self.item(policy, assignment.item, f"spec.assign[{i}].{assignment.item.kind.value}")
            if item is not None:
                position = assignment.position if assignment.position.file else assignment.item.position
                resolved.append((position if position.file else policy.position, i, item))
        return resolved

    def item(self, policy: Policy, ref: ItemRef, key: str) -> Item | None:
        """The course or learning path `ref` names, or None with a diagnostic."""
        index = self.index
        kind = ref.kind.value.replace("_", " ")
        if ref.by is RefBy.ID:
            item = index.items_by_id.get(ref.value)
            if item is not None and item.kind is ref.kind:
                return item
            if item is not None:
                message = f"{kind} id {ref.value!r} is a {item.kind.value.replace('_', ' ')} ({item.title!r})"
                self._report(policy, ref, key, message, f"write `{item.kind.value}: {{id: {item.id}}}`")
                return None
            ids = [i.id for i in index.items_of_kind(ref.kind)]
            self._unknown(policy, ref, key, f"{kind} id", closest(ref.value, ids))
            return None
        found = index.items_by_title.get((ref.kind, ref.value), ())
        if len(found) == 1:
            return found[0]
        if found:
            self._ambiguous(policy, ref, key, f"{kind} title", [f"{{id: {i.id}}}" for i in found])
            return None
        titles = [i.title for i in index.items_of_kind(ref.kind)]
        other = [i for i in index.directory.items if i.title == ref.value and i.kind is not ref.kind]
        if other:
            hint = (
                f"{ref.value!r} is a {other[0].kind.value.replace('_', ' ')}: write `{other[0].kind.value}:`"
            )
            self._report(policy, ref, key, f"unknown {kind} {ref.value!r}", hint)
        else:
            self._unknown(policy, ref, key, kind, closest(ref.value, titles))
        return None

    # --- recording -------------------------------------------------------------------------------------

    def _position(self, policy: Policy, ref: Ref | ItemRef) -> Position:
        return ref.position if ref.position.file else policy.position

    def _report(self, policy: Policy, ref: Ref | ItemRef, key: str, message: str, hint: str) -> None:
        self.diagnostics.append(
            Diagnostic(self._position(policy, ref), key, f"policy {policy.name!r}: {message}", hint)
        )

    def _unknown(
        self, policy: Policy, ref: Ref | ItemRef, key: str, what: str, candidates: Iterable[str]
    ) -> None:
        self._report(policy, ref, key, f"unknown {what} {ref.value!r}", _hint(list(candidates)[:5]))

    def _ambiguous(self, policy: Policy, ref: Ref | ItemRef, key: str, what: str, ids: list[str]) -> None:
        message = f"{what} {ref.value!r} is ambiguous: {len(ids)} match"
        self._report(policy, ref, key, message, f"name one by id: {', '.join(ids[:5])}")

    def _issue(self, policy: Policy, ref: UserRef, problem: IdentityProblem, status: str = "") -> None:
        position = self._position(policy, ref)
        self.issues.append(IdentityIssue(policy.name, _reference(ref), problem, position, status))


def outside_scope(diagnostic: Diagnostic, departments: int) -> Diagnostic:
    """`diagnostic` of an unknown department or group, with a hint that a department administrator's
    credentials (seeing `departments` departments) may simply not see it."""
    if not diagnostic.message.split(": ", 1)[-1].startswith(("unknown department", "unknown group")):
        return diagnostic
    note = (
        f"these credentials are a department administrator's and see {counted(departments, 'department')}: "
        "what lies outside them looks unknown; "
        "an account administrator's key sees the whole account"
    )
    hint = f"{diagnostic.hint}; {note}" if diagnostic.hint else note
    return replace(diagnostic, hint=hint)

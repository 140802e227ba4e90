"""Small builders for in-memory organisations, policies, snapshots and plans; reusable by any test.

    org = Org()
    helen = org.user("helen@acme.example", dept="Acme/Sales/EMEA", groups=["Managers"])
    sec = org.course("Security Awareness")
    pol = policy("sec", departments=["Acme/Sales"], assign=[course("Security Awareness", due=within(48))])
    plan = plan_for([pol], snapshot(org, [enrollment(helen, sec)]))

`apply_in_memory(snapshot, plan, now=...)` plays a plan's actions onto a snapshot the way an LMS would store
them (periods as `due_hours` where the vendor keeps periods), so "plan → apply → plan is empty" can be
checked without a vendor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from reconciler.core.desired import ExpandResult, expand_or_raise
from reconciler.core.diff import build_plan
from reconciler.core.model import (
    Assignment,
    Capabilities,
    Completion,
    Department,
    DepartmentRef,
    Directory,
    Due,
    DueKind,
    Enrollment,
    Exclusions,
    Group,
    GroupRef,
    Item,
    ItemKind,
    ItemRef,
    Origin,
    Policy,
    ProviderKind,
    RefBy,
    Settings,
    Snapshot,
    Targets,
    Terms,
    User,
    UserRef,
    UserStatus,
)
from reconciler.core.plan import ActionKind, ProviderPlan, RunOptions
from reconciler.errors import Position

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
ISPRING_CAPS = Capabilities()
LITMOS_CAPS = Capabilities(
    due_dates=False, due_periods=False, lock_after_due=False, access_dates=False, notify_switch=True
)


# --- the directory -------------------------------------------------------------------------------------


@dataclass
class Org:
    """A mutable organisation under construction; `directory()` freezes it. Ids derive from names."""

    departments: dict[str, Department] = field(default_factory=dict)  # path -> department
    groups: dict[str, Group] = field(default_factory=dict)
    users: list[User] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    def dept(self, path: str) -> str:
        """Create the department at `path` (and its parents); return its id ("d:Acme/Sales")."""
        parent: str | None = None
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in self.departments:
                self.departments[sub] = Department(f"d:{sub}", parts[depth - 1], parent)
            parent = self.departments[sub].id
        assert parent is not None
        return parent

    def group(self, name: str) -> str:
        """Create a group; return its id ("g:Name")."""
        self.groups.setdefault(name, Group(f"g:{name}", name))
        return self.groups[name].id

    def user(
        self,
        login: str,
        *,
        dept: str | None = None,
        groups: Iterable[str] = (),
        status: UserStatus = UserStatus.ACTIVE,
        email: str | None = None,
        id: str | None = None,
    ) -> User:
        """Add a user; the email defaults to the login, the id to "u:<login>"."""
        new = User(
            id=id or f"u:{login}",
            login=login,
            email=login if email is None else email,
            status=status,
            department_id=self.dept(dept) if dept else None,
            group_ids=frozenset(self.group(g) for g in groups),
        )
        self.users.append(new)
        return new

    def course(self, title: str, *, id: str | None = None) -> Item:
        """Add a course to the catalog."""
        return self._item(Item(id or f"c:{title}", ItemKind.COURSE, title))

    def learning_path(self, title: str, *, id: str | None = None) -> Item:
        """Add a learning path to the catalog."""
        return self._item(Item(id or f"lp:{title}", ItemKind.LEARNING_PATH, title))

    def _item(self, item: Item) -> Item:
        self.items.append(item)
        return item

    def directory(self) -> Directory:
        """The frozen directory."""
        return Directory(
            users=tuple(self.users),
            departments=tuple(self.departments.values()),
            groups=tuple(self.groups.values()),
            items=tuple(self.items),
        )


# --- policies ------------------------------------------------------------------------------------------

_lines = iter(range(1, 1_000_000))


def at(file: str = "policies/test.yaml") -> Position:
    """A fresh, distinct position, so diagnostics and sources can be told apart."""
    return Position(file, next(_lines), 3)


def date_due(year: int, month: int, day: int) -> Due:
    return Due(DueKind.DATE, date=dt.date(year, month, day))


def within(hours: int) -> Due:
    return Due(DueKind.WITHIN, hours=hours)


UNLIMITED = Due(DueKind.UNLIMITED)
DEFAULT = Due(DueKind.DEFAULT)


def dept_ref(value: str, *, recursive: bool = True, by_id: bool = False) -> DepartmentRef:
    return DepartmentRef(value, RefBy.ID if by_id else RefBy.NAME, recursive, at())


def group_ref(value: str, *, by_id: bool = False) -> GroupRef:
    return GroupRef(value, RefBy.ID if by_id else RefBy.NAME, at())


def user_ref(value: str, *, by_id: bool = False) -> UserRef:
    return UserRef(value, RefBy.ID if by_id else RefBy.NAME, at())


def _assignment(
    kind: ItemKind, value: str, due: Due, lock: bool, access: dt.date | None, by_id: bool
) -> Assignment:
    ref = ItemRef(kind, value, RefBy.ID if by_id else RefBy.NAME, at())
    return Assignment(ref, Terms(due=due, lock_after_due=lock, access=access), at())


def course(
    value: str, *, due: Due = DEFAULT, lock: bool = False, access: dt.date | None = None, by_id: bool = False
) -> Assignment:
    """An `assign` entry for a course by title (or id)."""
    return _assignment(ItemKind.COURSE, value, due, lock, access, by_id)


def learning_path(
    value: str, *, due: Due = DEFAULT, lock: bool = False, access: dt.date | None = None, by_id: bool = False
) -> Assignment:
    """An `assign` entry for a learning path by title (or id)."""
    return _assignment(ItemKind.LEARNING_PATH, value, due, lock, access, by_id)


R = TypeVar("R", DepartmentRef, GroupRef, UserRef)


def _refs(values: Iterable[str | R], make: Callable[[str], R]) -> tuple[R, ...]:
    return tuple(make(v) if isinstance(v, str) else v for v in values)


def policy(
    name: str,
    *,
    assign: Sequence[Assignment],
    everyone: bool = False,
    departments: Iterable[str | DepartmentRef] = (),
    groups: Iterable[str | GroupRef] = (),
    users: Iterable[str | UserRef] = (),
    exclude_departments: Iterable[str | DepartmentRef] = (),
    exclude_groups: Iterable[str | GroupRef] = (),
    exclude_users: Iterable[str | UserRef] = (),
    prune: bool = False,
    prune_catalog: bool = False,
    notify: bool = True,
    provider: str | None = None,
) -> Policy:
    """A Policy; plain strings are references by name."""
    targets = Targets(
        everyone=everyone,
        departments=_refs(departments, dept_ref),
        groups=_refs(groups, group_ref),
        users=_refs(users, user_ref),
        exclude=Exclusions(
            departments=_refs(exclude_departments, dept_ref),
            groups=_refs(exclude_groups, group_ref),
            users=_refs(exclude_users, user_ref),
        ),
    )
    return Policy(
        name=name,
        targets=targets,
        assign=tuple(assign),
        provider=provider,
        prune=prune,
        prune_catalog=prune_catalog,
        notify=notify,
        position=Position(f"policies/{name}.yaml", 1, 1),
    )


# --- enrollments, snapshots, plans ---------------------------------------------------------------------


def enrollment(
    user: User,
    item: Item,
    *,
    due: dt.datetime | None = None,
    due_hours: int | None = None,
    access: dt.datetime | None = None,
    lock: bool = False,
    origin: Origin = Origin.ADMIN,
    completion: Completion = Completion.NOT_STARTED,
    progress: float = 0.0,
    unknown: str = "",
) -> Enrollment:
    """An enrollment as the LMS reports it."""
    return Enrollment(
        user_id=user.id,
        item_id=item.id,
        item_kind=item.kind,
        id=f"e:{user.id}:{item.id}",
        access=access,
        due=due,
        due_hours=due_hours,
        lock_after_due=lock,
        origin=origin,
        completion=completion,
        progress=progress,
        unknown=unknown,
    )


def snapshot(
    org: Org | Directory,
    enrollments: Iterable[Enrollment] = (),
    *,
    kind: ProviderKind = ProviderKind.ISPRING,
    scope: Iterable[str] | None = None,
) -> Snapshot:
    """A snapshot of provider "lms"."""
    directory = org.directory() if isinstance(org, Org) else org
    return Snapshot(
        provider="lms",
        kind=kind,
        account="https://acme.example",
        directory=directory,
        enrollments=tuple(enrollments),
        managed_item_ids=frozenset(i.id for i in directory.items),
        scope_department_ids=None if scope is None else frozenset(scope),
        read_at=NOW,
    )


def expanded(policies: Sequence[Policy], snap: Snapshot, settings: Settings | None = None) -> ExpandResult:
    return expand_or_raise(policies, snap.directory, settings or Settings(), provider="lms")


def plan_for(
    policies: Sequence[Policy],
    snap: Snapshot,
    *,
    settings: Settings | None = None,
    options: RunOptions | None = None,
    now: dt.datetime = NOW,
    caps: Capabilities = ISPRING_CAPS,
) -> ProviderPlan:
    """expand + diff, as the CLI does for one provider."""
    settings = settings or Settings()
    result = expanded(policies, snap, settings)
    return build_plan(
        result.desired,
        snap,
        settings,
        options or RunOptions(),
        now=now,
        capabilities=caps,
        identity=result.identity,
    )


def _stored_due(
    terms: Terms, access: dt.datetime, caps: Capabilities, tz: dt.tzinfo
) -> tuple[dt.datetime | None, int | None, bool]:
    """(due, due_hours, due_is_default) as an LMS would store `terms`."""
    due = terms.due
    if due.kind is DueKind.DATE and due.date is not None:
        return dt.datetime(due.date.year, due.date.month, due.date.day, tzinfo=tz), None, False
    if due.kind is DueKind.WITHIN and due.hours is not None:
        if caps.due_periods:
            return None, due.hours, False
        return (access + dt.timedelta(hours=due.hours)).astimezone(tz), None, False
    if due.kind is DueKind.DEFAULT:
        return (access + dt.timedelta(days=30)).astimezone(tz), None, True  # the item's own default
    return None, None, False


def apply_in_memory(
    snap: Snapshot,
    plan: ProviderPlan,
    *,
    now: dt.datetime = NOW,
    caps: Capabilities = ISPRING_CAPS,
    tz: dt.tzinfo = dt.UTC,
) -> Snapshot:
    """The snapshot after an LMS carried out every action of `plan` (dates stored in time zone `tz`)."""
    held = {e.key: e for e in snap.enrollments}
    for action in plan.actions:
        key = (action.user_id, action.item_id)
        if action.kind is ActionKind.REMOVE:
            held.pop(key, None)
            continue
        terms = action.terms or Terms()
        base = held.get(key) or Enrollment(action.user_id, action.item_id, action.item_kind, id=f"new:{key}")
        if terms.access is not None:
            access = dt.datetime(terms.access.year, terms.access.month, terms.access.day, tzinfo=tz)
        elif action.kind is ActionKind.UPDATE:
            access = base.access  # an update leaves access alone unless the policy sets it
        else:
            access = now
        due, due_hours, is_default = _stored_due(terms, access or now, caps, tz)
        if action.kind is ActionKind.UPDATE and "due" not in action.changes:
            due, due_hours, is_default = base.due, base.due_hours, base.due_is_default
        held[key] = replace(
            base,
            access=access,
            due=due,
            due_hours=due_hours,
            due_is_default=is_default,
            lock_after_due=terms.lock_after_due if caps.lock_after_due else base.lock_after_due,
        )
    return replace(snap, enrollments=tuple(held[k] for k in sorted(held)))

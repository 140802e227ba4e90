"""Sandbox organisations: load the organisation file, generate synthetic ones, seed a store from them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import sqlite3
from collections.abc import Iterator
from typing import TypeVar

from reconciler.errors import ConfigError
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.spec import (
    ORG_EPOCH,
    CourseSpec,
    DepartmentSpec,
    EnrollmentSpec,
    GenerateSpec,
    LearningPathSpec,
    OrgSpec,
    UserSpec,
)
from reconciler.sandbox.org.yaml import dump_org_json, dump_org_yaml, load_org, parse_org
from reconciler.sandbox.store import compliance
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import ispring_uuid, litmos_id, original_id, result_id
from reconciler.sandbox.store.records import (
    FINISHED_STATUSES,
    DepartmentRow,
    EnrollmentRow,
    GroupRow,
    ItemRow,
    Progress,
    Terms,
    UserRow,
    resolve_due_date,
)

__all__ = [
    "ORG_EPOCH",
    "CourseSpec",
    "DepartmentSpec",
    "EnrollmentSpec",
    "GenerateSpec",
    "LearningPathSpec",
    "OrgSpec",
    "UserSpec",
    "department_uuid",
    "dump_org_json",
    "dump_org_yaml",
    "expand_org",
    "generate_org",
    "group_uuid",
    "item_uuid",
    "load_org",
    "parse_org",
    "seed_store",
    "user_uuid",
]

_Titled = TypeVar("_Titled", CourseSpec, LearningPathSpec)
ITEM_KINDS = {"course": "course", "learning_path": "learning_path"}


@functools.cache
def department_uuid(path: str) -> str:
    """The iSpring id the sandbox gives the department at `path` (`Acme/Sales`)."""
    return ispring_uuid("department", path)


@functools.cache
def group_uuid(name: str) -> str:
    """The iSpring id the sandbox gives group `name`."""
    return ispring_uuid("group", name)


@functools.cache
def user_uuid(login: str) -> str:
    """The iSpring id the sandbox gives the user with `login` (case-insensitive)."""
    return ispring_uuid("user", login.lower())


@functools.cache
def item_uuid(title: str, kind: str = "course") -> str:
    """The iSpring id the sandbox gives the course (or learning path) `title`."""
    return ispring_uuid(ITEM_KINDS[kind], title)


def expand_org(org: OrgSpec) -> OrgSpec:
    """The organisation with its `generate:` block replaced by the generated entities."""
    spec = org.generate
    if spec is None:
        return org
    extra = generate_org(**dataclasses.asdict(spec))
    # Generated names that the file already uses mean the file's entity (e.g. the `Managers` group).
    logins = {u.login.lower() for u in org.users}
    pairs = {(e.user.lower(), e.kind, e.item) for e in org.enrollments}
    return OrgSpec(
        departments=org.departments + extra.departments,
        groups=org.groups + tuple(g for g in extra.groups if g not in org.groups),
        users=org.users + tuple(u for u in extra.users if u.login.lower() not in logins),
        courses=org.courses + _new(extra.courses, {c.title for c in org.courses}),
        learning_paths=org.learning_paths + _new(extra.learning_paths, {p.title for p in org.learning_paths}),
        enrollments=org.enrollments
        + tuple(e for e in extra.enrollments if (e.user.lower(), e.kind, e.item) not in pairs),
        completions=org.completions,
    )


def _new(specs: tuple[_Titled, ...], titles: set[str]) -> tuple[_Titled, ...]:
    return tuple(s for s in specs if s.title not in titles)


def seed_store(store: Store, org: OrgSpec) -> None:
    """Load an organisation (including its `generate:` block) into an empty store, in one transaction."""
    full = expand_org(org)
    items = _item_rows(full)
    try:
        with store.transaction():
            store.insert_departments(_department_rows(full.departments, None))
            store.insert_groups(
                GroupRow(group_uuid(g), litmos_id("group", g), original_id("group", g), g)
                for g in full.groups
            )
            store.insert_users(_user_row(u) for u in full.users)
            store.insert_items(items)
            defaults = {i.uuid: i.default_due_hours for i in items}
            store.insert_enrollments(_enrollment_row(e, defaults) for e in full.enrollments)
            _seed_compliance(store, full)
            store.set_meta("seeded", "1")
    except sqlite3.IntegrityError as error:
        raise ConfigError(f"sandbox organisation has duplicate entries ({error})") from error


def _seed_compliance(store: Store, org: OrgSpec) -> None:
    """Items' compliance periods and the scripted completions (extensions of the org file)."""
    compliance.set_validity(
        store, ((item_uuid(c.title), c.valid_days) for c in org.courses if c.valid_days is not None)
    )
    compliance.schedule(
        store,
        (
            compliance.ScriptedCompletion(
                user_uuid(c.user), item_uuid(c.item, c.kind), c.at, c.status, c.score
            )
            for c in org.completions
        ),
    )


def _department_rows(departments: tuple[DepartmentSpec, ...], parent: str | None) -> Iterator[DepartmentRow]:
    for department in departments:
        path = f"{parent}/{department.name}" if parent else department.name
        yield DepartmentRow(
            department_uuid(path),
            litmos_id("department", path),
            original_id("department", path),
            department.name,
            path,
            department_uuid(parent) if parent else None,
        )
        yield from _department_rows(department.children, path)


def _user_row(user: UserSpec) -> UserRow:
    key = user.login.lower()
    return UserRow(
        uuid=user_uuid(user.login),
        litmos_id=litmos_id("user", key),
        original_id=original_id("user", key),
        login=user.login,
        email=user.email or user.login,
        first_name=user.first_name,
        last_name=user.last_name,
        status=user.status,
        department_uuid=department_uuid(user.department) if user.department else None,
        role=user.role,
        group_uuids=tuple(group_uuid(g) for g in user.groups),
        manageable_department_uuids=tuple(department_uuid(p) for p in user.manages),
        job_title=user.job_title,
        added_date=user.added or ORG_EPOCH,
    )


def _item_rows(org: OrgSpec) -> list[ItemRow]:
    rows = [_item_row(c.title, "course", c.code, c.default_due_days, ()) for c in org.courses]
    rows.extend(
        _item_row(
            p.title, "learning_path", p.code, p.default_due_days, tuple(item_uuid(c) for c in p.courses)
        )
        for p in org.learning_paths
    )
    return rows


def _item_row(title: str, kind: str, code: str, days: int | None, courses: tuple[str, ...]) -> ItemRow:
    return ItemRow(
        uuid=item_uuid(title, kind),
        litmos_id=litmos_id(kind, title),
        original_id=original_id(kind, title),
        kind=kind,
        title=title,
        code=code,
        created_date=ORG_EPOCH - dt.timedelta(days=365),
        default_due_hours=None if days is None else days * 24,
        course_uuids=courses,
    )


def _enrollment_row(e: EnrollmentSpec, default_due_hours: dict[str, int | None]) -> EnrollmentRow:
    item = item_uuid(e.item, e.kind)
    access = e.access or ORG_EPOCH
    due = resolve_due_date(access, e.due_type, e.due_date, e.due_period_hours, default_due_hours.get(item))
    finished = e.status in FINISHED_STATUSES
    progress = e.progress if e.progress is not None else 100.0 if finished else 0.0
    completed = e.completed or (access + dt.timedelta(days=1) if finished else None)
    started = e.status != "not_started"
    uuid = ispring_uuid("enrollment", f"{e.user.lower()}\x1f{e.kind}\x1f{e.item}")
    return EnrollmentRow(
        uuid=uuid,
        result_id=result_id(uuid),
        item_uuid=item,
        user_uuid=user_uuid(e.user),
        terms=Terms(access, e.due_type, due, e.due_period_hours, e.lock_after_due),
        origin=e.origin,
        # time spent and views are invented but plausible: a minute per percent of progress
        progress=Progress(e.status, progress, completed, e.score, int(progress * 60), 1 if started else 0),
        assigned_date=access,
    )

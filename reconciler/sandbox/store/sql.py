"""The SQLite schema of the sandbox store, conversions between rows and SQL values, and query filters."""

# Filters are assembled from constant SQL and whitelisted column names; values are always parameters.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from reconciler.sandbox.store.records import (
    DepartmentRow,
    EnrollmentQuery,
    EnrollmentRow,
    ItemRow,
    Progress,
    Terms,
    UserQuery,
    UserRow,
)

SCHEMA_VERSION = "1"
LOOKUP_FIELDS = frozenset({"uuid", "litmos_id", "original_id", "login", "email", "name", "path", "title"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS departments (
    key INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, litmos_id TEXT NOT NULL UNIQUE,
    original_id INTEGER NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL UNIQUE,
    parent_uuid TEXT, code TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS departments_parent ON departments (parent_uuid);
CREATE TABLE IF NOT EXISTS groups (
    key INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, litmos_id TEXT NOT NULL UNIQUE,
    original_id INTEGER NOT NULL, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    key INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, litmos_id TEXT NOT NULL UNIQUE,
    original_id INTEGER NOT NULL, login TEXT NOT NULL UNIQUE, email TEXT NOT NULL,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, status TEXT NOT NULL, department_uuid TEXT,
    role TEXT NOT NULL, job_title TEXT NOT NULL DEFAULT '', added_date TEXT);
CREATE INDEX IF NOT EXISTS users_department ON users (department_uuid);
CREATE INDEX IF NOT EXISTS users_email ON users (email);
CREATE TABLE IF NOT EXISTS user_groups (
    user_uuid TEXT NOT NULL, group_uuid TEXT NOT NULL, PRIMARY KEY (user_uuid, group_uuid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS user_groups_group ON user_groups (group_uuid);
CREATE TABLE IF NOT EXISTS user_managed_departments (
    user_uuid TEXT NOT NULL, department_uuid TEXT NOT NULL,
    PRIMARY KEY (user_uuid, department_uuid)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    key INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, litmos_id TEXT NOT NULL UNIQUE,
    original_id INTEGER NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL, code TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1, created_date TEXT, default_due_hours INTEGER);
CREATE TABLE IF NOT EXISTS path_courses (
    path_uuid TEXT NOT NULL, course_uuid TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (path_uuid, course_uuid)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrollments (
    key INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, result_id INTEGER NOT NULL,
    item_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL,
    access_date TEXT NOT NULL, due_type TEXT NOT NULL, due_date TEXT, due_period_hours INTEGER,
    lock_after_due INTEGER NOT NULL, expiration_date TEXT, origin TEXT NOT NULL,
    status TEXT NOT NULL, progress REAL NOT NULL, completion_date TEXT, score REAL,
    time_spent INTEGER NOT NULL, views_count INTEGER NOT NULL, assigned_date TEXT,
    UNIQUE (user_uuid, item_uuid));
CREATE INDEX IF NOT EXISTS enrollments_item ON enrollments (item_uuid);
CREATE TABLE IF NOT EXISTS attempts (
    key INTEGER PRIMARY KEY, enrollment_uuid TEXT NOT NULL, assigned_date TEXT, access_date TEXT NOT NULL,
    status TEXT NOT NULL, progress REAL NOT NULL, completion_date TEXT, score REAL,
    time_spent INTEGER NOT NULL, views_count INTEGER NOT NULL, ended_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_enrollment ON attempts (enrollment_uuid);
CREATE TABLE IF NOT EXISTS item_validity (item_uuid TEXT PRIMARY KEY, valid_days INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS scripted_completions (
    key INTEGER PRIMARY KEY, user_uuid TEXT NOT NULL, item_uuid TEXT NOT NULL, at TEXT NOT NULL,
    status TEXT NOT NULL, score REAL, applied INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS request_log (
    key INTEGER PRIMARY KEY, vendor TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    action TEXT NOT NULL, status INTEGER NOT NULL, duration_ms REAL NOT NULL, at TEXT NOT NULL,
    detail TEXT NOT NULL, client TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
    key INTEGER PRIMARY KEY, vendor TEXT NOT NULL, user_uuid TEXT NOT NULL, item_uuid TEXT,
    kind TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at TEXT NOT NULL, departments TEXT);
"""

USER_COLUMNS = (
    "u.key, u.uuid, u.litmos_id, u.original_id, u.login, u.email, u.first_name, u.last_name, u.status, "
    "u.department_uuid, u.role, u.job_title, u.added_date, "
    "(SELECT group_concat(group_uuid, ' ') FROM user_groups g WHERE g.user_uuid = u.uuid), "
    "(SELECT group_concat(department_uuid, ' ') FROM user_managed_departments m WHERE m.user_uuid = u.uuid)"
)
ITEM_COLUMNS = (
    "i.key, i.uuid, i.litmos_id, i.original_id, i.kind, i.title, i.code, i.active, i.created_date, "
    "i.default_due_hours, "
    "(SELECT group_concat(course_uuid, ' ') FROM "
    "(SELECT course_uuid FROM path_courses p WHERE p.path_uuid = i.uuid ORDER BY position)), "
    "(SELECT valid_days FROM item_validity v WHERE v.item_uuid = i.uuid)"
)
ENROLLMENT_COLUMNS = (
    "e.key, e.uuid, e.result_id, e.item_uuid, e.user_uuid, e.access_date, e.due_type, e.due_date, "
    "e.due_period_hours, e.lock_after_due, e.origin, e.status, e.progress, e.completion_date, e.score, "
    "e.time_spent, e.views_count, e.assigned_date"
)
ENROLLMENT_INSERT = (
    "INSERT INTO enrollments (uuid, result_id, item_uuid, user_uuid, access_date, due_type, due_date, "
    "due_period_hours, lock_after_due, expiration_date, origin, status, progress, completion_date, score, "
    "time_spent, views_count, assigned_date) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def to_db(moment: dt.datetime | None) -> str | None:
    """A UTC datetime as sortable text (`2019-12-25T01:00:00`); naive values are taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def from_db(text: str | None) -> dt.datetime | None:
    """The inverse of `to_db`."""
    if text is None:
        return None
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def json_set(values: Iterable[str] | None) -> str:
    """A set of strings as a JSON array, for `IN (SELECT value FROM json_each(?))` (no parameter limit)."""
    return json.dumps(sorted(values or ()))


def split_ids(text: str | None) -> tuple[str, ...]:
    """Ids concatenated by `group_concat(x, ' ')`."""
    return tuple(text.split(" ")) if text else ()


def json_set_load(text: str) -> list[str]:
    """The inverse of `json_set`."""
    values = json.loads(text)
    return [str(v) for v in values]


def field(by: str) -> str:
    """`by` if it names a column lookups may use (guards the SQL text)."""
    if by not in LOOKUP_FIELDS:
        raise ValueError(f"cannot look up by {by!r}")
    return by


def department(r: tuple[Any, ...]) -> DepartmentRow:
    """A `departments` row as a DepartmentRow."""
    return DepartmentRow(*r[1:])


def user(r: tuple[Any, ...]) -> UserRow:
    """A USER_COLUMNS row as a UserRow."""
    uuid, litmos, original, login, email, first, last, status, department, role = r[1:11]
    return UserRow(
        uuid,
        litmos,
        original,
        login,
        email,
        first,
        last,
        status,
        department,
        role,
        group_uuids=split_ids(r[13]),
        manageable_department_uuids=split_ids(r[14]),
        job_title=r[11],
        added_date=from_db(r[12]),
    )


def item(r: tuple[Any, ...]) -> ItemRow:
    """An ITEM_COLUMNS row as an ItemRow."""
    uuid, litmos, original, kind, title, code = r[1:7]
    return ItemRow(
        uuid, litmos, original, kind, title, code, bool(r[7]), from_db(r[8]), r[9], split_ids(r[10]), r[11]
    )


def enrollment(r: tuple[Any, ...]) -> EnrollmentRow:
    """An ENROLLMENT_COLUMNS row as an EnrollmentRow."""
    access = from_db(r[5])
    assert access is not None
    terms = Terms(access, r[6], from_db(r[7]), r[8], bool(r[9]))
    progress = Progress(r[11], r[12], from_db(r[13]), r[14], r[15], r[16])
    return EnrollmentRow(r[1], r[2], r[3], r[4], terms, r[10], progress, from_db(r[17]), r[0])


def user_values(u: UserRow) -> tuple[Any, ...]:
    """The parameters of a `users` insert (the columns after `key`, up to `added_date`)."""
    return (
        *(u.uuid, u.litmos_id, u.original_id, u.login, u.email, u.first_name, u.last_name),
        *(u.status, u.department_uuid, u.role, u.job_title, to_db(u.added_date)),
    )


def item_values(i: ItemRow) -> tuple[Any, ...]:
    """The parameters of an `items` insert (the columns after `key`)."""
    return (
        *(i.uuid, i.litmos_id, i.original_id, i.kind, i.title, i.code, int(i.active)),
        *(to_db(i.created_date), i.default_due_hours),
    )


def terms_values(t: Terms) -> tuple[Any, ...]:
    """Terms as the values of their enrollment columns."""
    return (
        *(to_db(t.access_date), t.due_type, to_db(t.due_date), t.due_period_hours),
        *(int(t.lock_after_due), to_db(t.expiration_date)),
    )


def progress_values(p: Progress) -> tuple[Any, ...]:
    """Progress as the values of its enrollment columns."""
    return (p.status, p.progress, to_db(p.completion_date), p.score, p.time_spent, p.views_count)


def enrollment_values(e: EnrollmentRow) -> tuple[Any, ...]:
    """The parameters of ENROLLMENT_INSERT."""
    t, p = e.terms, e.progress
    return (
        *(e.uuid, e.result_id, e.item_uuid, e.user_uuid),
        *terms_values(t),
        e.origin,
        *progress_values(p),
        to_db(e.assigned_date),
    )


def _in(column: str, values: frozenset[str] | None, clauses: list[str], params: list[Any]) -> None:
    if values is None:
        return
    if len(values) == 1:
        # `=`, not IN: an index on (column, key) then yields rows in key order, so a page needs no sort
        clauses.append(f"{column.lstrip('+')} = ?")
        params.extend(values)
        return
    clauses.append(f"{column} IN (SELECT value FROM json_each(?))")
    params.append(json_set(values))


def user_filter(q: UserQuery) -> tuple[str, list[Any]]:
    """The WHERE clause (over `users u`) and parameters of a UserQuery."""
    clauses: list[str] = ["1"]
    params: list[Any] = []
    _in("u.uuid", q.uuids, clauses, params)
    _in("u.department_uuid", q.department_uuids, clauses, params)
    _in("u.status", q.statuses, clauses, params)
    if q.group_uuids is not None:
        # a membership check per user (primary key lookup), so users are walked in key order and a page
        # stops after its rows, instead of collecting and sorting the whole group for every page
        clauses.append(
            "EXISTS (SELECT 1 FROM user_groups g WHERE g.user_uuid = u.uuid "
            "AND g.group_uuid IN (SELECT value FROM json_each(?)))"
        )
        params.append(json_set(q.group_uuids))
    if q.search:
        clauses.append("(u.login LIKE ? OR u.email LIKE ? OR u.first_name LIKE ? OR u.last_name LIKE ?)")
        needle = "%" + q.search.replace("%", "").replace("_", "") + "%"
        params.extend([needle] * 4)
    return " AND ".join(clauses), params


def user_join(q: EnrollmentQuery) -> str:
    """The join to `users u` an EnrollmentQuery needs, if any."""
    needed = q.department_uuids is not None or q.user_statuses is not None
    return "JOIN users u ON u.uuid = e.user_uuid" if needed else ""


def enrollment_filter(q: EnrollmentQuery) -> tuple[str, list[Any]]:
    """The WHERE clause (over `enrollments e`) and parameters of an EnrollmentQuery."""
    clauses: list[str] = ["e.key > ?"]
    params: list[Any] = [q.after_key]
    _in("e.uuid", q.uuids, clauses, params)
    _in("e.user_uuid", q.user_uuids, clauses, params)
    # several items: walk the primary key (the page is in key order) instead of collecting every enrollment
    # of those items from their index and sorting them all for each page; one item: its index is in key order
    _in("+e.item_uuid", q.item_uuids, clauses, params)
    _in("u.department_uuid", q.department_uuids, clauses, params)
    _in("u.status", q.user_statuses, clauses, params)
    _in("e.status", q.completion_statuses, clauses, params)
    if q.item_kind is not None:
        clauses.append("e.item_uuid IN (SELECT uuid FROM items WHERE kind = ?)")
        params.append(q.item_kind)
    for column, low, high in (
        ("e.access_date", q.access_from, q.access_to),
        ("e.due_date", q.due_from, q.due_to),
        ("e.completion_date", q.completion_from, q.completion_to),
    ):
        if low is not None:
            clauses.append(f"{column} >= ?")
            params.append(to_db(low))
        if high is not None:
            clauses.append(f"{column} <= ?")
            params.append(to_db(high))
    return " AND ".join(clauses), params

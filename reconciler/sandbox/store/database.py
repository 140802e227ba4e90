"""The sandbox store: one SQLite database (a file or `:memory:`) behind both vendor emulators.

Entities are keyed by their iSpring UUID and also carry a Litmos id and `OriginalId` (see `ids.py`).
One lock serialises access, so a threaded WSGI server can share a Store.
"""

# SQL text is assembled only from constants and whitelisted column names; values are always parameters.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from reconciler.sandbox.store import sql
from reconciler.sandbox.store.ids import ispring_uuid, result_id
from reconciler.sandbox.store.records import (
    DepartmentRow,
    EnrollmentQuery,
    EnrollmentRow,
    GroupRow,
    ItemRow,
    NotificationRow,
    Progress,
    RequestLogEntry,
    Terms,
    TokenRow,
    UserQuery,
    UserRow,
)

ALL_USERS = UserQuery()
ALL_ENROLLMENTS = EnrollmentQuery()


class Store:
    """SQLite-backed state of one sandbox LMS, shared by the iSpring and Litmos emulators."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self._depth = 0
        with self._lock:
            self._db.executescript(sql.SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('enrollment_sequence', '0')",
                (sql.SCHEMA_VERSION,),
            )

    @classmethod
    def open(cls, path: str) -> Store:
        """Open (creating if missing) the store at `path`, or an in-memory one for `:memory:`."""
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction (nestable); rolls back if the block raises."""
        with self._lock:
            if self._depth == 0:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(query, params).fetchall()

    # --- meta ---------------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A free-form setting (e.g. `seeded_from`), or None."""
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a free-form setting."""
        with self.transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def is_empty(self) -> bool:
        """True when no organisation has been loaded yet."""
        return not self._rows("SELECT 1 FROM users LIMIT 1") and not self._rows("SELECT 1 FROM items LIMIT 1")

    # --- bulk loading (seeding) -----------------------------------------------------------------------------

    def insert_departments(self, rows: Iterable[DepartmentRow]) -> None:
        """Add departments (parents before or after children: the tree is by uuid)."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO departments (uuid, litmos_id, original_id, name, path, parent_uuid, code) "
                "VALUES (?,?,?,?,?,?,?)",
                ((d.uuid, d.litmos_id, d.original_id, d.name, d.path, d.parent_uuid, d.code) for d in rows),
            )

    def insert_groups(self, rows: Iterable[GroupRow]) -> None:
        """Add groups."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO groups (uuid, litmos_id, original_id, name) VALUES (?,?,?,?)",
                ((g.uuid, g.litmos_id, g.original_id, g.name) for g in rows),
            )

    def insert_users(self, rows: Iterable[UserRow]) -> None:
        """Add users with their group memberships and managed departments."""
        users = list(rows)
        with self.transaction():
            self._db.executemany(
                "INSERT INTO users (uuid, litmos_id, original_id, login, email, first_name, last_name, "
                "status, department_uuid, role, job_title, added_date) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (
                        *(u.uuid, u.litmos_id, u.original_id, u.login, u.email, u.first_name, u.last_name),
                        *(u.status, u.department_uuid, u.role, u.job_title, sql.to_db(u.added_date)),
                    )
                    for u in users
                ),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO user_groups VALUES (?, ?)",
                ((u.uuid, g) for u in users for g in u.group_uuids),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO user_managed_departments VALUES (?, ?)",
                ((u.uuid, d) for u in users for d in u.manageable_department_uuids),
            )

    def insert_items(self, rows: Iterable[ItemRow]) -> None:
        """Add courses and learning paths (with their course lists)."""
        items = list(rows)
        with self.transaction():
            self._db.executemany(
                "INSERT INTO items (uuid, litmos_id, original_id, kind, title, code, active, created_date, "
                "default_due_hours) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    (
                        *(i.uuid, i.litmos_id, i.original_id, i.kind, i.title, i.code, int(i.active)),
                        *(sql.to_db(i.created_date), i.default_due_hours),
                    )
                    for i in items
                ),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO path_courses VALUES (?, ?, ?)",
                ((i.uuid, c, n) for i in items for n, c in enumerate(i.course_uuids)),
            )

    def insert_enrollments(self, rows: Iterable[EnrollmentRow]) -> None:
        """Add enrollments as they are (the `key` field is ignored and assigned by the store)."""
        with self.transaction():
            self._db.executemany(sql.ENROLLMENT_INSERT, (sql.enrollment_values(e) for e in rows))

    # --- directory reads ------------------------------------------------------------------------------------

    def departments(self) -> list[DepartmentRow]:
        """Every department, in load order."""
        return [sql.department(r) for r in self._rows("SELECT * FROM departments ORDER BY key")]

    def get_department(self, value: str | int, by: str = "uuid") -> DepartmentRow | None:
        """The department whose `by` field (uuid, litmos_id, original_id, name, path) equals `value`."""
        rows = self._rows(
            f"SELECT * FROM departments WHERE {sql.field(by)} = ? ORDER BY key LIMIT 1", (value,)
        )
        return sql.department(rows[0]) if rows else None

    def department_subtree(self, uuids: Iterable[str]) -> frozenset[str]:
        """The given departments and all their sub-departments (unknown uuids are dropped)."""
        rows = self._rows(
            "WITH RECURSIVE tree(uuid) AS (SELECT uuid FROM departments WHERE uuid IN "
            "(SELECT value FROM json_each(?)) UNION SELECT d.uuid FROM departments d JOIN tree "
            "ON d.parent_uuid = tree.uuid) SELECT uuid FROM tree",
            (sql.json_set(uuids),),
        )
        return frozenset(r[0] for r in rows)

    def groups(self) -> list[GroupRow]:
        """Every group, in load order."""
        return [GroupRow(*r[1:]) for r in self._rows("SELECT * FROM groups ORDER BY key")]

    def get_group(self, value: str | int, by: str = "uuid") -> GroupRow | None:
        """The group whose `by` field (uuid, litmos_id, original_id, name) equals `value`."""
        rows = self._rows(f"SELECT * FROM groups WHERE {sql.field(by)} = ? ORDER BY key LIMIT 1", (value,))
        return GroupRow(*rows[0][1:]) if rows else None

    def users(self, query: UserQuery = ALL_USERS, offset: int = 0, limit: int | None = None) -> list[UserRow]:
        """Users matching `query`, in load order, from `offset`, at most `limit` (None = all)."""
        where, params = sql.user_filter(query)
        rows = self._rows(
            f"SELECT {sql.USER_COLUMNS} FROM users u WHERE {where} ORDER BY u.key LIMIT ? OFFSET ?",
            (*params, -1 if limit is None else limit, offset),
        )
        return [sql.user(r) for r in rows]

    def count_users(self, query: UserQuery = ALL_USERS) -> int:
        """How many users match `query`."""
        where, params = sql.user_filter(query)
        return int(self._rows(f"SELECT count(*) FROM users u WHERE {where}", params)[0][0])

    def get_user(self, value: str | int, by: str = "uuid") -> UserRow | None:
        """The user whose `by` field (uuid, litmos_id, original_id, login, email) equals `value`."""
        column = "lower(u.login)" if by == "login" else f"u.{sql.field(by)}"
        needle = value.lower() if by == "login" and isinstance(value, str) else value
        rows = self._rows(f"SELECT {sql.USER_COLUMNS} FROM users u WHERE {column} = ? LIMIT 1", (needle,))
        return sql.user(rows[0]) if rows else None

    def items(self, kind: str | None = None) -> list[ItemRow]:
        """Every course and learning path (or only one `kind`), in load order."""
        where, params = ("i.kind = ?", (kind,)) if kind else ("1", ())
        rows = self._rows(f"SELECT {sql.ITEM_COLUMNS} FROM items i WHERE {where} ORDER BY i.key", params)
        return [sql.item(r) for r in rows]

    def get_item(self, value: str | int, by: str = "uuid") -> ItemRow | None:
        """The item whose `by` field (uuid, litmos_id, original_id, title) equals `value`."""
        rows = self._rows(
            f"SELECT {sql.ITEM_COLUMNS} FROM items i WHERE i.{sql.field(by)} = ? LIMIT 1", (value,)
        )
        return sql.item(rows[0]) if rows else None

    # --- enrollments ----------------------------------------------------------------------------------------

    def enrollments(
        self, query: EnrollmentQuery = ALL_ENROLLMENTS, limit: int | None = None, offset: int = 0
    ) -> list[EnrollmentRow]:
        """Enrollments matching `query`, ordered by key (page with `after_key`, or `offset`)."""
        where, params = sql.enrollment_filter(query)
        rows = self._rows(
            f"SELECT {sql.ENROLLMENT_COLUMNS} FROM enrollments e {sql.user_join(query)} WHERE {where} "
            "ORDER BY e.key LIMIT ? OFFSET ?",
            (*params, -1 if limit is None else limit, offset),
        )
        return [sql.enrollment(r) for r in rows]

    def count_enrollments(self, query: EnrollmentQuery = ALL_ENROLLMENTS) -> int:
        """How many enrollments match `query` (ignoring `after_key`)."""
        where, params = sql.enrollment_filter(replace(query, after_key=0))
        rows = self._rows(f"SELECT count(*) FROM enrollments e {sql.user_join(query)} WHERE {where}", params)
        return int(rows[0][0])

    def get_enrollment(self, uuid: str) -> EnrollmentRow | None:
        """The enrollment with this iSpring id."""
        rows = self._rows(f"SELECT {sql.ENROLLMENT_COLUMNS} FROM enrollments e WHERE e.uuid = ?", (uuid,))
        return sql.enrollment(rows[0]) if rows else None

    def find_enrollment(self, user_uuid: str, item_uuid: str) -> EnrollmentRow | None:
        """The enrollment of this user in this item, if any."""
        rows = self._rows(
            f"SELECT {sql.ENROLLMENT_COLUMNS} FROM enrollments e WHERE e.user_uuid = ? AND e.item_uuid = ?",
            (user_uuid, item_uuid),
        )
        return sql.enrollment(rows[0]) if rows else None

    def enroll(
        self, user_uuid: str, item_uuid: str, terms: Terms, now: dt.datetime, origin: str = "admin"
    ) -> tuple[EnrollmentRow, bool]:
        """Enroll a user in an item; an existing enrollment is returned unchanged with `False`."""
        with self.transaction():
            existing = self.find_enrollment(user_uuid, item_uuid)
            if existing is not None:
                return existing, False
            sequence = int(self.get_meta("enrollment_sequence") or 0) + 1
            self.set_meta("enrollment_sequence", str(sequence))
            # A sequence number keeps a re-enrollment after an unenroll from reusing the old id.
            uuid = ispring_uuid("enrollment", f"{user_uuid}\x1f{item_uuid}\x1f{sequence}")
            row = EnrollmentRow(uuid, result_id(uuid), item_uuid, user_uuid, terms, origin, Progress(), now)
            self._db.execute(sql.ENROLLMENT_INSERT, sql.enrollment_values(row))
            created = self.get_enrollment(uuid)
        assert created is not None
        return created, True

    def update_terms(self, uuid: str, terms: Terms) -> EnrollmentRow | None:
        """Replace an enrollment's terms; None if it does not exist."""
        with self.transaction():
            self._db.execute(
                "UPDATE enrollments SET access_date=?, due_type=?, due_date=?, due_period_hours=?, "
                "lock_after_due=?, expiration_date=? WHERE uuid=?",
                (*sql.terms_values(terms), uuid),
            )
            return self.get_enrollment(uuid)

    def update_progress(self, uuid: str, progress: Progress) -> EnrollmentRow | None:
        """Replace an enrollment's progress (tests and scenario scripts use this); None if missing."""
        with self.transaction():
            self._db.execute(
                "UPDATE enrollments SET status=?, progress=?, completion_date=?, score=?, time_spent=?, "
                "views_count=? WHERE uuid=?",
                (*sql.progress_values(progress), uuid),
            )
            return self.get_enrollment(uuid)

    def delete_enrollment(self, uuid: str) -> bool:
        """Remove an enrollment; False if there was none."""
        with self.transaction():
            return self._db.execute("DELETE FROM enrollments WHERE uuid = ?", (uuid,)).rowcount > 0

    # --- request log, notifications, tokens -----------------------------------------------------------------

    def log_request(self, entry: RequestLogEntry) -> None:
        """Record one API call."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO request_log (vendor, method, path, action, status, duration_ms, at, detail, "
                "client) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    *(entry.vendor, entry.method, entry.path, entry.action, entry.status, entry.duration_ms),
                    *(sql.to_db(entry.at), entry.detail, entry.client),
                ),
            )

    def request_log(self, vendor: str | None = None) -> list[RequestLogEntry]:
        """Every recorded call (of one vendor), oldest first."""
        where, params = ("vendor = ?", (vendor,)) if vendor else ("1", ())
        rows = self._rows(
            "SELECT vendor, method, path, action, status, duration_ms, at, detail, client FROM request_log "
            f"WHERE {where} ORDER BY key",
            params,
        )
        return [
            RequestLogEntry(v, m, p, a, s, d, sql.from_db(at) or dt.datetime.min, detail, client)
            for v, m, p, a, s, d, at, detail, client in rows
        ]

    def request_summary(self) -> list[tuple[str, str, int, int]]:
        """(vendor, action, status, calls) for every combination seen, sorted."""
        rows = self._rows(
            "SELECT vendor, action, status, count(*) FROM request_log GROUP BY vendor, action, status "
            "ORDER BY vendor, action, status"
        )
        return [(str(v), str(a), int(s), int(n)) for v, a, s, n in rows]

    def add_notification(self, note: NotificationRow) -> None:
        """Record an e-mail the vendor would have sent."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO notifications (vendor, user_uuid, item_uuid, kind, at) VALUES (?,?,?,?,?)",
                (note.vendor, note.user_uuid, note.item_uuid, note.kind, sql.to_db(note.at)),
            )

    def notifications(self, vendor: str | None = None) -> list[NotificationRow]:
        """Every recorded notification (of one vendor), oldest first."""
        where, params = ("vendor = ?", (vendor,)) if vendor else ("1", ())
        rows = self._rows(
            f"SELECT vendor, user_uuid, item_uuid, kind, at FROM notifications WHERE {where} ORDER BY key",
            params,
        )
        return [NotificationRow(v, u, i, k, sql.from_db(at) or dt.datetime.min) for v, u, i, k, at in rows]

    def save_token(self, token: TokenRow) -> None:
        """Remember an issued access token."""
        scope = None if token.department_uuids is None else sql.json_set(token.department_uuids)
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)",
                (token.token, token.client_id, sql.to_db(token.expires_at), scope),
            )

    def get_token(self, token: str) -> TokenRow | None:
        """An issued token (expired ones too: the caller compares `expires_at` with its clock)."""
        rows = self._rows(
            "SELECT token, client_id, expires_at, departments FROM tokens WHERE token = ?", (token,)
        )
        if not rows:
            return None
        value, client, expires, scope = rows[0]
        departments = None if scope is None else frozenset(sql.json_set_load(scope))
        return TokenRow(value, client, sql.from_db(expires) or dt.datetime.min, departments)

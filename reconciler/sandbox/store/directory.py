"""Changes to the people of a seeded store: what HR changes in a real LMS (joiners, leavers, moves).

A mixin of `Store`, kept apart so the store module stays about reading and enrolling; enrollments are never
touched here, so a leaver or a move keeps every enrollment and its progress.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager

from reconciler.sandbox.store.records import UserRow


class DirectoryWrites:
    """`update_users`: rewrite users in place (same key, so paging order and enrollments stay)."""

    _db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def update_users(self, rows: Iterable[UserRow]) -> None:
        """Replace the fields, groups and managed departments of existing users (matched by uuid)."""
        users = list(rows)
        with self.transaction():
            self._db.executemany(
                "UPDATE users SET email = ?, first_name = ?, last_name = ?, status = ?, department_uuid = ?, "
                "role = ?, job_title = ? WHERE uuid = ?",
                (_user_fields(u) for u in users),
            )
            for table in ("user_groups", "user_managed_departments"):
                self._db.executemany(f"DELETE FROM {table} WHERE user_uuid = ?", ((u.uuid,) for u in users))  # noqa: S608
            self._db.executemany(
                "INSERT OR IGNORE INTO user_groups VALUES (?, ?)",
                ((u.uuid, g) for u in users for g in u.group_uuids),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO user_managed_departments VALUES (?, ?)",
                ((u.uuid, d) for u in users for d in u.manageable_department_uuids),
            )

    def set_user_status(self, uuid: str, status: str) -> None:
        """A leaver (or a returner): only the status changes."""
        with self.transaction():
            self._db.execute("UPDATE users SET status = ? WHERE uuid = ?", (status, uuid))

    def move_user(self, uuid: str, department_uuid: str | None) -> None:
        """A move: only the department changes."""
        with self.transaction():
            self._db.execute("UPDATE users SET department_uuid = ? WHERE uuid = ?", (department_uuid, uuid))


def _user_fields(u: UserRow) -> tuple[object, ...]:
    return (u.email, u.first_name, u.last_name, u.status, u.department_uuid, u.role, u.job_title, u.uuid)

"""Rows the sandbox store holds and the queries it answers: plain frozen data, vendor-neutral.

Dates are timezone-aware UTC datetimes. Completion statuses use iSpring's vocabulary (`not_started`,
`in_progress`, `complete`, `passed`, ...); the Litmos emulator maps them to its own booleans.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

UserStatusName = Literal["active", "blocked", "inactive", "employment_ended"]
RoleName = Literal["learner", "administrator", "department_administrator"]
ItemKindName = Literal["course", "learning_path"]
DueTypeName = Literal["unlimited", "default", "due_date", "due_period"]
OriginName = Literal["admin", "catalog"]

USER_STATUSES: tuple[str, ...] = ("active", "blocked", "inactive", "employment_ended")
ROLES: tuple[str, ...] = ("learner", "administrator", "department_administrator")
DUE_TYPES: tuple[str, ...] = ("unlimited", "default", "due_date", "due_period")
ORIGINS: tuple[str, ...] = ("admin", "catalog")
COMPLETION_STATUSES: tuple[str, ...] = (
    "not_started",
    "in_progress",
    "pending",
    "complete",
    "passed",
    "accepted",
    "incomplete",
    "failed",
    "declined",
)
FINISHED_STATUSES = frozenset({"complete", "passed", "accepted"})


@dataclass(frozen=True)
class DepartmentRow:
    """A department; `path` is `Acme/Sales/EMEA`; Litmos presents it as a team with `ParentTeamId`."""

    uuid: str
    litmos_id: str
    original_id: int
    name: str
    path: str
    parent_uuid: str | None = None
    code: str = ""


@dataclass(frozen=True)
class GroupRow:
    """A group (iSpring group; Litmos team without a parent)."""

    uuid: str
    litmos_id: str
    original_id: int
    name: str


@dataclass(frozen=True)
class UserRow:
    """A user with their department, groups, role and (for department administrators) managed departments."""

    uuid: str
    litmos_id: str
    original_id: int
    login: str
    email: str
    first_name: str
    last_name: str
    status: str = "active"
    department_uuid: str | None = None
    role: str = "learner"
    group_uuids: tuple[str, ...] = ()
    manageable_department_uuids: tuple[str, ...] = ()
    job_title: str = ""
    added_date: dt.datetime | None = None


@dataclass(frozen=True)
class ItemRow:
    """A course or a learning path (iSpring learning track); a path lists its courses in order."""

    uuid: str
    litmos_id: str
    original_id: int
    kind: str  # ItemKindName
    title: str
    code: str = ""
    active: bool = True
    created_date: dt.datetime | None = None
    # inferred: the vendors' "default" due term is an item setting the docs don't show; None = no due date.
    default_due_hours: int | None = None
    course_uuids: tuple[str, ...] = ()
    valid_days: int | None = None  # extension: days a completion stays compliant (Litmos `CompliantTill`)

    def compliant_till(self, completed: dt.datetime | None) -> dt.datetime | None:
        """Until when a completion keeps the learner compliant; None without a period or a completion."""
        if completed is None or self.valid_days is None:
            return None
        return completed + dt.timedelta(days=self.valid_days)


@dataclass(frozen=True)
class Terms:
    """The terms of one enrollment, as stored: `due_date` is already resolved for every due type."""

    access_date: dt.datetime
    due_type: str = "default"  # DueTypeName
    due_date: dt.datetime | None = None
    due_period_hours: int | None = None
    lock_after_due: bool = False

    @property
    def expiration_date(self) -> dt.datetime | None:
        """iSpring reports an expiration date only when the item locks after its due date."""
        return self.due_date if self.lock_after_due else None


@dataclass(frozen=True)
class Progress:
    """How far the learner got in one enrollment."""

    status: str = "not_started"
    progress: float = 0.0
    completion_date: dt.datetime | None = None
    score: float | None = None
    time_spent: int = 0  # seconds
    views_count: int = 0


@dataclass(frozen=True)
class EnrollmentRow:
    """One user in one item. `key` is the store's ordering key (for keyset paging), not a vendor id."""

    uuid: str
    result_id: int
    item_uuid: str
    user_uuid: str
    terms: Terms
    origin: str = "admin"  # OriginName
    progress: Progress = field(default_factory=Progress)
    assigned_date: dt.datetime | None = None
    key: int = 0


@dataclass(frozen=True)
class UserQuery:
    """Which users to list; None means no filter. Department filters match exactly (expand subtrees first)."""

    uuids: frozenset[str] | None = None
    department_uuids: frozenset[str] | None = None
    group_uuids: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    search: str | None = None  # case-insensitive substring of login, email, first or last name


@dataclass(frozen=True)
class EnrollmentQuery:
    """Which enrollments to list; None means no filter; ranges are inclusive; `after_key` pages by key."""

    uuids: frozenset[str] | None = None
    user_uuids: frozenset[str] | None = None
    item_uuids: frozenset[str] | None = None
    item_kind: str | None = None
    department_uuids: frozenset[str] | None = None  # of the user, exact match
    user_statuses: frozenset[str] | None = None
    completion_statuses: frozenset[str] | None = None
    access_from: dt.datetime | None = None
    access_to: dt.datetime | None = None
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    completion_from: dt.datetime | None = None
    completion_to: dt.datetime | None = None
    after_key: int = 0


@dataclass(frozen=True)
class RequestLogEntry:
    """One API call the emulator answered."""

    vendor: str
    method: str  # HTTP method
    path: str
    action: str  # SOAP action or a route name such as `GET /users/{id}/courses`
    status: int
    duration_ms: float
    at: dt.datetime
    detail: str = ""
    client: str = ""  # client id or api key label, never the secret itself


@dataclass(frozen=True)
class NotificationRow:
    """An e-mail the vendor would have sent."""

    vendor: str
    user_uuid: str
    item_uuid: str | None
    kind: str  # e.g. `course_assigned`, `enrolled`
    at: dt.datetime


@dataclass(frozen=True)
class TokenRow:
    """An issued access token; `department_uuids` is the scope of a department administrator (None = all)."""

    token: str
    client_id: str
    expires_at: dt.datetime
    department_uuids: frozenset[str] | None = None


def resolve_due_date(
    access: dt.datetime,
    due_type: str,
    due_date: dt.datetime | None,
    due_period_hours: int | None,
    item_default_hours: int | None,
) -> dt.datetime | None:
    """The due date an enrollment ends up with, for each of iSpring's four due types."""
    if due_type == "due_date":
        return due_date
    if due_type == "due_period" and due_period_hours is not None:
        return access + dt.timedelta(hours=due_period_hours)
    if due_type == "default" and item_default_hours is not None:
        return access + dt.timedelta(hours=item_default_hours)
    return None

"""The domain model: manifests (Config, Policy), the LMS directory, enrollments and snapshots.

Everything here is frozen data with no I/O. Manifest objects carry the `Position` they were read from, so
any later error (resolution, guard, scope) can point at `file:line:col`. Ids are vendor ids as strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.core.attributes import FieldCondition
from reconciler.core.period import Recurrence
from reconciler.errors import Position

NOWHERE = Position("")


# --- enumerations --------------------------------------------------------------------------------------


class ProviderKind(StrEnum):
    ISPRING = "ispring"
    LITMOS = "litmos"


class UserStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    INACTIVE = "inactive"
    EMPLOYMENT_ENDED = "employment_ended"


class ItemKind(StrEnum):
    COURSE = "course"
    LEARNING_PATH = "learning_path"


class DueKind(StrEnum):
    DEFAULT = "default"  # the vendor's own default for the item
    UNLIMITED = "unlimited"  # no due date
    DATE = "date"  # a fixed calendar date
    WITHIN = "within"  # a period after the enrollment's access date


class Origin(StrEnum):
    ADMIN = "admin"  # assigned by an administrator (iSpring enrollmentTypeGroup 0)
    CATALOG = "catalog"  # chosen by the learner from the catalog (enrollmentTypeGroup 1)


class Completion(StrEnum):
    """Progress of one enrollment, reduced to what protection rules need."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


# --- manifest: enrollctl.yaml ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderConfig:
    """One LMS account. Secrets are never stored here, only the names of environment variables."""

    name: str
    kind: ProviderKind
    url: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    token_env: str | None = None
    api_key_env: str | None = None
    source: str = "enrollctl"
    requests_per_minute: int | None = None
    concurrency: int | None = None  # write calls in flight at once; None: the vendor's default
    sandbox: str | None = None  # path of a sandbox organisation file, relative to the repository root
    insecure_http: bool = False  # allow plain http:// to a non-loopback host (credentials in clear text)
    api: str = "rest"  # iSpring: "rest" (REST v3) or "soap" (SOAP API 2.0)
    position: Position = NOWHERE


DEFAULT_USER_STATUSES: tuple[UserStatus, ...] = (UserStatus.ACTIVE,)


@dataclass(frozen=True)
class Settings:
    """Repository-wide settings (`settings:` in enrollctl.yaml)."""

    user_statuses: tuple[UserStatus, ...] = DEFAULT_USER_STATUSES
    max_removals: int = 25
    max_removal_share: float = 0.10


@dataclass(frozen=True)
class Scope:
    """One entry of `scopes:` (extension): what the policies in files matching `policies` may target.

    Patterns are globs: `*` within one path segment, `**` any number of segments (none included). See
    `reconciler.manifest.scope` for the rules.
    """

    policies: str  # glob over policy file paths, relative to the repository root
    departments: tuple[str, ...] = ()  # department path globs the policies may target
    groups: tuple[str, ...] = ()  # group name globs the policies may target
    users: bool = True  # may list individual users
    everyone: bool = False  # may target everyone
    position: Position = NOWHERE


@dataclass(frozen=True)
class Config:
    """enrollctl.yaml. `root` is the repository directory the relative paths in it are resolved against."""

    root: str
    policies: tuple[str, ...] = ("policies",)
    providers: Mapping[str, ProviderConfig] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    version: int = 1
    position: Position = NOWHERE
    scopes: tuple[Scope, ...] = ()  # extension: which policy files may target what


# --- manifest: Policy ----------------------------------------------------------------------------------


class RefBy(StrEnum):
    """How a reference names its target."""

    NAME = "name"  # department path, group name, item title, or user login-or-email
    ID = "id"


@dataclass(frozen=True)
class DepartmentRef:
    """`Acme/Sales`, `{path: Acme/Sales, recursive: false}` or `{id: ...}`."""

    value: str
    by: RefBy = RefBy.NAME
    recursive: bool = True
    position: Position = NOWHERE


@dataclass(frozen=True)
class GroupRef:
    """A group by exact name or `{id: ...}`; groups are never recursive."""

    value: str
    by: RefBy = RefBy.NAME
    position: Position = NOWHERE


@dataclass(frozen=True)
class UserRef:
    """A user by login, email (both `RefBy.NAME`) or `{id: ...}`."""

    value: str
    by: RefBy = RefBy.NAME
    position: Position = NOWHERE


@dataclass(frozen=True)
class Exclusions:
    departments: tuple[DepartmentRef, ...] = ()
    groups: tuple[GroupRef, ...] = ()
    users: tuple[UserRef, ...] = ()


@dataclass(frozen=True)
class Targets:
    """Who a policy applies to: the union of these, minus `exclude`."""

    everyone: bool = False
    departments: tuple[DepartmentRef, ...] = ()
    groups: tuple[GroupRef, ...] = ()
    users: tuple[UserRef, ...] = ()
    exclude: Exclusions = field(default_factory=Exclusions)
    everyone_position: Position = NOWHERE  # where `everyone:` is written, for scope diagnostics
    where: tuple[FieldCondition, ...] = ()  # extension: profile-field conditions that narrow the targets
    joined_within_hours: int | None = None  # extension: only users who joined within this period


@dataclass(frozen=True)
class Due:
    """When an enrollment is due. `date` for DATE, `hours` for WITHIN, neither otherwise."""

    kind: DueKind = DueKind.DEFAULT
    date: dt.date | None = None
    hours: int | None = None
    from_hire_date: bool = False  # WITHIN counted from the learner's hire date (resolved per learner)

    def __str__(self) -> str:
        if self.kind is DueKind.DATE and self.date is not None:
            return self.date.isoformat()
        if self.kind is DueKind.WITHIN and self.hours is not None:
            anchor = " of hire date" if self.from_hire_date else ""
            return f"within {format_hours(self.hours)}{anchor}"
        return self.kind.value


def format_hours(hours: int) -> str:
    """Render a period the way manifests write it: 2w, 30d, 36h."""
    if hours % (24 * 7) == 0:
        return f"{hours // (24 * 7)}w"
    if hours % 24 == 0:
        return f"{hours // 24}d"
    return f"{hours}h"


@dataclass(frozen=True)
class Terms:
    """What a policy says about an enrollment."""

    due: Due = field(default_factory=Due)
    lock_after_due: bool = False
    access: dt.date | None = None  # start of access; None = when enrolled
    recur: Recurrence | None = None  # extension: take it again every period (re-enroll / reset)


@dataclass(frozen=True)
class ItemRef:
    """A course or learning path by exact title or `{id: ...}`."""

    kind: ItemKind
    value: str
    by: RefBy = RefBy.NAME
    position: Position = NOWHERE


@dataclass(frozen=True)
class Assignment:
    """One entry of `spec.assign`: an item and its terms."""

    item: ItemRef
    terms: Terms = field(default_factory=Terms)
    position: Position = NOWHERE


@dataclass(frozen=True)
class Policy:
    """One Policy document. `position` is where the document starts."""

    name: str
    targets: Targets
    assign: tuple[Assignment, ...]
    provider: str | None = None
    owner: str | None = None
    description: str | None = None
    prune: bool = False
    prune_catalog: bool = False  # extension: also prune enrollments learners chose from the catalog
    notify: bool = True
    position: Position = NOWHERE


# --- the LMS directory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    parent_id: str | None = None


@dataclass(frozen=True)
class Group:
    id: str
    name: str


@dataclass(frozen=True)
class User:
    id: str
    login: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    status: UserStatus = UserStatus.ACTIVE
    department_id: str | None = None
    group_ids: frozenset[str] = frozenset()
    fields: tuple[tuple[str, str], ...] = ()  # profile fields as the vendor names them (JOB_TITLE, JobTitle)
    joined: dt.datetime | None = None  # when they joined: iSpring addedDate, Litmos CreatedDate

    @property
    def display(self) -> str:
        """How plans name a user: the login, which is what manifests use."""
        return self.login


@dataclass(frozen=True)
class Item:
    """A course or learning path of the catalog."""

    id: str
    kind: ItemKind
    title: str


@dataclass(frozen=True)
class Directory:
    """What the provider knows about people and things. Lookups are built by `desired`, not stored here."""

    users: tuple[User, ...] = ()
    departments: tuple[Department, ...] = ()
    groups: tuple[Group, ...] = ()
    items: tuple[Item, ...] = ()
    user_fields: tuple[str, ...] = ()  # profile fields the vendor exposes (candidates for `where`)
    joined_from: str = ""  # the vendor field `joined` is read from ("" = not read)


# --- enrollments ---------------------------------------------------------------------------------------


EnrollmentKey = tuple[str, str]  # (user_id, item_id): one user in one item


# slots: a provider may return a million of these; ~100 bytes saved on each
@dataclass(frozen=True, slots=True)
class Enrollment:
    """One user in one item as the LMS holds it, with its terms and progress.

    `due` is the absolute due date/time the vendor reports (None = no due date). `due_hours` is set where the
    vendor stores a period rather than a date (iSpring `due_period`), so relative terms compare without drift.
    `due_is_default` is True when the vendor reports the item's own default terms.
    """

    user_id: str
    item_id: str
    item_kind: ItemKind = ItemKind.COURSE
    id: str | None = None  # the vendor's enrollment id, where it has one
    access: dt.datetime | None = None
    due: dt.datetime | None = None
    due_hours: int | None = None
    due_is_default: bool = False
    lock_after_due: bool = False
    origin: Origin = Origin.ADMIN
    completion: Completion = Completion.NOT_STARTED
    progress: float = 0.0  # percent, 0..100
    completed_at: dt.datetime | None = None
    # Fail closed: why the vendor's answer could not be read for certain, naming the field and quoting its
    # raw value (e.g. "PercentageComplete '40,00' is not a number"); "" when every value was read. An
    # unknown enrollment is never removed, whatever the flags, and a pruning plan with any is refused.
    unknown: str = ""

    @property
    def key(self) -> EnrollmentKey:
        return (self.user_id, self.item_id)

    @property
    def started(self) -> bool:
        """True when removing it would destroy training records (or it cannot be told: unknown)."""
        return bool(self.unknown) or self.completion is not Completion.NOT_STARTED or self.progress > 0


@dataclass(frozen=True)
class Capabilities:
    """What a vendor can do; validation and planning consult this before anything runs."""

    item_kinds: frozenset[ItemKind] = frozenset({ItemKind.COURSE, ItemKind.LEARNING_PATH})
    due_dates: bool = True  # per-enrollment due dates can be set
    due_periods: bool = True  # a due date can be stored as a period after access
    lock_after_due: bool = True
    access_dates: bool = True
    update_terms: bool = True  # terms of an existing enrollment can be changed
    remove: bool = True
    notify_switch: bool = False  # the vendor can be asked not to e-mail learners
    reenroll: frozenset[ItemKind] = frozenset()  # item kinds an enrollment can be started over in
    enroll_batch_users: int = 1  # learners per enroll call
    enroll_batch_items: int = 1  # items per enroll call
    read_batch_users: int = 0  # users per bulk enrollment read (0 = no bulk read)
    requests_per_minute: int | None = None
    concurrency: int = 1  # write calls apply may have in flight at once (enrollctl.yaml or vendor default)


@dataclass(frozen=True)
class Snapshot:
    """What the LMS holds now, as read for one plan.

    `managed_item_ids` are the items whose enrollments were read (those the policies manage); enrollments in
    other items are not in `enrollments`. `scope_department_ids` is the caller's department scope (None =
    whole account), e.g. a department administrator's token.
    """

    provider: str
    kind: ProviderKind
    account: str
    directory: Directory
    enrollments: tuple[Enrollment, ...] = ()
    managed_item_ids: frozenset[str] = frozenset()
    scope_department_ids: frozenset[str] | None = None
    read_at: dt.datetime | None = None

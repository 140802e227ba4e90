"""iSpring response records → model objects: users, departments, groups, items, enrollments.

Field names follow the vendor samples (`userProfile`, `learnerResult`) and, where the SOAP pages show no
layout, the REST v3 schemas (`department{departmentId,name,parentDepartmentId}`, `enrollment{...}`).
A record without its id is a `ProtocolError`. What decides a removal or a protection (progress, completion
status and date, origin, terms and dates) is read strictly: a field the vendor leaves out keeps its default,
a present value that cannot be read for certain makes the enrollment unknown (`Enrollment.unknown`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from lxml import etree

from reconciler.core.model import (
    Completion,
    Department,
    Enrollment,
    Group,
    Item,
    ItemKind,
    Origin,
    User,
    UserStatus,
)
from reconciler.errors import ProtocolError
from reconciler.providers.ispring.soap import (
    PROVIDER,
    children,
    fields,
    fields_and_lists,
    ids,
)
from reconciler.providers.strict import Unreadable, joined, percent

# GetUsers v2: 1 active, 3 inactive, 5 employment ended (v1 reports 3 for both). ListLearnersResults calls
# status 3 "blocked": iSpring has one deactivated state, which enrollctl calls inactive.
USER_STATUSES = {"1": UserStatus.ACTIVE, "3": UserStatus.INACTIVE, "5": UserStatus.EMPLOYMENT_ENDED}
# inferred: any other code is a state we do not know; treating it as blocked keeps such users out of
# enrollment and out of pruning, which is the safe side.
UNKNOWN_USER_STATUS = UserStatus.BLOCKED

ITEM_KINDS = {"course": ItemKind.COURSE, "learningtrack": ItemKind.LEARNING_PATH}

COMPLETIONS = {
    "not_started": Completion.NOT_STARTED,
    "in_progress": Completion.IN_PROGRESS,
    "pending": Completion.IN_PROGRESS,  # awaiting an instructor's review
    "incomplete": Completion.IN_PROGRESS,
    "failed": Completion.IN_PROGRESS,  # attempted: a record worth protecting
    # inferred: "declined" (an instructor rejected the submission) still means the learner worked on it,
    # so it is protected like progress rather than treated as untouched.
    "declined": Completion.IN_PROGRESS,
    "complete": Completion.COMPLETED,
    "passed": Completion.COMPLETED,
    "accepted": Completion.COMPLETED,
}


T = TypeVar("T")
BOOLEANS = {"true": True, "false": False}
ORIGINS = {"0": Origin.ADMIN, "1": Origin.CATALOG}  # enrollmentTypeGroup, REST v3 `EnrollmentTypeGroup`
DUE_TYPES = {t: t for t in ("default", "unlimited", "due_date", "due_period")}

UNKNOWN_PROGRESS = Completion.IN_PROGRESS  # no result was returned: protect rather than risk a record


def _required(values: Mapping[str, str], name: str, call: str) -> str:
    value = values.get(name)
    if value is None:
        raise ProtocolError(f"<{name}> missing in a record", provider=PROVIDER, call=call)
    return value


def parse_datetime(value: str | None, *, field: str) -> dt.datetime | None:
    """Vendor dates in any of their forms (`2019-09-25`, `2019-09-24 10:30:00`, ISO with offset), as UTC.

    None when the field is left out; a present value that is no such date is `Unreadable`.
    """
    if value is None:
        return None
    try:
        return _moment(value)
    except ValueError:
        raise Unreadable(field, value, "is not a date") from None


@functools.lru_cache(maxsize=4096)
def _moment(value: str) -> dt.datetime:
    """A date or date-time text as UTC, once per distinct text: a listing repeats few of them (963 distinct
    in 212,000 dates of a 10,000-user read; learners enrolled by one call share its moment), and equal moments
    may share one immutable datetime. Bounded: an account of all-distinct moments costs about 1 MB here."""
    parsed = dt.datetime.fromisoformat(value)  # a ValueError is not remembered
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


class Reasons:
    """Collects why values of one record could not be read; each read falls back to its default."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def date(self, values: Mapping[str, str], name: str) -> dt.datetime | None:
        """`parse_datetime` of field `name`, or None with a reason."""
        try:
            return parse_datetime(values.get(name), field=name)
        except Unreadable as error:
            self.items.append(error.reason)
            return None

    def choice(self, values: Mapping[str, str], name: str, known: Mapping[str, T], default: T) -> T:
        """Field `name` (case-insensitive) from `known`; `default` when left out, or with a reason."""
        raw = values.get(name)
        if raw is None:
            return default
        if raw.lower() in known:
            return known[raw.lower()]
        self.items.append(Unreadable(name, raw, f"is not one of {', '.join(known)}").reason)
        return default

    def add(self, error: Unreadable) -> None:
        """Record a reason found by the caller."""
        self.items.append(error.reason)

    def __str__(self) -> str:
        return joined(self.items) if self.items else ""  # most records: nothing to join


def parse_user(element: etree._Element) -> User:
    """A `<userProfile>` of GetUsers."""
    values, lists = fields_and_lists(element, USER_LISTS)
    profile: dict[str, str] = {}
    profile_element = lists.get("fields")
    if profile_element is not None:
        for field in children(profile_element, "field"):
            pair = fields(field)
            if "name" in pair:
                profile[pair["name"]] = pair.get("value", "")
    return user_from(values, profile, ids(lists.get("groups")), call="GetUsers")


USER_LISTS = ("fields", "groups")  # the lists a `<userProfile>` holds


def user_from(
    values: Mapping[str, str], profile: Mapping[str, str], groups: Iterable[str], *, call: str
) -> User:
    """A user from its record's values and profile fields (names compared without case and `_`)."""
    named = {name.upper().replace("_", ""): value for name, value in profile.items()}
    return User(
        id=_required(values, "userId", call),
        login=named.get("LOGIN", ""),
        email=named.get("EMAIL", ""),
        first_name=named.get("FIRSTNAME", ""),
        last_name=named.get("LASTNAME", ""),
        status=USER_STATUSES.get(values.get("status", ""), UNKNOWN_USER_STATUS),
        department_id=values.get("departmentId"),
        group_ids=frozenset(groups),
        fields=tuple(sorted((name.upper(), value) for name, value in profile.items() if value)),
        joined=_day(values.get("addedDate")),
    )


# the profile fields of the vendor's GetUsers sample; an account's own (custom) fields are added as seen
STANDARD_USER_FIELDS = ("LOGIN", "EMAIL", "FIRST_NAME", "LAST_NAME", "JOB_TITLE", "COUNTRY")


def user_fields(users: list[User]) -> tuple[str, ...]:
    """Field names `targets.where` may use: the documented ones and every one a user carries."""
    seen = {name for user in users for name, _ in user.fields}
    return (*STANDARD_USER_FIELDS, *sorted(seen - set(STANDARD_USER_FIELDS)))


def _day(text: str | None) -> dt.datetime | None:
    """`addedDate` (`2019-04-30`) as midnight UTC; None when absent or unreadable (never a guess)."""
    try:
        day = dt.date.fromisoformat((text or "")[:10])
    except ValueError:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def parse_department(element: etree._Element) -> Department:
    """A `<department>` of GetDepartments (inferred layout: REST `Department`)."""
    return department_from(fields(element), call="GetDepartments")


def department_from(values: Mapping[str, str], *, call: str) -> Department:
    """A department from its record's values (REST `Department` names)."""
    return Department(
        id=_required(values, "departmentId", call),
        name=values.get("name", ""),
        parent_id=values.get("parentDepartmentId"),
    )


def parse_group(element: etree._Element) -> Group:
    """A `<group>` of GetGroups (inferred layout: REST `Group{groupId,name}`)."""
    return group_from(fields(element), call="GetGroups")


def group_from(values: Mapping[str, str], *, call: str) -> Group:
    """A group from its record's values (REST `Group` names)."""
    return Group(id=_required(values, "groupId", call), name=values.get("name", ""))


def parse_item(element: etree._Element) -> Item | None:
    """A `<contentItem>` of ListContent if it is a course or learning track; None for other materials."""
    return item_from(fields(element), call="ListContent")


def item_from(values: Mapping[str, str], *, call: str) -> Item | None:
    """A course or learning track from a content record's values; None for other materials."""
    item_id = _required(values, "contentItemId", call)
    if "contentItemType" not in values and "type" not in values:
        # without its type a managed course would silently vanish from the catalog
        raise ProtocolError("<contentItemType> missing in a record", provider=PROVIDER, call=call)
    kind_text = values.get("contentItemType") or values.get("type") or ""  # `type` is deprecated
    kind = ITEM_KINDS.get(kind_text.replace("_", "").replace(" ", "").lower())
    if kind is None:
        return None
    return Item(id=item_id, kind=kind, title=values.get("title", ""))


@dataclass(frozen=True)
class EnrollmentRecord:
    """An `<enrollment>` of ListEnrollments: terms and origin, no progress."""

    id: str
    user_id: str
    item_id: str
    access: dt.datetime | None
    due: dt.datetime | None
    due_type: str | None  # inferred: not in the REST schema; read when the server sends it
    due_hours: int | None
    lock_after_due: bool
    origin: Origin
    unknown: str = ""  # why a value could not be read for certain (see `Enrollment.unknown`)


@dataclass(frozen=True)
class ResultRecord:
    """A `<learnerResult>` of ListLearnersResults: progress and the precise dates."""

    enrollment_id: str | None
    user_id: str
    item_id: str
    access: dt.datetime | None
    due: dt.datetime | None
    completion: Completion
    progress: float
    completed_at: dt.datetime | None
    unknown: str = ""  # why a value could not be read for certain (see `Enrollment.unknown`)


def parse_enrollment(element: etree._Element) -> EnrollmentRecord:
    """An `<enrollment>` (layout: REST `Enrollment`; `dueDateType`/`duePeriod` used when present)."""
    return enrollment_from(fields(element), call="ListEnrollments")


def enrollment_from(values: Mapping[str, str], *, call: str) -> EnrollmentRecord:
    """Terms and origin from an enrollment record's values (REST `Enrollment` names)."""
    reasons = Reasons()
    lock_name = "shouldLockAfterDueDate" if "shouldLockAfterDueDate" in values else "lockAfterDueDate"
    period = values.get("duePeriod")
    if period is not None and not period.isdigit():
        reasons.add(Unreadable("duePeriod", period, "is not a whole number of hours"))
    return EnrollmentRecord(
        id=_required(values, "enrollmentId", call),
        user_id=_required(values, "learnerId", call),
        item_id=_required(values, "courseId", call),
        access=reasons.date(values, "accessDate"),
        due=reasons.date(values, "dueDate"),
        due_type=reasons.choice(values, "dueDateType", DUE_TYPES, None),
        due_hours=int(period) if period and period.isdigit() else None,
        lock_after_due=reasons.choice(values, lock_name, BOOLEANS, False),
        # left out (not in the SOAP pages): assigned by an administrator, as enrollctl always read it
        origin=reasons.choice(values, "enrollmentTypeGroup", ORIGINS, Origin.ADMIN),
        unknown=str(reasons),
    )


def parse_result(element: etree._Element) -> ResultRecord:
    """A `<learnerResult>` (layout: the ListLearnersResults sample); left-out progress is 0, not started."""
    return result_from(fields(element), call="ListLearnersResults")


def result_from(values: Mapping[str, str], *, call: str) -> ResultRecord:
    """Progress and dates from a learner result's values (REST `LearnerResult` names)."""
    reasons = Reasons()
    completion = reasons.choice(values, "completionStatus", COMPLETIONS, Completion.NOT_STARTED)
    if str(reasons):
        completion = UNKNOWN_PROGRESS  # a status we cannot read is never "not started"
    progress = 0.0
    raw = values.get("progress")
    if raw is not None:
        try:
            progress = percent("progress", raw, raw)
        except Unreadable as error:
            reasons.add(error)
    return ResultRecord(
        enrollment_id=values.get("enrollmentId"),
        user_id=_required(values, "userId", call),
        item_id=_required(values, "courseId", call),
        access=reasons.date(values, "accessDate"),
        due=reasons.date(values, "dueDate"),
        completion=completion,
        progress=progress,
        completed_at=reasons.date(values, "completionDate"),
        unknown=str(reasons),
    )


def join(
    enrollments: Iterable[EnrollmentRecord],
    results: Iterable[ResultRecord],
    item_kinds: Mapping[str, ItemKind],
) -> tuple[Enrollment, ...]:
    """Combine terms (ListEnrollments) with progress (ListLearnersResults) into model enrollments.

    Results are matched by enrollment id, else by (user, item). ListLearnersResults is asked for active and
    blocked users (the statuses it documents), so users whose employment ended, and anything else the
    vendor leaves out, have no result: their progress is unknown, and unknown counts as started, so such an
    enrollment is protected from removal instead of looking untouched.
    """
    by_id: dict[str, ResultRecord] = {}
    by_key: dict[tuple[str, str], ResultRecord] = {}
    for result in results:
        if result.enrollment_id:
            by_id[result.enrollment_id] = result
        by_key[(result.user_id, result.item_id)] = result
    joined = []
    for record in enrollments:
        match = by_id.get(record.id) or by_key.get((record.user_id, record.item_id))
        joined.append(_enrollment(record, match, item_kinds.get(record.item_id, ItemKind.COURSE)))
    return tuple(sorted(joined, key=lambda e: (e.item_id, e.user_id)))


def _enrollment(record: EnrollmentRecord, result: ResultRecord | None, kind: ItemKind) -> Enrollment:
    due_type = (record.due_type or "").lower()
    # results carry date and time; ListEnrollments only the date
    access = (result.access if result else None) or record.access
    due = (result.due if result else None) or record.due
    if due_type == "unlimited":
        due = None
    return Enrollment(
        user_id=record.user_id,
        item_id=record.item_id,
        item_kind=kind,
        id=record.id,
        access=access,
        due=due,
        due_hours=record.due_hours if due_type == "due_period" else None,
        due_is_default=due_type == "default",
        lock_after_due=record.lock_after_due,
        origin=record.origin,
        completion=result.completion if result else UNKNOWN_PROGRESS,
        progress=result.progress if result else 0.0,
        completed_at=result.completed_at if result else None,
        unknown=joined([record.unknown, result.unknown if result else ""]),
    )

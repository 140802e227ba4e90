"""Litmos records (from `litmos_body`, JSON and XML alike) into model objects.

Names and directory fields are read leniently: the vendor's own samples have empty `<Active></Active>`,
`i:nil` nulls, typos (`ComplaintTill`, `CourseCreateDate`), a duplicated `ResultId` and three date formats.
What decides whether an enrollment may be removed (`PercentageComplete`, `Complete`/`Completed`,
`DateCompleted`) is read strictly: null or empty means "not reported", as in the vendor samples, and any
other value that cannot be read for certain makes the enrollment unknown (`Enrollment.unknown`), never 0.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from reconciler.core.due import DueFact
from reconciler.core.model import Completion, Department, Enrollment, Group, Item, ItemKind, User, UserStatus
from reconciler.providers.litmos.body import Record, Value
from reconciler.providers.strict import Unreadable, joined, percent

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_WCF_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


# --- lenient field accessors ---------------------------------------------------------------------------


def field(record: Mapping[str, Value], *names: str) -> Value:
    """The first present, non-null field of `names` (aliases cover the vendor's typos)."""
    for name in names:
        value = record.get(name)
        if value is not None:
            return value
    return None


def as_records(value: Value) -> list[Record]:
    """A list field as records: `null`, `""` and `<Courses/>` are all an empty list."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    if isinstance(value, dict):
        return [value]
    return []


def as_text(value: Value) -> str:
    """A string field, with HTML entities unescaped (Litmos JSON carries `&amp;` and friends)."""
    if type(value) is str:  # the common case first: most fields of every row are strings
        return (html.unescape(value) if "&" in value else value).strip()
    if value is None or isinstance(value, list | dict):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return html.unescape(str(value)).strip()


def as_bool(value: Value, default: bool = False) -> bool:
    """`true`/`false` in either format; empty or missing gives `default`."""
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    return default


def read_percent(name: str, value: Value) -> float:
    """A percentage: null or empty is 0 (not reported); else plain decimal digits 0..100, or `Unreadable`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    return percent(name, value, as_text(value))


def read_flag(name: str, value: Value) -> bool | None:
    """`true`/`false` (`1`/`0`) in either format; None when null or empty; anything else is `Unreadable`."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("", "true", "false", "1", "0"):
        text = value.strip().lower()
        return None if not text else text in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise Unreadable(name, value, "is not true or false")


def read_date(name: str, value: Value) -> dt.datetime | None:
    """A date in one of Litmos's forms; None when null or empty; anything else is `Unreadable`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    moment = as_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise Unreadable(name, value, "is not a date")
    return moment


def as_datetime(value: Value) -> dt.datetime | None:
    """Any of Litmos's three date forms as an aware UTC datetime; empty or unparsable gives None.

    `/Date(ms±zzzz)/` (JSON): milliseconds since the epoch in UTC; the offset is display-only in WCF.
    `…Z` (ISO, user profiles) and the zone-less `YYYY-MM-DDTHH:MM:SS.SSS` (XML): the latter is read as UTC.
    """
    if value is None:  # most rows have no due date, no completion and no expiry
        return None
    text = as_text(value)
    if not text:
        return None
    wcf = _WCF_DATE.match(text)
    if wcf:
        # integer arithmetic: a float timestamp can be a millisecond off
        return EPOCH + dt.timedelta(milliseconds=int(wcf.group(1)))
    try:
        # Python >= 3.11 reads `Z` and .NET's 7 fractional digits
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    # inferred: zone-less XML dates are UTC (the vendor does not say; the JSON form of the same field is UTC)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


# --- records into model objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """A Litmos team: presented both as a department (tree) and as a group (flat)."""

    id: str
    name: str
    parent_id: str | None

    def department(self) -> Department:
        """The team as a node of the department tree."""
        return Department(id=self.id, name=self.name, parent_id=self.parent_id)

    def group(self) -> Group:
        """The team as a (non-recursive) group."""
        return Group(id=self.id, name=self.name)


def unique_by_id(records: Iterable[Record]) -> list[Record]:
    """Drop records without an `Id` and repeats of one already seen (Litmos may return extra rows)."""
    seen: set[str] = set()
    unique: list[Record] = []
    for record in records:
        ident = as_text(record.get("Id"))
        if ident and ident not in seen:
            seen.add(ident)
            unique.append(record)
    return unique


def parse_user(record: Mapping[str, Value], fields: tuple[tuple[str, str], ...] = ()) -> User:
    """A `/users` row; memberships are filled in later from team rosters. `fields`: its `where` fields."""
    login = as_text(record.get("UserName"))
    return User(
        fields=fields,
        id=as_text(record.get("Id")),
        login=login,
        email=as_text(record.get("Email")) or login,
        first_name=as_text(record.get("FirstName")),
        last_name=as_text(record.get("LastName")),
        # Litmos has only Active true/false; deactivated users are INACTIVE, never BLOCKED.
        status=UserStatus.ACTIVE if as_bool(record.get("Active"), default=True) else UserStatus.INACTIVE,
    )


def parse_team(record: Mapping[str, Value]) -> Team:
    """A `/teams` row; an empty or nil `ParentTeamId` is a root team."""
    parent = as_text(record.get("ParentTeamId"))
    return Team(id=as_text(record.get("Id")), name=as_text(record.get("Name")), parent_id=parent or None)


def parse_item(record: Mapping[str, Value], kind: ItemKind) -> Item:
    """A `/courses` or `/learningpaths` row."""
    return Item(id=as_text(record.get("Id")), kind=kind, title=as_text(record.get("Name")))


@dataclass(frozen=True)
class Progress:
    """What an assignment row says about progress; `unknown` names what could not be read."""

    completion: Completion
    progress: float
    unknown: str = ""


def read_progress(record: Mapping[str, Value]) -> Progress:
    """Completion and percentage of a row, strictly: an unreadable value leaves a reason, never a guess."""
    # the common row, read at once: a true/false flag, a number 0..100 or nothing, no completion date
    flag = record.get("Complete")
    if flag is None:
        flag = record.get("Completed")
    raw = record.get("PercentageComplete")
    number = 0.0 if raw is None else float(raw) if type(raw) is float or type(raw) is int else -1.0
    if (flag is None or type(flag) is bool) and 0 <= number <= 100 and record.get("DateCompleted") is None:
        if flag:
            return Progress(Completion.COMPLETED, number)
        return Progress(Completion.IN_PROGRESS if number else Completion.NOT_STARTED, number)
    return _read_progress_strictly(record)


def _read_progress_strictly(record: Mapping[str, Value]) -> Progress:
    """`read_progress` for rows with text, dates or values out of range: each field its own reason."""
    reasons: list[str] = []
    progress, flag, completed_at = 0.0, None, None
    flag_name = next((n for n in ("Complete", "Completed") if record.get(n) is not None), "Complete")
    try:
        progress = read_percent("PercentageComplete", record.get("PercentageComplete"))
    except Unreadable as error:
        reasons.append(error.reason)
    try:
        flag = read_flag(flag_name, record.get(flag_name))
    except Unreadable as error:
        reasons.append(error.reason)
    try:
        completed_at = read_date("DateCompleted", record.get("DateCompleted"))
    except Unreadable as error:
        reasons.append(error.reason)
    if flag or completed_at is not None:
        completion = Completion.COMPLETED
    else:
        # what cannot be read is never "not started"
        completion = Completion.IN_PROGRESS if progress > 0 or reasons else Completion.NOT_STARTED
    return Progress(completion, progress, joined(reasons))


def parse_result(record: Mapping[str, Value], user_id: str, item_id: str, kind: ItemKind) -> Enrollment:
    """One assignment with its progress, from a user's course list or an item's roster.

    Only what both kinds of read report is kept: completion and progress. `AssignedDate` and
    `DateCompleted` exist only in users' course lists, `DueDate` only in rosters; keeping them would make
    the two read strategies disagree, and apply's staleness check compares enrollments read either way.
    Litmos has no per-assignment terms, so every enrollment holds the item's default terms; due dates and
    overdue flags are read separately (`parse_due`) and shown in plans for information only. A row whose
    progress cannot be read for certain is kept, marked unknown (see `read_progress`).
    """
    return _enrollment(read_progress(record), user_id, item_id, kind)


def _enrollment(facts: Progress, user_id: str, item_id: str, kind: ItemKind) -> Enrollment:
    # inferred: Litmos reports no origin (self-enrolment vs assignment), so every row counts as assigned
    return Enrollment(
        user_id=user_id,
        item_id=item_id,
        item_kind=kind,
        due_is_default=True,
        completion=facts.completion,
        progress=facts.progress,
        unknown=facts.unknown,
    )


def result_kind(record: Mapping[str, Value], default: ItemKind = ItemKind.COURSE) -> ItemKind:
    """Whether a row of a user's course list is a learning path (`IsLearningPath`)."""
    if "IsLearningPath" not in record:
        return default
    return ItemKind.LEARNING_PATH if as_bool(record.get("IsLearningPath")) else ItemKind.COURSE


def parse_bulk_results(records: Iterable[Record]) -> list[Enrollment]:
    """A `POST /users/courses` response: users each with their `Courses` (learning paths flagged)."""
    enrollments: list[Enrollment] = []
    for user in records:
        user_id = as_text(user.get("Id"))
        for row in unique_by_id(as_records(user.get("Courses"))):
            # the row's own UserId is unreliable in the vendor's sample (differs from the user's Id)
            enrollments.append(parse_result(row, user_id, as_text(row.get("Id")), result_kind(row)))
    return [e for e in enrollments if e.user_id]


def parse_roster(records: Iterable[Record], item: Item) -> list[Enrollment]:
    """A `/courses/{id}/users` or `/learningpaths/{id}/users` response: one row per assigned user."""
    return [parse_result(row, as_text(row.get("Id")), item.id, item.kind) for row in unique_by_id(records)]


def parse_roster_in_scope(
    records: Iterable[Record], item: Item, user_ids: Container[str]
) -> tuple[list[Enrollment], list[DueFact]]:
    """`parse_roster` and `parse_roster_dues` in one pass, keeping only rows of `user_ids`.

    Each row's progress is read once and serves both the enrollment and its due fact; rows of users out of
    scope are not read at all (reading a row never fails: what cannot be read makes the enrollment unknown).
    """
    enrollments: list[Enrollment] = []
    dues: list[DueFact] = []
    seen: set[str] = set()
    item_id, kind = item.id, item.kind
    for row in records:
        user_id = as_text(row.get("Id"))
        if not user_id or user_id in seen:
            continue
        seen.add(user_id)
        if user_id not in user_ids:
            continue
        facts = read_progress(row)
        enrollments.append(_enrollment(facts, user_id, item_id, kind))
        dues.append(_due(row, user_id, item_id, facts.completion is Completion.COMPLETED))
    return enrollments, dues


def parse_user_items(records: Iterable[Record], kind: ItemKind, user_id: str) -> list[Enrollment]:
    """A `/users/{id}/courses` or `/users/{id}/learningpaths` response (used to read back after writes)."""
    return [
        parse_result(row, user_id, as_text(row.get("Id")), result_kind(row, kind))
        for row in unique_by_id(records)
    ]


# --- due information (read-only: shown in plans, never compared) ---------------------------------------


def _flag(value: Value) -> bool | None:
    """A true/false field, or None when absent or empty (the vendor sample has `<Overdue></Overdue>`)."""
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(text)


def parse_due(record: Mapping[str, Value], user_id: str, item_id: str) -> DueFact:
    """An assignment's due date (rosters' `DueDate`) and `Overdue` flag (users' course lists).

    `CompliantTill` (and its `ComplaintTill` typo) is deliberately not read as a due date: it is how long
    a completed compliance course stays valid (a recertification date), not when the assignment is due;
    it is kept as the expiry `status` reports, with `DateCompleted` where the read carries it.
    """
    return _due(record, user_id, item_id, read_progress(record).completion is Completion.COMPLETED)


def _due(record: Mapping[str, Value], user_id: str, item_id: str, completed: bool) -> DueFact:
    """`parse_due` once the row's completion is known."""
    overdue, completed_at = record.get("Overdue"), record.get("DateCompleted")
    return DueFact(
        user_id=user_id,
        item_id=item_id,
        due=as_datetime(record.get("DueDate")),
        overdue=None if overdue is None else _flag(overdue),
        completed=completed,
        completed_at=None if completed_at is None else as_datetime(completed_at),
        expires=as_datetime(record.get("CompliantTill") or record.get("ComplaintTill")),
    )


def parse_bulk_dues(records: Iterable[Record]) -> list[DueFact]:
    """Due facts of a `POST /users/courses` response (overdue flags; the bulk read has no due dates)."""
    facts: list[DueFact] = []
    for user in records:
        user_id = as_text(user.get("Id"))
        for row in unique_by_id(as_records(user.get("Courses"))):
            facts.append(parse_due(row, user_id, as_text(row.get("Id"))))
    return [f for f in facts if f.user_id]


def parse_roster_dues(records: Iterable[Record], item: Item) -> list[DueFact]:
    """Due facts of an item roster (due dates; rosters carry no overdue flag)."""
    return [parse_due(row, as_text(row.get("Id")), item.id) for row in unique_by_id(records)]

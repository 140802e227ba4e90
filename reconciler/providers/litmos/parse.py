"""Litmos REST v1.svc wire format: JSON and XML bodies into one record form, then into model objects.

Litmos answers XML by default and JSON with `format=json`; both are turned into `Record`s (field name to
value) first, so the same accessors read both, and the model never sees which one came back. The accessors
are lenient on purpose: the vendor's own samples have empty `<Active></Active>`, `i:nil` nulls, typos
(`ComplaintTill`, `CourseCreateDate`), a duplicated `ResultId` and three date formats.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from lxml import etree

from reconciler.core.model import Completion, Department, Enrollment, Group, Item, ItemKind, User, UserStatus
from reconciler.errors import ProtocolError
from reconciler.providers.base import DueFact
from reconciler.transport.safexml import local_name, parse_xml

Value: TypeAlias = "str | bool | int | float | list[Record] | Record | None"
Record: TypeAlias = "dict[str, Value]"

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
# Container elements whose children are list entries even when there is only one (or none).
LIST_CONTAINERS = frozenset({"Items", "Users", "Courses", "LearningPaths", "Teams", "Modules"})

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_WCF_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


# --- bodies into records -------------------------------------------------------------------------------


def _elements(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _is_list(element: etree._Element, children: list[etree._Element]) -> bool:
    name = local_name(element)
    if name in LIST_CONTAINERS:
        return True
    tags = {local_name(c) for c in children}
    return len(tags) == 1 and (len(children) > 1 or name == f"{tags.pop()}s")


def xml_value(element: etree._Element) -> Value:
    """One XML element as a value: text, None for `i:nil`, a list for containers, a record otherwise."""
    if element.get(XSI_NIL) == "true":
        return None
    children = _elements(element)
    if _is_list(element, children):
        return [xml_record(c) for c in children]
    if children:
        return xml_record(element)
    return element.text or ""


def xml_record(element: etree._Element) -> Record:
    """The child elements of `element` as a record; a repeated field keeps its first value."""
    record: Record = {}
    for child in _elements(element):
        record.setdefault(local_name(child), xml_value(child))
    return record


def records_from_xml(body: bytes) -> list[Record]:
    """A list response (`<Users><User>…`) as records; `<Users xmlns:i="…"/>` is an empty list."""
    value = xml_value(parse_xml(body))
    if isinstance(value, dict):
        # `/users/paginated` wraps the list: <UserCollection><Pagination/><Items>…</Items>
        return as_records(value.get("Items")) if "Items" in value else [value]
    return as_records(value)


def records_from_json(body: bytes) -> list[Record]:
    """A list response in JSON (a bare array, `null`, or an object with `Items`) as records."""
    try:
        data = json.loads(body or b"null")
    except ValueError as error:
        raise ProtocolError(f"Litmos sent malformed JSON: {error}") from error
    if isinstance(data, dict):
        return as_records(data.get("Items")) if "Items" in data else [data]
    return as_records(data)


def records_from_body(body: bytes, content_type: str) -> list[Record]:
    """Records from a list response in whichever format the server chose."""
    stripped = body.lstrip()
    if "json" in content_type or stripped[:1] in (b"[", b"{") or stripped == b"null":
        return records_from_json(body)
    if not stripped:
        return []
    if stripped[:1] != b"<":
        raise ProtocolError(f"Litmos sent neither JSON nor XML ({content_type or 'no content type'})")
    return records_from_xml(body)


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


def as_percent(value: Value) -> float:
    """A percentage (decimal, `"0.00"` in XML), clamped to 0..100; unparsable gives 0."""
    if isinstance(value, bool):
        return 0.0
    try:
        number = float(value) if isinstance(value, int | float) else float(as_text(value) or "0")
    except ValueError:
        return 0.0
    return min(max(number, 0.0), 100.0)


def as_datetime(value: Value) -> dt.datetime | None:
    """Any of Litmos's three date forms as an aware UTC datetime; empty or unparsable gives None.

    `/Date(ms±zzzz)/` (JSON): milliseconds since the epoch in UTC; the offset is display-only in WCF.
    `…Z` (ISO, user profiles) and the zone-less `YYYY-MM-DDTHH:MM:SS.SSS` (XML): the latter is read as UTC.
    """
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


def parse_user(record: Mapping[str, Value]) -> User:
    """A `/users` row; memberships are filled in later from team rosters."""
    login = as_text(record.get("UserName"))
    return User(
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


def _completion(record: Mapping[str, Value], progress: float) -> Completion:
    if as_bool(field(record, "Complete", "Completed")) or as_datetime(record.get("DateCompleted")):
        return Completion.COMPLETED
    return Completion.IN_PROGRESS if progress > 0 else Completion.NOT_STARTED


def parse_result(record: Mapping[str, Value], user_id: str, item_id: str, kind: ItemKind) -> Enrollment:
    """One assignment with its progress, from a user's course list or an item's roster.

    Only what both kinds of read report is kept: completion and progress. `AssignedDate` and
    `DateCompleted` exist only in users' course lists, `DueDate` only in rosters; keeping them would make
    the two read strategies disagree, and apply's staleness check compares enrollments read either way.
    Litmos has no per-assignment terms, so every enrollment holds the item's default terms; due dates and
    overdue flags are read separately (`parse_due`) and shown in plans for information only.
    """
    # inferred: Litmos reports no origin (self-enrolment vs assignment), so every row counts as assigned
    progress = as_percent(record.get("PercentageComplete"))
    return Enrollment(
        user_id=user_id,
        item_id=item_id,
        item_kind=kind,
        due_is_default=True,
        completion=_completion(record, progress),
        progress=progress,
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
    a completed compliance course stays valid (a recertification date), not when the assignment is due.
    """
    progress = as_percent(record.get("PercentageComplete"))
    return DueFact(
        user_id=user_id,
        item_id=item_id,
        due=as_datetime(record.get("DueDate")),
        overdue=_flag(record.get("Overdue")),
        completed=_completion(record, progress) is Completion.COMPLETED,
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

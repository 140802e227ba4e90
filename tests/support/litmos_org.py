"""Builders of a small sandbox organisation and an httpx client on the Litmos emulator (test support)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from lxml import etree

from reconciler.sandbox.litmos.app import DEFAULT_API_KEYS, make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import ispring_uuid, litmos_id, original_id
from reconciler.sandbox.store.records import (
    DepartmentRow,
    EnrollmentRow,
    GroupRow,
    ItemRow,
    Progress,
    Terms,
    UserRow,
)

KEY = DEFAULT_API_KEYS[0]
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NIL = f"{{{XSI}}}nil"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def department(path: str) -> DepartmentRow:
    parent = path.rsplit("/", 1)[0] if "/" in path else None
    return DepartmentRow(
        ispring_uuid("department", path),
        litmos_id("department", path),
        original_id("department", path),
        path.rsplit("/", 1)[-1],
        path,
        ispring_uuid("department", parent) if parent else None,
    )


def group(name: str) -> GroupRow:
    return GroupRow(ispring_uuid("group", name), litmos_id("group", name), original_id("group", name), name)


def user(
    login: str,
    dept: str = "Acme",
    status: str = "active",
    groups: tuple[str, ...] = (),
    first: str = "",
    last: str = "Doe",
) -> UserRow:
    return UserRow(
        ispring_uuid("user", login),
        litmos_id("user", login),
        original_id("user", login),
        login,
        login,
        first or login.split("@")[0].title(),
        last,
        status,
        ispring_uuid("department", dept),
        group_uuids=tuple(ispring_uuid("group", g) for g in groups),
        added_date=dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )


def item(title: str, kind: str = "course", courses: tuple[str, ...] = ()) -> ItemRow:
    return ItemRow(
        ispring_uuid(kind, title),
        litmos_id(kind, title),
        original_id(kind, title),
        kind,
        title,
        code=title[:3].upper(),
        created_date=dt.datetime(2020, 10, 15, 11, 4, 33, tzinfo=dt.UTC),
        course_uuids=tuple(ispring_uuid("course", c) for c in courses),
    )


def enrollment(
    login: str,
    title: str,
    kind: str = "course",
    status: str = "not_started",
    progress: float = 0.0,
    due: dt.datetime | None = None,
    completed: dt.datetime | None = None,
) -> EnrollmentRow:
    uuid = ispring_uuid("enrollment", f"{login}/{title}")
    assigned = dt.datetime(2020, 12, 12, 9, 18, 0, tzinfo=dt.UTC)
    return EnrollmentRow(
        uuid,
        original_id("result", uuid),
        ispring_uuid(kind, title),
        ispring_uuid("user", login),
        Terms(assigned, "due_date" if due else "default", due),
        progress=Progress(status, progress, completed),
        assigned_date=assigned,
    )


@dataclass
class Org:
    """A sandbox organisation being built; `store()` loads it into a fresh in-memory store."""

    departments: list[DepartmentRow] = field(default_factory=list)
    groups: list[GroupRow] = field(default_factory=list)
    users: list[UserRow] = field(default_factory=list)
    items: list[ItemRow] = field(default_factory=list)
    enrollments: list[EnrollmentRow] = field(default_factory=list)

    def store(self) -> Store:
        store = Store.open(":memory:")
        store.insert_departments(self.departments)
        store.insert_groups(self.groups)
        store.insert_users(self.users)
        store.insert_items(self.items)
        store.insert_enrollments(self.enrollments)
        return store


def acme() -> Org:
    """Acme: a department tree, two groups, active and inactive users, courses, a learning path."""
    paths = ["Acme", "Acme/Engineering", "Acme/Engineering/Platform", "Acme/Sales", "Acme/Sales/EMEA"]
    return Org(
        departments=[department(p) for p in paths],
        groups=[group("New hires"), group("Managers")],
        users=[
            user("helen@acme.example", "Acme/Sales/EMEA", groups=("Managers",), first="Helen", last="Jones"),
            user("kevin@acme.example", "Acme/Engineering", first="Kevin", last="Smith"),
            user("olga@acme.example", "Acme/Engineering/Platform", groups=("New hires",), first="Olga"),
            user("ivan@acme.example", "Acme/Engineering", status="inactive", groups=("New hires",)),
            user("bob@acme.example", "Acme/Engineering", status="employment_ended"),
        ],
        items=[
            item("Security Awareness 2026"),
            item("Anti-Bribery"),
            item("Forklift Safety"),
            item("Onboarding", "learning_path", ("Security Awareness 2026", "Anti-Bribery")),
        ],
        enrollments=[
            enrollment(
                "helen@acme.example",
                "Anti-Bribery",
                status="complete",
                progress=100,
                due=dt.datetime(2026, 1, 31, tzinfo=dt.UTC),
                completed=dt.datetime(2026, 1, 15, 8, 30, tzinfo=dt.UTC),
            ),
            enrollment("helen@acme.example", "Onboarding", "learning_path"),
            enrollment(
                "kevin@acme.example",
                "Anti-Bribery",
                status="in_progress",
                progress=40,
                due=dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
            ),
            enrollment("ivan@acme.example", "Anti-Bribery"),
        ],
    )


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def client(
    store: Store,
    clock: FakeClock | None = None,
    rate_limit: RateLimit | None = None,
    key: str = KEY,
    api_keys: tuple[str, ...] = DEFAULT_API_KEYS,
) -> httpx.Client:
    """An httpx client speaking to the emulator in-process, with the key header already set."""
    app = make_litmos_app(
        store, clock=clock or FakeClock(), rate_limit=rate_limit or RateLimit(10**9), api_keys=api_keys
    )
    transport = httpx.WSGITransport(app=app)
    return httpx.Client(
        transport=transport, base_url="https://api.litmos.com/v1.svc", headers={"apikey": key}
    )


def params(**extra: Any) -> dict[str, Any]:
    """Query parameters with the required `source`."""
    return {"source": "enrollctl-tests", **extra}


def xml(response: httpx.Response) -> etree._Element:
    return etree.fromstring(response.content)


def xml_to_data(element: etree._Element, list_tags: frozenset[str] = frozenset()) -> Any:
    """Test-only XML → JSON-like data: nil → None, a list element → list, leaves stay strings."""
    if element.get(NIL) == "true":
        return None
    children = list(element)
    if not children:
        return [] if element.tag in list_tags else (element.text or "")
    if element.tag in list_tags:
        return [xml_to_data(child, list_tags) for child in children]
    return {child.tag: xml_to_data(child, list_tags) for child in children}


def json_to_text(value: Any) -> Any:
    """JSON (parsed with Decimal floats) with leaves as XML prints them: `true`, `0.00`, XML dates."""
    if isinstance(value, dict):
        return {k: json_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_to_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    if isinstance(value, str) and (match := re.fullmatch(r"/Date\((-?\d+)-0000\)/", value)):
        moment = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(match.group(1)))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return str(value)


def paged(client_: httpx.Client, path: str, limit: int | None, **extra: Any) -> Iterator[dict[str, Any]]:
    """Walk a JSON list with `start`/`limit` until a short or empty page, as clients do."""
    start = 0
    while True:
        query = params(format="json", start=start, **extra)
        if limit is not None:
            query["limit"] = limit
        page = client_.get(path, params=query).json()
        yield from page
        if limit is None or len(page) < limit:
            return
        start += limit

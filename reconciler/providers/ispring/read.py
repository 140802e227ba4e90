"""Reads of one iSpring Learn account: the directory (departments, groups, users, catalog), and the
enrollments of managed items joined with their learners' results."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from lxml import etree

from reconciler.core.model import Directory, Enrollment, ItemKind
from reconciler.providers.base import Progress
from reconciler.providers.ispring import records
from reconciler.providers.ispring.api import IspringApi, log
from reconciler.providers.ispring.soap import Fault, Ids, Params, Values

# ListLearnersResults shows active users only unless asked: 1 active, 3 blocked (the doc's word)
RESULT_USER_STATUSES = Values(("1", "3"))


def read_directory(api: IspringApi) -> Directory:
    """Departments, groups, users and the catalog's courses and learning tracks."""
    departments = [
        records.parse_department(e) for e in api.pages("GetDepartments", (), "department", page_size=False)
    ]
    groups = [records.parse_group(e) for e in api.pages("GetGroups", (), "group", page_size=False)]
    users = [records.parse_user(e) for e in _users(api)]
    items = [i for e in api.pages("ListContent", (), "contentItem") if (i := records.parse_item(e))]
    return Directory(
        users=tuple(sorted(users, key=lambda u: u.id)),
        departments=tuple(sorted(departments, key=lambda d: d.id)),
        groups=tuple(sorted(groups, key=lambda g: g.id)),
        items=tuple(sorted(items, key=lambda i: i.id)),
    )


def _users(api: IspringApi) -> list[etree._Element]:
    """GetUsers with v2 statuses (5 = employment ended) where the server takes `version`, else v1."""
    # inferred: the docs name a "getUsers/v2 request" but show no SOAP form for it; `<version>2</version>`
    # is our guess. A server that refuses it answers "Wrong parameters", and v1 (3 for both inactive and
    # employment ended) is still safe: neither status is enrollable by default.
    v2: Params = [("version", 2)]
    if not api.users_v1:
        first = api.call("GetUsers", v2, idempotent=True, faults=("Wrong parameters",))
        if not isinstance(first, Fault):
            return list(api.pages("GetUsers", v2, "userProfile", page_size=False, first=first))
        log.info("iSpring GetUsers: version 2 refused, reading v1 statuses")
        api.users_v1 = True
    return list(api.pages("GetUsers", (), "userProfile", page_size=False))


def read_enrollments(
    api: IspringApi,
    directory: Directory,
    item_ids: frozenset[str],
    user_ids: frozenset[str] | None,
    *,
    name: str,
    ids_per_filter: int,
    progress: Progress,
) -> tuple[Enrollment, ...]:
    """Enrollments in `item_ids`: terms and origin (ListEnrollments), progress (ListLearnersResults)."""
    if not item_ids or (user_ids is not None and not user_ids):
        return ()
    kinds = {item.id: item.kind for item in directory.items}
    size = ids_per_filter
    user_chunks: list[tuple[str, ...] | None] = list(_chunks(sorted(user_ids), size)) if user_ids else [None]
    chunks = [(items, users) for items in _chunks(sorted(item_ids), size) for users in user_chunks]
    found: list[Enrollment] = []
    started = time.monotonic()
    for done, (items, users) in enumerate(chunks, 1):
        found.extend(_read_enrollment_chunk(api, items, users, kinds))
        # the CLI shows it (rate, time left) once the read takes a while
        label = f"{name}: enrollment batches read"
        progress(label, done, len(chunks), time.monotonic() - started)
    return tuple(sorted(found, key=lambda e: (e.item_id, e.user_id)))


def _read_enrollment_chunk(
    api: IspringApi, items: tuple[str, ...], users: tuple[str, ...] | None, kinds: dict[str, ItemKind]
) -> tuple[Enrollment, ...]:
    user_filter = Ids(users) if users else None
    params: Params = [("courseIds", Ids(items)), ("learnerIds", user_filter)]
    enrollments = [records.parse_enrollment(e) for e in api.pages("ListEnrollments", params, "enrollment")]
    if not enrollments:
        return ()  # no enrollments, no results to join: save the call
    result_params: Params = [
        ("userIds", user_filter),
        ("courseIds", Ids(items)),
        ("userStatuses", RESULT_USER_STATUSES),
    ]
    results = [
        records.parse_result(e) for e in api.pages("ListLearnersResults", result_params, "learnerResult")
    ]
    return records.join(enrollments, results, kinds)


def _chunks(values: Sequence[str], size: int) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(values), max(1, size)):
        yield tuple(values[start : start + max(1, size)])

"""Reads of one iSpring Learn account over either API: the directory (departments, groups, users, catalog),
and the enrollments of managed items joined with their learners' results."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from reconciler.core.model import Directory, Enrollment, ItemKind
from reconciler.providers.base import Progress
from reconciler.providers.ispring import records
from reconciler.providers.ispring.wire import Wire


def read_directory(wire: Wire) -> Directory:
    """Departments, groups, users and the catalog's courses and learning tracks."""
    departments, groups, users, items = wire.departments(), wire.groups(), wire.users(), wire.items()
    return Directory(
        users=tuple(sorted(users, key=lambda u: u.id)),
        departments=tuple(sorted(departments, key=lambda d: d.id)),
        groups=tuple(sorted(groups, key=lambda g: g.id)),
        items=tuple(sorted(items, key=lambda i: i.id)),
        user_fields=records.user_fields(users),
        joined_from="addedDate",
    )


def read_enrollments(
    wire: Wire,
    directory: Directory,
    item_ids: frozenset[str],
    user_ids: frozenset[str] | None,
    *,
    name: str,
    progress: Progress,
) -> tuple[Enrollment, ...]:
    """Enrollments in `item_ids`: terms and origin (ListEnrollments), progress (learner results)."""
    if not item_ids or (user_ids is not None and not user_ids):
        return ()
    kinds = {item.id: item.kind for item in directory.items}
    size = wire.ids_per_filter
    user_chunks: list[tuple[str, ...] | None] = list(_chunks(sorted(user_ids), size)) if user_ids else [None]
    chunks = [(items, users) for items in _chunks(sorted(item_ids), size) for users in user_chunks]
    found: list[Enrollment] = []
    started = time.monotonic()
    for done, (items, users) in enumerate(chunks, 1):
        found.extend(_read_enrollment_chunk(wire, items, users, kinds))
        # the CLI shows it (rate, time left) once the read takes a while
        label = f"{name}: enrollment batches read"
        progress(label, done, len(chunks), time.monotonic() - started)
    return tuple(sorted(found, key=lambda e: (e.item_id, e.user_id)))


def _read_enrollment_chunk(
    wire: Wire, items: tuple[str, ...], users: tuple[str, ...] | None, kinds: dict[str, ItemKind]
) -> tuple[Enrollment, ...]:
    enrollments = wire.enrollments(items, users)
    if not enrollments:
        return ()  # no enrollments, no results to join: save the call
    return records.join(enrollments, wire.results(items, users), kinds)


def _chunks(values: Sequence[str], size: int) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(values), max(1, size)):
        yield tuple(values[start : start + max(1, size)])

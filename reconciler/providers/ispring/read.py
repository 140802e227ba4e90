"""Reads of one iSpring Learn account over either API: the directory (departments, groups, users, catalog),
and the enrollments of managed items joined with their learners' results."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

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
    concurrency: int = 1,
) -> tuple[Enrollment, ...]:
    """Enrollments in `item_ids`: terms and origin (ListEnrollments), progress (learner results).

    A read filtered by more learners or items than one call's filter takes is split into chunks, each a
    ListEnrollments and a learner results listing of its own; up to `concurrency` chunks are read at once
    (the same calls as one after the other: apply's re-reads of a few thousand learners are many chunks).
    """
    if not item_ids or (user_ids is not None and not user_ids):
        return ()
    kinds = {item.id: item.kind for item in directory.items}
    size = wire.ids_per_filter
    user_chunks: list[tuple[str, ...] | None] = list(_chunks(sorted(user_ids), size)) if user_ids else [None]
    chunks = [(items, users) for items in _chunks(sorted(item_ids), size) for users in user_chunks]
    found: list[Enrollment] = []
    started = time.monotonic()
    label = f"{name}: enrollment batches read"

    def read(chunk: Chunk) -> tuple[Enrollment, ...]:
        return _read_enrollment_chunk(wire, *chunk, kinds)

    for done, part in enumerate(_each(read, chunks, concurrency), 1):
        found.extend(part)
        # the CLI shows it (rate, time left) once the read takes a while
        progress(label, done, len(chunks), time.monotonic() - started)
    return tuple(sorted(found, key=lambda e: (e.item_id, e.user_id)))


Chunk = tuple[tuple[str, ...], tuple[str, ...] | None]


def _each(
    read: Callable[[Chunk], tuple[Enrollment, ...]], chunks: Sequence[Chunk], concurrency: int
) -> Iterator[tuple[Enrollment, ...]]:
    """The enrollments of each chunk as its read finishes, at most `concurrency` reads in flight.

    The first error stops the read: chunks not started are dropped, those in flight finish, it is raised.
    """
    if concurrency <= 1 or len(chunks) <= 1:
        yield from map(read, chunks)
        return
    with ThreadPoolExecutor(
        max_workers=min(concurrency, len(chunks)), thread_name_prefix="enrollctl-read"
    ) as pool:
        futures: list[Future[tuple[Enrollment, ...]]] = [pool.submit(read, chunk) for chunk in chunks]
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.index):
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


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

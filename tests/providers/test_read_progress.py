"""Long enrollment reads report progress to the callback the provider was built with (the engine's
callback turns it into the CLI's progress line)."""

from __future__ import annotations

from reconciler.providers.ispring.provider import IspringOptions
from tests.providers.test_ispring_provider import provider, sandbox


def test_an_ispring_enrollment_read_reports_each_batch() -> None:
    steps: list[tuple[str, int, int, float]] = []
    _, client = sandbox()
    lms = provider(
        client,
        options=IspringOptions(ids_per_filter=2),
        progress=lambda label, done, total, elapsed: steps.append((label, done, total, elapsed)),
    )
    directory = lms.read_directory()
    items = frozenset(i.id for i in directory.items)  # 4 items: 2 batches of 2
    users = frozenset(u.id for u in directory.users)  # 5 users: 3 batches of at most 2
    lms.read_enrollments(directory, items, users)
    assert [(label, done, total) for label, done, total, _ in steps] == [
        ("lms: enrollment batches read", n, 6) for n in range(1, 7)
    ]
    assert all(elapsed >= 0 for *_, elapsed in steps)

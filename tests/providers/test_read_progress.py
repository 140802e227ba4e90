"""Long enrollment reads report progress as tagged log records, which the CLI shows as a progress line."""

from __future__ import annotations

import logging

import pytest
from test_ispring_provider import provider, sandbox

from reconciler.cli.progress import PROGRESS_FIELD
from reconciler.providers.ispring.provider import IspringOptions


def test_an_ispring_enrollment_read_reports_each_batch(caplog: pytest.LogCaptureFixture) -> None:
    _, client = sandbox()
    lms = provider(client, options=IspringOptions(ids_per_filter=2))
    directory = lms.read_directory()
    items = frozenset(i.id for i in directory.items)  # 4 items: 2 batches of 2
    users = frozenset(u.id for u in directory.users)  # 5 users: 3 batches of at most 2
    with caplog.at_level(logging.INFO, logger="enrollctl.ispring"):
        lms.read_enrollments(directory, items, users)
    steps = [getattr(r, PROGRESS_FIELD) for r in caplog.records if hasattr(r, PROGRESS_FIELD)]
    assert [(label, done, total) for label, done, total, _ in steps] == [
        ("lms: enrollment batches read", n, 6) for n in range(1, 7)
    ]
    assert all(elapsed >= 0 for *_, elapsed in steps)

"""Sandbox compliance extensions: course validity periods, completions scripted at dates, reset."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.errors import ConfigError
from reconciler.sandbox.org.load import item_uuid, parse_org, seed_store, user_uuid
from reconciler.sandbox.org.yaml import dump_org_yaml
from reconciler.sandbox.store import compliance
from reconciler.sandbox.store.database import Store

ORG = """
departments: [{name: Acme}]
users: [{login: ann, department: Acme}, {login: bob, department: Acme}]
courses: [{title: Security, valid_days: 365}]
enrollments:
  - {user: ann, course: Security, status: not_started}
completions:
  - {user: ann, course: Security, at: 2026-03-01, status: passed, score: 90}
  - {user: bob, course: Security, at: 2026-03-01}
"""
UTC = dt.UTC


def _store() -> Store:
    store = Store.open(":memory:")
    seed_store(store, parse_org(ORG))
    return store


def test_the_org_file_round_trips_with_validity_and_completions() -> None:
    org = parse_org(ORG)
    assert org.courses[0].valid_days == 365
    assert parse_org(dump_org_yaml(org)) == org


def test_a_scripted_completion_waits_for_its_date_and_for_an_enrollment() -> None:
    store = _store()
    ann = store.find_enrollment(user_uuid("ann"), item_uuid("Security"))
    assert ann is not None
    assert compliance.apply_due(store, dt.datetime(2026, 2, 28, tzinfo=UTC)) == 0
    assert compliance.apply_due(store, dt.datetime(2026, 3, 1, tzinfo=UTC)) == 1  # bob is not enrolled
    done = store.get_enrollment(ann.uuid)
    assert done is not None
    assert (done.progress.status, done.progress.completion_date, done.progress.score) == (
        "passed",
        dt.datetime(2026, 3, 1, tzinfo=UTC),
        90,
    )
    assert compliance.pending(store) == 1
    item = store.get_item(item_uuid("Security"))
    assert item is not None and item.compliant_till(done.progress.completion_date) == dt.datetime(
        2027, 3, 1, tzinfo=UTC
    )
    assert compliance.apply_due(store, dt.datetime(2026, 3, 2, tzinfo=UTC)) == 0  # applied once


def test_reset_starts_an_enrollment_over() -> None:
    store = _store()
    ann = store.find_enrollment(user_uuid("ann"), item_uuid("Security"))
    assert ann is not None
    compliance.apply_due(store, dt.datetime(2026, 3, 1, tzinfo=UTC))
    assert compliance.reset(store, ann.uuid, dt.datetime(2027, 3, 2, tzinfo=UTC))
    again = store.get_enrollment(ann.uuid)
    assert again is not None
    assert (again.progress.status, again.progress.completion_date) == ("not_started", None)
    assert again.assigned_date == dt.datetime(2027, 3, 2, tzinfo=UTC)


def test_a_completion_of_an_unknown_user_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"completions\[0\].user: unknown user 'zed'"):
        parse_org(ORG.replace("- {user: ann, course: Security, at", "- {user: zed, course: Security, at"))

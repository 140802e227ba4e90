"""Litmos due dates and overdue flags: read for information, identical overdue facts either read way."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.core.due import DueInformation, due_warnings
from reconciler.providers.litmos.parse import parse_bulk_dues, parse_due
from reconciler.providers.litmos.read import ReadStrategy
from tests.support.litmos_provider import FakeClock, sandbox

# FakeClock.wall starts the emulator's clock here: Litmos computes `Overdue` against it
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

ORG = """
departments: [{name: Acme}]
users:
  - {login: helen@acme.example, department: Acme}
  - {login: kevin@acme.example, department: Acme}
  - {login: ann@acme.example, department: Acme}
  - {login: omar@acme.example, department: Acme}
courses: [{title: Security Awareness 2026}, {title: Anti-Bribery}]
learning_paths:
  - {title: Onboarding, courses: [Security Awareness 2026]}
enrollments:
  - {user: helen@acme.example, course: Anti-Bribery, status: complete, progress: 100, due: 2026-01-31}
  - {user: kevin@acme.example, course: Security Awareness 2026, status: in_progress, progress: 20,
     due: 2026-02-15}
  - {user: ann@acme.example, course: Anti-Bribery, status: not_started, due: 2026-04-30}
  - {user: omar@acme.example, learning_path: Onboarding, status: not_started, due: 2026-02-20}
  - {user: omar@acme.example, course: Anti-Bribery, status: in_progress, progress: 10}
"""


def read(strategy: ReadStrategy, titles: set[str] | None = None) -> tuple[DueInformation, dict[str, str]]:
    """Due information of one enrollment read, and user id -> login."""
    box = sandbox(ORG, clock=FakeClock())
    box.provider.strategy = strategy
    directory = box.directory()
    items = frozenset(i.id for i in directory.items if titles is None or i.title in titles)
    enrollments = box.provider.read_enrollments(directory, items)
    # the Enrollment contract is unchanged: Litmos enrollments carry no due date, whichever read
    assert enrollments and all(e.due is None and e.due_is_default for e in enrollments)
    info = box.provider.due_information()
    assert info is not None
    return info, {u.id: u.login for u in directory.users}


def overdue_logins(info: DueInformation, logins: dict[str, str]) -> set[str]:
    return {logins[f.user_id] for f in info.overdue(NOW)}


@pytest.mark.parametrize("strategy", list(ReadStrategy))
def test_both_read_strategies_find_the_same_overdue_enrollments(strategy: ReadStrategy) -> None:
    info, logins = read(strategy)
    # helen completed (not overdue although past due); ann's due date is still ahead
    assert overdue_logins(info, logins) == {"kevin@acme.example", "omar@acme.example"}
    assert info.vendor == "Litmos"


def test_bulk_read_supplies_overdue_flags_but_no_due_dates() -> None:
    info, _ = read(ReadStrategy.BULK)
    assert info.source == "per-user reads (POST /users/courses)"
    assert info.due_dates() == ()
    assert all(f.overdue is not None for f in info.facts)


def test_roster_read_supplies_due_dates_and_overdue_follows_from_them() -> None:
    info, _ = read(ReadStrategy.ROSTERS)
    assert info.source == "item rosters"
    assert [d.date().isoformat() for d in info.due_dates()] == [
        "2026-01-31",
        "2026-02-15",
        "2026-02-20",
        "2026-04-30",
    ]
    assert all(f.overdue is None for f in info.facts)


@pytest.mark.parametrize("strategy", list(ReadStrategy))
def test_due_information_covers_only_managed_items(strategy: ReadStrategy) -> None:
    info, logins = read(strategy, {"Anti-Bribery"})
    assert overdue_logins(info, logins) == set()
    assert {logins[f.user_id] for f in info.facts} == {
        "helen@acme.example",
        "ann@acme.example",
        "omar@acme.example",
    }


def test_overdue_line_is_identical_whichever_read_and_rosters_add_the_due_range() -> None:
    box = sandbox(ORG, clock=FakeClock())
    directory = box.directory()
    items = frozenset(i.id for i in directory.items)
    lines = {}
    for strategy in ReadStrategy:
        box.provider.strategy = strategy
        box.provider.read_enrollments(directory, items)
        info = box.provider.due_information()
        assert info is not None
        lines[strategy] = [w.message for w in due_warnings(info, directory, NOW)]
    overdue = (
        "Litmos reports 2 overdue enrollments in managed items (kevin@acme.example, omar@acme.example); "
        "Litmos has no per-assignment due dates, so enrollctl shows these for information only"
    )
    assert lines[ReadStrategy.BULK] == [overdue]
    assert lines[ReadStrategy.ROSTERS] == [
        overdue,
        "Litmos due dates (from item rosters): 4 enrollments in managed items, earliest 2026-01-31, "
        "latest 2026-04-30; set in the item's settings, not by policies",
    ]


def test_no_due_information_before_the_first_read() -> None:
    assert sandbox(ORG).provider.due_information() is None


# --- parsing ------------------------------------------------------------------------------------------------


def test_compliant_till_is_not_a_due_date_and_an_empty_overdue_is_unknown() -> None:
    # the vendor sample's third row: empty <Overdue></Overdue> and the `ComplaintTill` typo
    row = {"Id": "c1", "Overdue": "", "ComplaintTill": "2026-01-01T00:00:00", "CompliantTill": "/Date(0)/"}
    fact = parse_due(row, "u1", "c1")
    assert fact.due is None and fact.overdue is None
    assert not fact.is_overdue(NOW)


def test_bulk_rows_give_the_vendor_flag_in_either_wire_form() -> None:
    records = [
        {
            "Id": "u1",
            "Courses": [
                {"Id": "c1", "Overdue": True, "Complete": False},
                {"Id": "c2", "Overdue": "false", "Complete": "true"},
            ],
        }
    ]
    facts = {f.item_id: f for f in parse_bulk_dues(records)}
    assert facts["c1"].overdue is True and facts["c1"].is_overdue(NOW)
    assert facts["c2"].overdue is False and facts["c2"].completed


def test_a_roster_due_date_in_any_date_form_reads_as_utc() -> None:
    for value in ("/Date(1771113600000+0100)/", "2026-02-15T00:00:00Z", "2026-02-15T00:00:00.000"):
        fact = parse_due({"Id": "u1", "DueDate": value, "Completed": False}, "u1", "c1")
        assert fact.due == dt.datetime(2026, 2, 15, tzinfo=dt.UTC)
        assert fact.is_overdue(NOW)

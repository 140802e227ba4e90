"""Plan warnings for vendor due information: at most two lines, at most five names, nothing when quiet."""

from __future__ import annotations

import datetime as dt

from reconciler.core.due import DueFact, DueInformation, due_warnings
from tests.support.builders import Org

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
PAST = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def info(*facts: DueFact, source: str = "item rosters") -> DueInformation:
    return DueInformation(vendor="Litmos", source=source, facts=facts)


def test_overdue_line_names_at_most_five_users_and_counts_the_rest() -> None:
    org = Org()
    users = [org.user(f"u{n}@acme.example") for n in range(7)]
    facts = [DueFact(u.id, "c1", overdue=True) for u in users]
    (line,) = due_warnings(info(*facts, source="per-user reads"), org.directory(), NOW)
    assert line.message.startswith(
        "Litmos reports 7 overdue enrollments in managed items "
        "(u0@acme.example, u1@acme.example, u2@acme.example, u3@acme.example, u4@acme.example, +2 more); "
    )
    assert line.message.endswith("so enrollctl shows these for information only")
    assert line.position is None


def test_a_user_overdue_in_two_items_is_counted_twice_but_named_once() -> None:
    org = Org()
    ana = org.user("ana@acme.example")
    facts = [DueFact(ana.id, "c1", overdue=True), DueFact(ana.id, "c2", overdue=True)]
    (line,) = due_warnings(info(*facts), org.directory(), NOW)
    assert "2 overdue enrollments in managed items (ana@acme.example);" in line.message


def test_due_dates_give_a_range_line_naming_the_read_that_supplied_them() -> None:
    org = Org()
    ana, bo = org.user("ana@acme.example"), org.user("bo@acme.example")
    facts = [DueFact(ana.id, "c1", due=LATER), DueFact(bo.id, "c1", due=PAST, completed=True)]
    (line,) = due_warnings(info(*facts), org.directory(), NOW)
    assert line.message == (
        "Litmos due dates (from item rosters): 2 enrollments in managed items, earliest 2026-02-01, "
        "latest 2026-05-01; set in the item's settings, not by policies"
    )


def test_nothing_to_say_gives_no_warning() -> None:
    org = Org()
    ana = org.user("ana@acme.example")
    assert due_warnings(info(), org.directory(), NOW) == ()
    assert due_warnings(info(DueFact(ana.id, "c1", overdue=False)), org.directory(), NOW) == ()


def test_the_vendor_flag_wins_over_the_due_date() -> None:
    assert not DueFact("u", "c", due=PAST, overdue=False).is_overdue(NOW)
    assert DueFact("u", "c", due=LATER, overdue=True).is_overdue(NOW)
    assert DueFact("u", "c", due=PAST).is_overdue(NOW)
    assert not DueFact("u", "c", due=PAST, completed=True).is_overdue(NOW)

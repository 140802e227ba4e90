"""`explain` names the terms that lost a conflict and why, with the dates that decided it, and explains
re-enrollments: the completion, the `recur:` rule and the date the period ran out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace

from reconciler.core.contest import Why
from reconciler.core.explain import Explanation, ItemExplanation, Verdict, explain_user
from reconciler.core.model import Assignment, Capabilities, Completion, Enrollment, ItemKind, Policy, Settings
from reconciler.core.period import Recurrence
from reconciler.errors import Position
from reconciler.render.explain import render_explain_json, render_explain_text
from tests.support.builders import NOW, Org, course, date_due, enrollment, policy, snapshot, within

WEEK = 7 * 24
CAPS = Capabilities(reenroll=frozenset({ItemKind.COURSE}))


def _org() -> Org:
    org = Org()
    org.user("helen@acme.example", dept="Acme/Sales")
    org.course("Security")
    return org


def _explain(policies: list[Policy], held: Sequence[Callable[[Org], Enrollment]] = ()) -> ItemExplanation:
    org = _org()
    (user,) = org.users
    snap = snapshot(org, [make(org) for make in held])
    (item,) = explain_user(policies, snap, Settings(), user, now=NOW, capabilities=CAPS).items
    return item


def _recurring(assignment: Assignment, months: int) -> Assignment:
    return replace(assignment, terms=replace(assignment.terms, recur=Recurrence(months=months)))


def _held(
    access: dt.datetime,
    completion: Completion = Completion.NOT_STARTED,
    completed_at: dt.datetime | None = None,
) -> Callable[[Org], Enrollment]:
    def make(org: Org) -> Enrollment:
        held = enrollment(org.users[0], org.items[0], access=access, completion=completion)
        return replace(held, completed_at=completed_at)

    return make


def test_a_period_that_falls_later_loses_to_a_date_with_both_dates_named() -> None:
    item = _explain(
        [
            policy("a", everyone=True, assign=[course("Security", due=date_due(2027, 1, 13))]),
            policy("b", everyone=True, assign=[course("Security", due=within(8 * WEEK))]),
        ],
        [_held(dt.datetime(2026, 12, 2, tzinfo=dt.UTC))],
    )
    (lost,) = item.lost
    assert (lost.policy, lost.field, lost.why) == ("b", "due", Why.LATER)
    assert (lost.start, lost.asked_date, lost.winning_date) == (
        dt.date(2026, 12, 2),
        dt.date(2027, 1, 27),
        dt.date(2027, 1, 13),
    )
    assert lost.winners == ("a",)
    text = render_explain_text_of(item)
    assert "due within 8w of 2026-12-02 = 2027-01-27 (b, " in text
    assert ": later than 2027-01-13 from a" in text


def test_a_tightened_period_beats_a_fixed_date_and_the_date_is_what_loses() -> None:
    item = _explain(
        [
            policy("a", everyone=True, assign=[course("Security", due=date_due(2027, 1, 13))]),
            policy("b", everyone=True, assign=[course("Security", due=within(4 * WEEK))]),
        ],
        [_held(dt.datetime(2026, 12, 2, tzinfo=dt.UTC))],
    )
    assert item.terms is not None and item.terms.due == within(4 * WEEK)  # the winner for this enrollment
    (lost,) = item.lost
    assert (lost.policy, lost.asked_date, lost.winning_date) == (
        "a",
        dt.date(2027, 1, 13),
        dt.date(2026, 12, 30),
    )


def test_on_the_same_day_the_fixed_date_wins_and_says_so() -> None:
    item = _explain(
        [
            policy("a", everyone=True, assign=[course("Security", due=date_due(2027, 1, 13))]),
            policy("b", everyone=True, assign=[course("Security", due=within(6 * WEEK))]),
        ],
        [_held(dt.datetime(2026, 12, 2, tzinfo=dt.UTC))],
    )
    (lost,) = item.lost
    assert (lost.policy, lost.why) == ("b", Why.TIE)
    assert "the same day as 2027-01-13 from a, and a fixed date wins a tie" in render_explain_text_of(item)


def test_an_explanation_with_every_kind_of_losing_term_matches_its_golden_file(
    golden: Callable[[str, str], None],
) -> None:
    # positions fixed here: the builders number them in the order tests run
    strict = _recurring(
        course("Security", due=date_due(2027, 1, 13), lock=True, access=dt.date(2026, 12, 1)), 12
    )
    loose = _recurring(course("Security", due=within(8 * WEEK), access=dt.date(2026, 12, 15)), 24)
    policies = [
        policy("a", everyone=True, assign=[replace(strict, position=Position("policies/a.yaml", 14, 7))]),
        policy("b", everyone=True, assign=[replace(loose, position=Position("policies/b.yaml", 9, 7))]),
    ]
    golden("explain/conflicts.txt", render_explain_text_of(_explain(policies)))


def test_lock_access_default_and_a_longer_recurrence_lose_each_for_its_reason() -> None:
    strict = _recurring(
        course("Security", due=date_due(2027, 1, 13), lock=True, access=dt.date(2026, 12, 1)), 12
    )
    loose = _recurring(course("Security", access=dt.date(2026, 12, 15)), 24)
    item = _explain([policy("a", everyone=True, assign=[strict]), policy("b", everyone=True, assign=[loose])])
    assert {(x.policy, x.field, x.why) for x in item.lost} == {
        ("b", "due", Why.NO_DATE),
        ("b", "lock_after_due", Why.NOT_LOCKED),
        ("b", "access", Why.LATER),
        ("b", "recur", Why.LONGER),
    }
    text = render_explain_text_of(item)
    assert "access from 2026-12-15 (b, " in text and "later than 2026-12-01 from a" in text
    assert "every 24 months from completion (b, " in text
    data = render_explain_json([_explanation_of(item)])
    assert '"why": "not_locked"' in data


def test_a_completion_older_than_the_period_is_explained_as_a_re_enrollment() -> None:
    recur = _recurring(course("Security"), 12)
    completed = _held(
        dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
        completion=Completion.COMPLETED,
        completed_at=dt.datetime(2025, 11, 2, tzinfo=dt.UTC),
    )
    item = _explain([policy("a", everyone=True, assign=[recur])], [completed])
    assert item.verdict == Verdict.REENROLL
    assert item.recurs is not None and item.recurs.ran_out
    assert (item.recurs.anchor, item.recurs.runs_out) == (dt.date(2025, 11, 2), dt.date(2026, 11, 2))
    text = render_explain_text_of(item)
    assert (
        "recurs     every 12 months from completion: completed 2025-11-02, the period ran out 2026-11-02"
        in text
    )
    assert (
        "↻ plan re-enrolls it: the period ran out: completed 2025-11-02; every 12 months from completion"
        in text
    )


def test_a_completion_inside_the_period_says_when_it_is_due_again() -> None:
    recur = _recurring(course("Security"), 12)
    completed = _held(
        dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        completion=Completion.COMPLETED,
        completed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    item = _explain([policy("a", everyone=True, assign=[recur])], [completed])
    assert item.verdict != Verdict.REENROLL
    assert item.recurs is not None and not item.recurs.ran_out
    assert "completed 2026-03-01, due again 2027-03-01" in render_explain_text_of(item)


# --- rendering one item through the public renderers -----------------------------------------------------


def _explanation_of(item: ItemExplanation) -> Explanation:
    org = _org()
    return Explanation("lms", "ispring", "acme", org.users[0], "Acme/Sales", (), True, (item,))


def render_explain_text_of(item: ItemExplanation) -> str:
    return render_explain_text([_explanation_of(item)])

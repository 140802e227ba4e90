"""Conflicts by effective date: a `within:` period counts from the enrollment's access, and the earliest
effective due date wins whatever kind of rule asked for it (issue 14, item 2)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.desired import combine_terms, effective_due
from reconciler.core.model import Due, DueKind, Policy, Settings, Terms
from reconciler.core.plan import ActionKind, Risk
from reconciler.core.terms import wanted_due_date
from tests.support.builders import (
    DEFAULT,
    NOW,
    UNLIMITED,
    Org,
    course,
    date_due,
    enrollment,
    plan_for,
    policy,
    snapshot,
    within,
)

ACCESS = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
WEEK = 24 * 7


def test_a_period_that_ends_before_the_date_wins() -> None:
    # within 2w of 2026-11-02 is 2026-11-16: earlier than 2026-12-31
    chosen = combine_terms([Terms(due=date_due(2026, 12, 31)), Terms(due=within(2 * WEEK))], access=ACCESS)
    assert chosen.due == within(2 * WEEK)


def test_a_date_before_the_period_ends_wins() -> None:
    chosen = combine_terms([Terms(due=within(8 * WEEK)), Terms(due=date_due(2026, 11, 20))], access=ACCESS)
    assert chosen.due == date_due(2026, 11, 20)


def test_on_a_tie_the_fixed_date_wins() -> None:
    chosen = combine_terms([Terms(due=within(2 * WEEK)), Terms(due=date_due(2026, 11, 16))], access=ACCESS)
    assert chosen.due == date_due(2026, 11, 16)


def test_a_policy_access_date_moves_where_the_period_starts() -> None:
    # access 2026-12-01 + 2w = 2026-12-15, later than 2026-12-10: the date wins despite the early ACCESS
    wanted = [Terms(due=within(2 * WEEK), access=dt.date(2026, 12, 1)), Terms(due=date_due(2026, 12, 10))]
    chosen = combine_terms(wanted, access=ACCESS)
    assert chosen.due == date_due(2026, 12, 10) and chosen.access == dt.date(2026, 12, 1)


def test_any_date_or_period_beats_default_and_unlimited() -> None:
    assert combine_terms([Terms(due=DEFAULT), Terms(due=within(WEEK))], access=ACCESS).due == within(WEEK)
    assert combine_terms([Terms(due=UNLIMITED), Terms(due=DEFAULT)], access=ACCESS).due == DEFAULT


dues = st.one_of(
    st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)).map(lambda d: Due(DueKind.DATE, date=d)),
    st.integers(1, 24 * 400).map(lambda h: Due(DueKind.WITHIN, hours=h)),
    st.just(DEFAULT),
    st.just(UNLIMITED),
)


accesses = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC))
DATED = (DueKind.DATE, DueKind.WITHIN)


@given(st.lists(dues, min_size=1, max_size=6).filter(lambda ds: any(d.kind in DATED for d in ds)), accesses)
def test_the_winner_is_never_later_than_any_dated_source(candidates: list[Due], access: dt.datetime) -> None:
    chosen = combine_terms([Terms(due=d) for d in candidates], access=access).due
    dated = [effective_due(d, access) for d in candidates if d.kind in DATED]
    assert effective_due(chosen, access) == min(dated)


undated_with_a_default = st.lists(st.sampled_from([DEFAULT, UNLIMITED]), max_size=5).flatmap(
    lambda others: st.permutations([*others, DEFAULT])
)


@given(undated_with_a_default, accesses)
def test_without_a_dated_source_the_vendor_default_wins_over_unlimited(
    candidates: list[Due], access: dt.datetime
) -> None:
    chosen = combine_terms([Terms(due=d) for d in candidates], access=access).due
    assert chosen.kind is DueKind.DEFAULT


@given(st.integers(1, 6), accesses)
def test_only_unlimited_sources_stay_unlimited(count: int, access: dt.datetime) -> None:
    chosen = combine_terms([Terms(due=UNLIMITED)] * count, access=access).due
    assert chosen.kind is DueKind.UNLIMITED


def _exported_and_period_policies(period_weeks: int) -> list[Policy]:
    # what `export` writes (a fixed date) next to the policy that keeps the rule (a period)
    exported = policy("exported", users=["helen"], assign=[course("Security", due=date_due(2026, 12, 28))])
    rule = policy("security", users=["helen"], assign=[course("Security", due=within(period_weeks * WEEK))])
    return [exported, rule]


def test_tightening_a_period_after_export_plans_the_change() -> None:
    org = Org()
    item, helen = org.course("Security"), org.user("helen", dept="Acme")
    # assigned 2026-11-02 with 8w: due 2026-12-28, the date export wrote
    held = enrollment(helen, item, access=ACCESS, due=dt.datetime(2026, 12, 28, tzinfo=dt.UTC))
    same = plan_for(_exported_and_period_policies(8), snapshot(org, [held]))
    assert same.actions == ()
    tightened = plan_for(_exported_and_period_policies(6), snapshot(org, [held]))
    [update] = tightened.actions
    assert update.kind is ActionKind.UPDATE and update.terms is not None
    assert update.terms.due == within(6 * WEEK)
    assert Risk.TIGHTENED in update.risks


def test_a_new_enrollment_counts_the_period_from_today() -> None:
    org = Org()
    org.course("Security")
    org.user("helen", dept="Acme")
    # NOW is 2026-11-25: within 6w is 2027-01-06, later than the exported 2026-12-28: the date wins
    plan = plan_for(_exported_and_period_policies(6), snapshot(org, []), settings=Settings())
    [add] = plan.actions
    assert add.terms is not None and add.terms.due == date_due(2026, 12, 28)
    assert NOW.date() == dt.date(2026, 11, 25)


def test_a_period_from_an_access_date_at_the_end_of_the_calendar_ends_there() -> None:
    # some accounts hold "no end" as 9999-12-31; a `within:` period from it must not overflow the plan
    org = Org()
    item, helen = org.course("Security"), org.user("helen", dept="Acme")
    end = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    held = enrollment(helen, item, access=end, due=None)
    rule = policy("security", users=["helen"], assign=[course("Security", due=within(8 * WEEK))])
    (update,) = plan_for([rule], snapshot(org, [held])).actions
    assert update.kind is ActionKind.UPDATE and update.changes == ("due",)
    assert wanted_due_date(Terms(due=within(8 * WEEK)), end) == dt.date.max
    assert wanted_due_date(Terms(due=within(8 * WEEK)), ACCESS) == dt.date(2026, 12, 28)


def test_a_date_and_a_period_from_the_calendars_end_combine_without_overflow() -> None:
    end = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    wanted = [Terms(due=within(2 * WEEK)), Terms(due=date_due(2026, 12, 31))]
    assert combine_terms(wanted, access=end).due == date_due(2026, 12, 31)  # the date is the earlier
    assert effective_due(within(2 * WEEK), end) == dt.date.max

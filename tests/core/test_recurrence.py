"""`recur:` in the plan: a completion older than its period is re-enrolled once; a newer one never is."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable

import jsonschema
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler.core.due import DueFact, DueInformation
from reconciler.core.model import Completion, Enrollment, Policy, ProviderKind, Settings, Snapshot, Terms
from reconciler.core.period import RecurFrom, Recurrence, parse_every
from reconciler.core.plan import ActionKind, Plan, ProviderPlan, RunOptions
from reconciler.core.recurrence import add_reenrollments
from reconciler.errors import Position
from reconciler.planfile.codec import plan_to_json
from reconciler.planfile.decode import plan_from_dict
from reconciler.planfile.file import plan_schema
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from tests.support.builders import (
    LITMOS_CAPS,
    NOW,
    Org,
    course,
    enrollment,
    expanded,
    plan_for,
    policy,
    snapshot,
)

Golden = Callable[[str, str], None]
YEAR = Recurrence(months=12)
CAPS = dataclasses.replace(LITMOS_CAPS, reenroll=frozenset({course("x").item.kind}))


def _recurring(recur: Recurrence = YEAR, **targets: object) -> Policy:
    base = policy("security", assign=[course("Security")], **targets)  # type: ignore[arg-type]
    entry = base.assign[0]
    return dataclasses.replace(base, assign=(dataclasses.replace(entry, terms=Terms(recur=recur)),))


def _completed(org: Org, login: str, when: dt.datetime | None, **extra: object) -> Enrollment:
    user = next(u for u in org.users if u.login == login)
    item = next(i for i in org.items if i.title == "Security")
    done = enrollment(user, item, completion=Completion.COMPLETED, progress=100)
    return dataclasses.replace(done, completed_at=when, **extra)  # type: ignore[arg-type]


def _plan(pol: Policy, snap, *, dues: DueInformation | None = None, now: dt.datetime = NOW) -> ProviderPlan:
    part = plan_for([pol], snap, caps=CAPS, now=now)
    desired = expanded([pol], snap, Settings()).desired
    return add_reenrollments(part, desired, snap, now=now, capabilities=CAPS, dues=dues)


def _org(*logins: str) -> Org:
    org = Org()
    for login in logins:
        org.user(login, dept="Acme")
    org.course("Security")
    return org


def test_a_completion_older_than_the_period_is_re_enrolled_with_date_and_rule() -> None:
    org = _org("ann", "bob")
    snap = snapshot(
        org,
        [
            _completed(org, "ann", NOW - dt.timedelta(days=400)),
            _completed(org, "bob", NOW - dt.timedelta(days=30)),
        ],
        kind=ProviderKind.LITMOS,
    )
    part = _plan(_recurring(everyone=True), snap)
    (action,) = part.actions
    assert (action.kind, action.user_login) == (ActionKind.REENROLL, "ann")
    assert action.changes == ("completed 2025-10-21; every 12 months from completion",)
    assert (part.summary.reenroll, part.summary.unchanged, part.summary.notifications) == (1, 1, 1)
    assert Plan(created_at=NOW, manifest_digest="d", providers=(part,), options=RunOptions()).has_changes


def test_vendor_compliance_expiry_triggers_even_without_a_completion_date() -> None:
    org = _org("ann", "bob")
    snap = snapshot(
        org, [_completed(org, "ann", None), _completed(org, "bob", None)], kind=ProviderKind.LITMOS
    )
    item = org.items[0].id
    facts = (
        DueFact("u:ann", item, completed=True, expires=NOW - dt.timedelta(days=1)),
        DueFact("u:bob", item, completed=True, expires=NOW + dt.timedelta(days=1)),
    )
    part = _plan(_recurring(everyone=True), snap, dues=DueInformation("Litmos", "rosters", facts))
    assert [a.user_login for a in part.actions] == ["ann"]
    assert part.actions[0].changes[0].startswith("compliance expired")


def test_no_completion_date_and_no_expiry_is_left_alone_with_a_warning() -> None:
    org = _org("ann")
    snap = snapshot(org, [_completed(org, "ann", None)], kind=ProviderKind.LITMOS)
    part = _plan(_recurring(everyone=True), snap)
    assert part.actions == ()
    assert "cannot tell whether they are due again" in part.warnings[-1].message


def test_from_assignment_counts_from_the_access_date() -> None:
    org = _org("ann")
    done = _completed(org, "ann", NOW - dt.timedelta(days=10), access=NOW - dt.timedelta(days=100))
    pol = _recurring(Recurrence(days=90, anchor=RecurFrom.ASSIGNMENT), everyone=True)
    assert [a.kind for a in _plan(pol, snapshot(org, [done])).actions] == [ActionKind.REENROLL]


def test_periods_parse_and_months_are_calendar_months() -> None:
    assert parse_every("12 months") == YEAR
    assert parse_every("1 year") == YEAR
    assert parse_every("2 weeks") == Recurrence(days=14)
    jan31 = dt.datetime(2026, 1, 31, tzinfo=dt.UTC)
    assert Recurrence(months=1).after(jan31) == dt.datetime(2026, 2, 28, tzinfo=dt.UTC)


PERIODS = {
    "age_days": st.integers(min_value=0, max_value=1500),
    "months": st.integers(min_value=1, max_value=36),
}


def _completed_once(age_days: int, months: int) -> tuple[Policy, Snapshot, Recurrence, dt.datetime]:
    org = _org("ann")
    completed = NOW - dt.timedelta(days=age_days)
    recur = Recurrence(months=months)
    snap = snapshot(org, [_completed(org, "ann", completed)], kind=ProviderKind.LITMOS)
    return _recurring(recur, everyone=True), snap, recur, completed


@settings(max_examples=40, deadline=None)
@given(**PERIODS)
def test_inside_the_period_nothing_is_planned(age_days: int, months: int) -> None:
    pol, snap, recur, completed = _completed_once(age_days, months)
    assume(recur.after(completed) > NOW)
    assert _plan(pol, snap).actions == ()


@settings(max_examples=40, deadline=None)
@given(**PERIODS)
def test_outside_the_period_one_reenroll_and_once_started_over_nothing(age_days: int, months: int) -> None:
    pol, snap, recur, completed = _completed_once(age_days, months)
    assume(recur.after(completed) <= NOW)
    assert [a.kind for a in _plan(pol, snap).actions] == [ActionKind.REENROLL]
    # the vendor starts it over: the next plan (same moment or later, not completed) is empty
    reset = dataclasses.replace(
        snap.enrollments[0], completion=Completion.NOT_STARTED, progress=0.0, completed_at=None
    )
    again = dataclasses.replace(snap, enrollments=(reset,))
    assert _plan(pol, again).actions == ()
    assert _plan(pol, again, now=NOW + dt.timedelta(days=400)).actions == ()


def _golden_plan() -> Plan:
    org = _org("ann", "bob", "cy")
    snap = snapshot(
        org,
        [
            _completed(org, "ann", NOW - dt.timedelta(days=400)),
            _completed(org, "bob", NOW - dt.timedelta(days=100)),
        ],
        kind=ProviderKind.LITMOS,
    )
    part = _plan(_recurring(everyone=True), snap)
    # the builders place sources where they are called from; a golden file needs fixed positions
    where = Position("policies/security.yaml", 9, 7)
    actions = tuple(
        dataclasses.replace(a, sources=tuple(dataclasses.replace(s, position=where) for s in a.sources))
        for a in part.actions
    )
    part = dataclasses.replace(part, actions=actions)
    return Plan(created_at=NOW, manifest_digest="sha256:golden", providers=(part,), options=RunOptions())


def test_recurring_plan_goldens(golden: Golden) -> None:
    plan = _golden_plan()
    golden("plans/recurring.txt", render_text(plan))
    golden("plans/recurring.md", render_markdown(plan))
    text = plan_to_json(plan)
    golden("plans/recurring.json", text)
    jsonschema.Draft202012Validator(plan_schema()).validate(json.loads(text))
    assert plan_from_dict(json.loads(text)) == plan  # the saved plan keeps the recurrence and the reason

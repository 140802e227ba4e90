"""Removal guards and protection predicates."""

from __future__ import annotations

import pytest

from reconciler.core import safety
from reconciler.core.model import Completion, Settings
from reconciler.core.plan import KeptReason, ProviderPlan, RunOptions
from reconciler.core.safety import check_guards, is_protected, removal_protection, top_contributors
from reconciler.errors import EXIT_ERROR, GuardTripped
from tests.support.builders import Org, course, date_due, enrollment, plan_for, policy, snapshot


def plan_removing(removals: int, *, kept_enrollments: int = 0, extra_item_removals: int = 0) -> ProviderPlan:
    """A plan whose prunes remove `removals` enrollments of "Legacy" (and some of "Old")."""
    org = Org()
    legacy, old = org.course("Legacy"), org.course("Old")
    enrollments = []
    for n in range(removals + kept_enrollments):
        user = org.user(f"user{n:03}", dept="Acme")
        enrollments.append(enrollment(user, legacy))
    for n in range(extra_item_removals):
        enrollments.append(enrollment(org.users[n], old))
    wanted = [f"user{n:03}" for n in range(removals, removals + kept_enrollments)]
    policies = [
        policy("legacy", users=wanted, assign=[course("Legacy")], prune=True),
        policy("old", users=[], assign=[course("Old")], prune=True),
    ]
    return plan_for(policies, snapshot(org, enrollments))


def test_plan_within_limits_passes_and_reports_numbers() -> None:
    plan = plan_removing(2, kept_enrollments=48)
    safety.check(plan, Settings())
    status = check_guards(plan, Settings())
    assert status["max_removals"].startswith("ok: 2 removals, limit 25")
    assert status["max_removal_share"].startswith("ok: 2 of 50 managed enrollments (4.0%)")


def test_too_many_removals_trips_the_count_guard_with_numbers_and_hint() -> None:
    plan = plan_removing(26, kept_enrollments=1000)
    with pytest.raises(GuardTripped) as caught:
        safety.check(plan, Settings())
    error = caught.value
    assert error.exit_code == EXIT_ERROR
    assert "26 removals exceed settings.max_removals (25)" in error.message
    assert "'Legacy' 26 (policy legacy)" in error.message
    assert "settings:" in error.hint and "enrollctl.yaml" in error.hint and "max_removals: 26" in error.hint
    assert check_guards(plan, Settings())["max_removals"].startswith("tripped")


def test_removal_count_at_the_limit_is_allowed() -> None:
    safety.check(plan_removing(25, kept_enrollments=1000), Settings())


def test_too_large_a_share_trips_the_share_guard() -> None:
    plan = plan_removing(3, kept_enrollments=7)
    with pytest.raises(GuardTripped) as caught:
        safety.check(plan, Settings())
    assert (
        "3 of 10 managed enrollments (30.0%) exceed settings.max_removal_share (10.0%)"
        in caught.value.message
    )
    assert "max_removal_share: 0.30" in caught.value.hint
    safety.check(plan, Settings(max_removal_share=0.5))


def test_message_names_the_biggest_contributors_first() -> None:
    plan = plan_removing(30, kept_enrollments=1000, extra_item_removals=5)
    assert top_contributors(plan) == [("legacy", "Legacy", 30), ("old", "Old", 5)]
    with pytest.raises(GuardTripped, match=r"'Legacy' 30 \(policy legacy\); 'Old' 5 \(policy old\)"):
        safety.check(plan, Settings())


def test_plan_without_removals_never_trips() -> None:
    plan = plan_removing(0)
    safety.check(plan, Settings(max_removals=0, max_removal_share=0.0))


def test_protection_rules() -> None:
    org = Org()
    u, c = org.user("ann"), org.course("C")
    fresh = enrollment(u, c)
    started = enrollment(u, c, completion=Completion.IN_PROGRESS, progress=10)
    done = enrollment(u, c, completion=Completion.COMPLETED, progress=100)
    default, started_ok = RunOptions(), RunOptions(allow_remove_started=True)
    completed_ok = RunOptions(allow_remove_completed=True)
    assert removal_protection(fresh, default) is None and not is_protected(fresh)
    assert removal_protection(started, default) is KeptReason.HAS_PROGRESS and is_protected(started)
    assert removal_protection(started, started_ok) is None
    assert removal_protection(done, started_ok) is KeptReason.COMPLETED
    assert removal_protection(done, completed_ok) is None
    assert removal_protection(started, completed_ok) is None


def test_guards_count_only_the_removals_among_adds_and_updates() -> None:
    org = Org()
    legacy, fresh = org.course("Legacy"), org.course("Fresh")
    users = [org.user(f"user{n:03}", dept="Acme") for n in range(40)]
    held = [enrollment(u, legacy) for u in users[:26]] + [enrollment(u, fresh) for u in users[26:30]]
    policies = [
        policy("legacy", users=[], assign=[course("Legacy")], prune=True),
        policy("fresh", users=[u.login for u in users], assign=[course("Fresh", due=date_due(2031, 1, 1))]),
    ]
    plan = plan_for(policies, snapshot(org, held))
    assert (plan.summary.add, plan.summary.update, plan.summary.remove) == (36, 4, 26)
    status = check_guards(plan, Settings(max_removals=26, max_removal_share=1.0))
    assert status["max_removals"].startswith("ok: 26 removals, limit 26")
    assert status["max_removal_share"].startswith("ok: 26 of 30 managed enrollments")
    with pytest.raises(GuardTripped, match=r"26 removals exceed settings\.max_removals \(25\)"):
        safety.check(plan, Settings(max_removals=25, max_removal_share=1.0))

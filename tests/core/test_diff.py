"""The plan: adds, updates, removals, what is kept and why, the summary and the order of actions."""

from __future__ import annotations

import dataclasses
import datetime as dt

from reconciler.core.model import Capabilities, Completion, Origin, ProviderKind, Settings, Terms, UserStatus
from reconciler.core.plan import ActionKind, KeptReason, Risk, RunOptions
from tests.support.builders import (
    LITMOS_CAPS,
    NOW,
    Org,
    course,
    date_due,
    enrollment,
    learning_path,
    plan_for,
    policy,
    snapshot,
    within,
)


def org_with(*logins: str, dept: str = "Acme/Sales") -> Org:
    org = Org()
    for login in logins:
        org.user(login, dept=dept)
    org.course("Security")
    org.course("Legacy")
    org.course("Unmanaged")
    org.learning_path("Onboarding")
    return org


def user(org: Org, login: str):  # type: ignore[no-untyped-def]
    return next(u for u in org.users if u.login == login)


def item(org: Org, title: str):  # type: ignore[no-untyped-def]
    return next(i for i in org.items if i.title == title)


def kinds(plan) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(a.kind.value, a.item_title, a.user_login) for a in plan.actions]


def pruning(*, catalog: bool = False):  # type: ignore[no-untyped-def]
    return policy("legacy", users=["keep"], assign=[course("Legacy")], prune=True, prune_catalog=catalog)


# --- add -------------------------------------------------------------------------------------------------


def test_adds_what_is_wanted_and_absent_with_names_and_department() -> None:
    org = org_with("ann", "bob")
    pol = policy("sec", departments=["Acme"], assign=[course("Security", due=date_due(2026, 12, 31))])
    bobs = enrollment(user(org, "bob"), item(org, "Security"), due=dt.datetime(2026, 12, 31, tzinfo=dt.UTC))
    plan = plan_for([pol], snapshot(org, [bobs]))
    (add,) = plan.actions
    assert (add.kind, add.user_login, add.item_title, add.department) == (
        ActionKind.ADD,
        "ann",
        "Security",
        "Acme/Sales",
    )
    assert add.terms == Terms(due=date_due(2026, 12, 31))
    assert add.sources[0].policy == "sec" and add.before is None
    assert plan.summary.add == 1 and plan.summary.unchanged == 1 and plan.summary.notifications == 1


def test_add_with_past_due_date_is_flagged() -> None:
    org = org_with("ann")
    pol = policy("sec", users=["ann"], assign=[course("Security", due=date_due(2026, 1, 31))])
    (add,) = plan_for([pol], snapshot(org)).actions
    assert add.risks == (Risk.PAST_DUE,)


def test_notify_false_policy_adds_send_no_notification_where_the_vendor_can_be_told() -> None:
    org = org_with("ann")
    pol = policy("sec", users=["ann"], assign=[course("Security")], notify=False)
    plan = plan_for([pol], snapshot(org), caps=Capabilities(notify_switch=True))
    assert plan.actions[0].notify is False and plan.summary.notifications == 0
    silent_vendor = plan_for([pol], snapshot(org), caps=Capabilities(notify_switch=False))
    assert silent_vendor.actions[0].notify is True and silent_vendor.summary.notifications == 1
    assert "cannot suppress e-mails" in silent_vendor.warnings[0].message


# --- update ----------------------------------------------------------------------------------------------


def test_update_lists_changed_fields_and_labels_them() -> None:
    org = org_with("ann")
    before = enrollment(
        user(org, "ann"), item(org, "Security"), due=dt.datetime(2027, 1, 31, tzinfo=dt.UTC), lock=True
    )
    pol = policy("sec", users=["ann"], assign=[course("Security", due=date_due(2026, 12, 31))])
    (update,) = plan_for([pol], snapshot(org, [before])).actions
    assert update.kind is ActionKind.UPDATE and update.before == before
    assert update.changes == ("due", "lock_after_due")
    assert update.risks == (Risk.TIGHTENED, Risk.LOOSENED)


def test_due_moved_later_or_removed_is_loosened() -> None:
    org = org_with("ann")
    before = enrollment(user(org, "ann"), item(org, "Security"), due=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    later = policy("sec", users=["ann"], assign=[course("Security", due=date_due(2027, 1, 1))])
    assert plan_for([later], snapshot(org, [before])).actions[0].risks == (Risk.LOOSENED,)
    from tests.support.builders import UNLIMITED

    none = policy("sec", users=["ann"], assign=[course("Security", due=UNLIMITED)])
    assert plan_for([none], snapshot(org, [before])).actions[0].risks == (Risk.LOOSENED,)


def test_access_is_compared_only_when_the_policy_sets_it() -> None:
    org = org_with("ann")
    before = enrollment(
        user(org, "ann"), item(org, "Security"), access=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    )
    silent = policy("sec", users=["ann"], assign=[course("Security")])
    assert plan_for([silent], snapshot(org, [before])).actions == ()
    moved = policy("sec", users=["ann"], assign=[course("Security", access=dt.date(2026, 4, 1))])
    assert plan_for([moved], snapshot(org, [before])).actions[0].changes == ("access",)


def test_default_due_is_never_compared() -> None:
    org = org_with("ann")
    before = enrollment(user(org, "ann"), item(org, "Security"), due=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    plan = plan_for([policy("sec", users=["ann"], assign=[course("Security")])], snapshot(org, [before]))
    assert plan.actions == () and plan.summary.unchanged == 1


def test_relative_due_does_not_drift_a_week_later_where_vendor_stores_dates() -> None:
    org = org_with("ann")
    access = dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC)
    before = enrollment(
        user(org, "ann"), item(org, "Security"), access=access, due=access + dt.timedelta(days=30)
    )
    pol = policy("sec", users=["ann"], assign=[course("Security", due=within(30 * 24))])
    for days_later in (0, 7, 60):
        assert plan_for([pol], snapshot(org, [before]), now=NOW + dt.timedelta(days=days_later)).actions == ()


def test_relative_due_compares_hours_where_vendor_stores_periods() -> None:
    org = org_with("ann")
    before = enrollment(user(org, "ann"), item(org, "Security"), due_hours=14 * 24, access=NOW)
    same = policy("sec", users=["ann"], assign=[course("Security", due=within(14 * 24))])
    assert plan_for([same], snapshot(org, [before])).actions == ()
    shorter = policy("sec", users=["ann"], assign=[course("Security", due=within(7 * 24))])
    (update,) = plan_for([shorter], snapshot(org, [before])).actions
    assert update.changes == ("due",) and Risk.TIGHTENED in update.risks


def test_date_due_matches_a_datetime_reported_with_an_offset() -> None:
    org = org_with("ann")
    # Local midnight in UTC+5 is the previous day in UTC; local end-of-day in UTC-5 is the next day in UTC.
    east = enrollment(
        user(org, "ann"),
        item(org, "Security"),
        due=dt.datetime(2026, 12, 31, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    )
    west = enrollment(
        user(org, "ann"),
        item(org, "Security"),
        due=dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    )
    naive = enrollment(user(org, "ann"), item(org, "Security"), due=dt.datetime(2026, 12, 31, 23, 59))
    pol = policy("sec", users=["ann"], assign=[course("Security", due=date_due(2026, 12, 31))])
    for before in (east, west, naive):
        assert plan_for([pol], snapshot(org, [before])).actions == ()
    wrong_day = enrollment(
        user(org, "ann"), item(org, "Security"), due=dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    )
    assert plan_for([pol], snapshot(org, [wrong_day])).actions[0].changes == ("due",)


def test_vendor_without_due_dates_adds_with_default_and_keeps_differences_unsupported() -> None:
    org = org_with("ann", "bob")
    pol = policy("sec", users=["ann", "bob"], assign=[course("Security", due=date_due(2026, 12, 31))])
    before = enrollment(user(org, "bob"), item(org, "Security"), due=dt.datetime(2027, 3, 1, tzinfo=dt.UTC))
    plan = plan_for([pol], snapshot(org, [before], kind=ProviderKind.LITMOS), caps=LITMOS_CAPS)
    (add,) = plan.actions
    assert add.user_login == "ann" and add.terms == Terms()
    (kept,) = plan.kept
    assert kept.reason is KeptReason.UNSUPPORTED and "litmos cannot change due" in kept.detail
    assert any("cannot set due" in w.message for w in plan.warnings)


def test_no_update_when_the_vendor_cannot_change_terms() -> None:
    org = org_with("ann")
    before = enrollment(user(org, "ann"), item(org, "Security"))
    pol = policy("sec", users=["ann"], assign=[course("Security", lock=True)])
    plan = plan_for([pol], snapshot(org, [before]), caps=Capabilities(update_terms=False))
    assert plan.actions == () and plan.kept[0].reason is KeptReason.UNSUPPORTED


# --- remove ----------------------------------------------------------------------------------------------


def removal_org() -> Org:
    org = org_with("keep", "ann", "bob", "cat", "dan", "eve")
    org.user("off", dept="Acme/Sales", status=UserStatus.INACTIVE)
    return org


def test_prune_removes_unwanted_admin_enrollments_only_in_pruned_items() -> None:
    org = removal_org()
    enrollments = [
        enrollment(user(org, "keep"), item(org, "Legacy")),
        enrollment(user(org, "ann"), item(org, "Legacy")),
        enrollment(user(org, "ann"), item(org, "Security")),  # managed, not pruned
        enrollment(user(org, "ann"), item(org, "Unmanaged")),  # not managed at all
    ]
    sec = policy("sec", users=["keep"], assign=[course("Security")])
    plan = plan_for([pruning(), sec], snapshot(org, enrollments))
    assert kinds(plan) == [("add", "Security", "keep"), ("remove", "Legacy", "ann")]
    assert plan.actions[1].sources[0].rule == "prune: true" and plan.actions[1].before == enrollments[1]
    assert plan.summary.managed == 3 and plan.summary.untouched == 1


def test_without_prune_nothing_is_removed() -> None:
    org = removal_org()
    pol = policy("legacy", users=["keep"], assign=[course("Legacy")])
    plan = plan_for([pol], snapshot(org, [enrollment(user(org, "ann"), item(org, "Legacy"))]))
    assert plan.actions[0].kind is ActionKind.ADD and len(plan.actions) == 1


def test_prune_keeps_catalog_enrollments_unless_prune_catalog() -> None:
    org = removal_org()
    chosen = enrollment(user(org, "ann"), item(org, "Legacy"), origin=Origin.CATALOG)
    kept = plan_for([pruning()], snapshot(org, [chosen]))
    assert [k.reason for k in kept.kept] == [KeptReason.CATALOG]
    removed = plan_for([pruning(catalog=True)], snapshot(org, [chosen]))
    assert kinds(removed)[-1] == ("remove", "Legacy", "ann")


def test_prune_keeps_started_enrollments_unless_allowed() -> None:
    org = removal_org()
    started = enrollment(
        user(org, "ann"), item(org, "Legacy"), completion=Completion.IN_PROGRESS, progress=40
    )
    plan = plan_for([pruning()], snapshot(org, [started]))
    assert [k.reason for k in plan.kept] == [KeptReason.HAS_PROGRESS] and "40%" in plan.kept[0].detail
    allowed = plan_for([pruning()], snapshot(org, [started]), options=RunOptions(allow_remove_started=True))
    assert allowed.actions[-1].risks == (Risk.PROTECTED_OVERRIDE,)


def test_progress_without_status_counts_as_started() -> None:
    org = removal_org()
    started = enrollment(user(org, "ann"), item(org, "Legacy"), progress=5)
    assert plan_for([pruning()], snapshot(org, [started])).kept[0].reason is KeptReason.HAS_PROGRESS


def test_prune_keeps_completed_enrollments_even_when_started_ones_may_go() -> None:
    org = removal_org()
    done = enrollment(user(org, "ann"), item(org, "Legacy"), completion=Completion.COMPLETED, progress=100)
    started_ok = plan_for([pruning()], snapshot(org, [done]), options=RunOptions(allow_remove_started=True))
    assert [k.reason for k in started_ok.kept] == [KeptReason.COMPLETED]
    completed_ok = plan_for(
        [pruning()], snapshot(org, [done]), options=RunOptions(allow_remove_completed=True)
    )
    assert completed_ok.actions[-1].kind is ActionKind.REMOVE
    assert completed_ok.actions[-1].risks == (Risk.PROTECTED_OVERRIDE,)


def test_allow_remove_completed_implies_started() -> None:
    org = removal_org()
    started = enrollment(user(org, "ann"), item(org, "Legacy"), completion=Completion.IN_PROGRESS, progress=1)
    plan = plan_for([pruning()], snapshot(org, [started]), options=RunOptions(allow_remove_completed=True))
    assert plan.actions[-1].kind is ActionKind.REMOVE


def test_prune_keeps_assignments_of_users_outside_settings_statuses() -> None:
    org = removal_org()
    on_leave = enrollment(user(org, "off"), item(org, "Legacy"))
    plan = plan_for([pruning()], snapshot(org, [on_leave]))
    assert [k.reason for k in plan.kept] == [KeptReason.USER_NOT_ENROLLABLE]
    assert all(a.kind is not ActionKind.REMOVE for a in plan.actions)


def test_unpruned_items_do_not_list_users_outside_statuses() -> None:
    org = removal_org()
    pol = policy("legacy", users=["keep"], assign=[course("Legacy")])
    plan = plan_for([pol], snapshot(org, [enrollment(user(org, "off"), item(org, "Legacy"))]))
    assert plan.kept == ()


def test_prune_never_touches_users_unknown_to_the_directory_or_outside_scope() -> None:
    org = removal_org()
    org.user("far", dept="Acme/Engineering")
    ghost = enrollment(user(org, "ann"), item(org, "Legacy"))
    ghost = dataclasses.replace(ghost, user_id="u:deleted")
    far = enrollment(user(org, "far"), item(org, "Legacy"))
    scope = ["d:Acme/Sales", "d:Acme"]
    plan = plan_for([pruning()], snapshot(org, [ghost, far], scope=scope))
    assert [a.kind for a in plan.actions] == [ActionKind.ADD] and plan.kept == ()


def test_wanted_enrollments_outside_the_department_scope_are_not_planned() -> None:
    org = removal_org()
    org.user("far", dept="Acme/Engineering")
    pol = policy("sec", users=["far", "ann"], assign=[course("Security")])
    plan = plan_for([pol], snapshot(org, scope=["d:Acme/Sales"]))
    assert kinds(plan) == [("add", "Security", "ann")]
    assert "department scope" in plan.warnings[0].message


def test_enrollment_wanted_by_another_policy_is_not_removed() -> None:
    org = removal_org()
    sec = policy("other", users=["ann"], assign=[course("Legacy")])
    plan = plan_for([pruning(), sec], snapshot(org, [enrollment(user(org, "ann"), item(org, "Legacy"))]))
    assert all(a.kind is not ActionKind.REMOVE for a in plan.actions)


# --- --policy filter, order, summary ---------------------------------------------------------------------


def test_policy_filter_limits_adds_and_prunes_to_the_chosen_policies() -> None:
    org = removal_org()
    sec = policy("sec", users=["ann"], assign=[course("Security")])
    enrollments = [enrollment(user(org, "bob"), item(org, "Legacy"))]
    only_sec = plan_for([pruning(), sec], snapshot(org, enrollments), options=RunOptions(policies=("sec",)))
    assert kinds(only_sec) == [("add", "Security", "ann")]
    assert only_sec.managed_item_ids == ("c:Security",)
    only_legacy = plan_for(
        [pruning(), sec], snapshot(org, enrollments), options=RunOptions(policies=("legacy",))
    )
    assert kinds(only_legacy) == [("add", "Legacy", "keep"), ("remove", "Legacy", "bob")]


def test_actions_are_ordered_by_kind_then_item_then_login() -> None:
    org = removal_org()
    pol = policy(
        "all", users=["eve", "ann"], assign=[learning_path("Onboarding"), course("Security", lock=True)]
    )
    enrollments = [
        enrollment(user(org, "dan"), item(org, "Security")),
        enrollment(user(org, "cat"), item(org, "Security")),
        enrollment(user(org, "bob"), item(org, "Legacy")),
        enrollment(user(org, "ann"), item(org, "Security")),
    ]
    plan = plan_for(
        [pol, pruning(), policy("sec2", users=["cat", "dan"], assign=[course("Security")], prune=True)],
        snapshot(org, enrollments),
    )
    assert kinds(plan) == [
        ("add", "Legacy", "keep"),
        ("add", "Onboarding", "ann"),
        ("add", "Onboarding", "eve"),
        ("add", "Security", "eve"),
        ("update", "Security", "ann"),
        ("remove", "Legacy", "bob"),
    ]
    assert plan.summary.add == 4 and plan.summary.update == 1 and plan.summary.remove == 1
    assert plan.summary.unchanged == 2 and plan.summary.managed == 4


def test_diff_is_pure_and_leaves_estimated_calls_to_the_provider() -> None:
    org = removal_org()
    snap = snapshot(org, [enrollment(user(org, "ann"), item(org, "Legacy"))])
    pol = pruning()
    first = plan_for([pol], snap, settings=Settings())
    assert first == plan_for([pol], snap, settings=Settings())
    assert first.summary.estimated_calls == 0


def test_update_to_a_due_date_already_past_is_flagged() -> None:
    org = org_with("ann")
    before = enrollment(user(org, "ann"), item(org, "Security"), due=dt.datetime(2027, 1, 31, tzinfo=dt.UTC))
    pol = policy("sec", users=["ann"], assign=[course("Security", due=date_due(2026, 6, 30))])
    (update,) = plan_for([pol], snapshot(org, [before])).actions
    assert update.risks == (Risk.TIGHTENED, Risk.PAST_DUE)


def test_moving_access_moves_a_relative_due_stored_as_a_date() -> None:
    org = org_with("ann")
    access = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    before = enrollment(
        user(org, "ann"), item(org, "Security"), access=access, due=access + dt.timedelta(days=14)
    )
    pol = policy(
        "sec", users=["ann"], assign=[course("Security", due=within(14 * 24), access=dt.date(2026, 4, 1))]
    )
    (update,) = plan_for([pol], snapshot(org, [before])).actions
    assert update.changes == ("due", "access")


def test_wanted_catalog_enrollment_is_updated_not_removed() -> None:
    org = removal_org()
    chosen = enrollment(user(org, "keep"), item(org, "Legacy"), origin=Origin.CATALOG)
    pol = policy("legacy", users=["keep"], assign=[course("Legacy", lock=True)], prune=True)
    plan = plan_for([pol], snapshot(org, [chosen]))
    assert kinds(plan) == [("update", "Legacy", "keep")]

"""`reconciler.core.export`: compact policies that reproduce the admin-assigned enrollments of a snapshot."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.export import export_policies, exported_terms
from reconciler.core.model import DueKind, Enrollment, Origin, Policy, RefBy, Settings, Snapshot, UserStatus
from reconciler.manifest.dump import dump_policy
from reconciler.manifest.load import parse_policies
from tests.support.builders import ISPRING_CAPS, LITMOS_CAPS, NOW, Org, enrollment, plan_for, snapshot

DUE = dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def _org() -> Org:
    org = Org()
    for login, dept, groups in [
        ("helen", "Acme/Sales/EMEA", ["Managers"]),
        ("marco", "Acme/Sales/EMEA", []),
        ("kim", "Acme/Sales", ["Managers"]),
        ("quinn", "Acme/Sales/Americas", []),
        ("rosa", "Acme/Sales/Americas", []),
        ("kevin", "Acme/Engineering", ["Managers"]),
        ("dana", "Acme/Engineering", []),
    ]:
        org.user(login, dept=dept, groups=groups)
    org.course("Security Awareness")
    return org


def _export(snap: Snapshot, **kwargs: object) -> tuple[Policy, ...]:
    return export_policies(snap, Settings(), now=NOW, capabilities=ISPRING_CAPS, **kwargs).policies  # type: ignore[arg-type]


def _enroll(org: Org, logins: list[str], **terms: object) -> list[Enrollment]:
    users = {u.login: u for u in org.users}
    return [enrollment(users[login], org.items[0], **terms) for login in logins]  # type: ignore[arg-type]


def test_a_fully_enrolled_subtree_becomes_one_recursive_department() -> None:
    org = _org()
    snap = snapshot(org, _enroll(org, ["helen", "marco", "kim", "quinn", "rosa"], due=DUE))
    (policy,) = _export(snap)
    assert [(d.value, d.recursive) for d in policy.targets.departments] == [("Acme/Sales", True)]
    assert policy.targets.users == () and policy.targets.groups == ()
    assert not plan_for([policy], snap).actions


def test_a_department_whose_sub_departments_are_not_enrolled_is_not_recursive() -> None:
    org = _org()
    org.user("lena", dept="Acme/Sales")
    snap = snapshot(org, _enroll(org, ["kim", "lena", "marco"], due=DUE))
    (policy,) = _export(snap)
    assert [(d.value, d.recursive) for d in policy.targets.departments] == [("Acme/Sales", False)]
    assert [u.value for u in policy.targets.users] == ["marco"]


def test_groups_cover_what_departments_cannot_and_the_rest_are_listed_by_login() -> None:
    org = _org()
    snap = snapshot(org, _enroll(org, ["helen", "kim", "kevin", "dana"]))
    (policy,) = _export(snap)
    assert [g.value for g in policy.targets.groups] == ["Managers"]
    assert [u.value for u in policy.targets.users] == ["dana"]
    assert not plan_for([policy], snap).actions


def test_everyone_enrolled_is_everyone() -> None:
    org = _org()
    snap = snapshot(org, _enroll(org, [u.login for u in org.users]))
    (policy,) = _export(snap)
    assert policy.targets.everyone and not policy.targets.departments


def test_each_distinct_set_of_terms_is_its_own_policy_largest_first() -> None:
    org = _org()
    enrollments = _enroll(org, ["helen", "marco", "kim"], due=DUE, lock=True) + _enroll(
        org, ["dana"], due_hours=720
    )
    first, second = _export(snapshot(org, enrollments))
    assert (first.name, second.name) == ("security-awareness", "security-awareness-2")
    assert first.assign[0].terms.due.date == dt.date(2026, 12, 31) and first.assign[0].terms.lock_after_due
    assert second.assign[0].terms.due.kind is DueKind.WITHIN and second.assign[0].terms.due.hours == 720
    assert not plan_for([first, second], snapshot(org, enrollments)).actions


def test_catalog_self_enrollments_are_not_exported_and_block_their_department() -> None:
    org = _org()
    users = {u.login: u for u in org.users}
    enrollments = [*_enroll(org, ["quinn"]), enrollment(users["rosa"], org.items[0], origin=Origin.CATALOG)]
    result = export_policies(snapshot(org, enrollments), Settings(), now=NOW, capabilities=ISPRING_CAPS)
    (policy,) = result.policies
    assert result.skipped_catalog == 1
    assert [u.value for u in policy.targets.users] == ["quinn"] and not policy.targets.departments


def test_blocked_holders_are_exported_and_plan_nothing() -> None:
    org = _org()
    org.user("farid", dept="Acme/Engineering", status=UserStatus.BLOCKED)
    snap = snapshot(org, _enroll(org, ["farid", "helen"]))
    result = export_policies(snap, Settings(), now=NOW, capabilities=ISPRING_CAPS)
    (policy,) = result.policies
    assert {u.value for u in policy.targets.users} == {"farid", "helen"}
    assert result.not_enrollable == 1
    plan = plan_for([policy], snap)
    assert not plan.actions and [i.reference for i in plan.identity.issues] == ["farid"]


def test_terms_the_vendor_cannot_set_are_left_at_the_default() -> None:
    org = _org()
    (e,) = _enroll(org, ["helen"], due=DUE, lock=True)
    terms = exported_terms(e, LITMOS_CAPS, NOW)
    assert terms.due.kind is DueKind.DEFAULT and not terms.lock_after_due and terms.access is None


def test_only_a_future_access_date_is_exported() -> None:
    org = _org()
    past, future = NOW - dt.timedelta(days=3), NOW + dt.timedelta(days=3)
    assert exported_terms(_enroll(org, ["helen"], access=past)[0], ISPRING_CAPS, NOW).access is None
    assert (
        exported_terms(_enroll(org, ["helen"], access=future)[0], ISPRING_CAPS, NOW).access == future.date()
    )


def test_a_vendor_default_due_is_exported_as_default() -> None:
    org = _org()
    (e,) = _enroll(org, ["helen"], due=DUE)
    from dataclasses import replace

    assert exported_terms(replace(e, due_is_default=True), ISPRING_CAPS, NOW).due.kind is DueKind.DEFAULT


def test_names_avoid_taken_ones_and_ambiguous_names_become_ids() -> None:
    org = _org()
    org.course("Security Awareness", id="c:dup")
    org.group("Managers")
    snap = snapshot(org, _enroll(org, ["helen", "kim"]))
    (policy,) = _export(snap, taken_names={"security-awareness"})
    assert policy.name == "security-awareness-2"
    assert policy.assign[0].item.by is RefBy.ID
    assert not plan_for([policy], snap).actions


def test_exported_policies_load_back_through_the_manifest_loader() -> None:
    import yaml

    org = _org()
    snap = snapshot(org, _enroll(org, ["helen", "kim", "dana"], due=DUE))
    text = yaml.safe_dump_all([dump_policy(p) for p in _export(snap)], sort_keys=False)
    loaded = parse_policies(text.encode())
    assert [dump_policy(p) for p in loaded] == [dump_policy(p) for p in _export(snap)]


# --- the round trip, for any organisation -------------------------------------------------------------

LOGINS = [f"u{n}" for n in range(12)]
DEPARTMENTS = ["Acme", "Acme/Sales", "Acme/Sales/EMEA", "Acme/Ops", "Acme/Ops/Yard"]
TERMS = st.sampled_from(
    [
        {},
        {"due": DUE},
        {"due": DUE, "lock": True},
        {"due_hours": 720},
        {"access": NOW + dt.timedelta(days=10)},
        {"access": NOW - dt.timedelta(days=10), "due": DUE},
    ]
)


@st.composite
def organisations(draw: st.DrawFn) -> Snapshot:
    org = Org()
    for login in LOGINS:
        org.user(
            login,
            dept=draw(st.sampled_from(DEPARTMENTS)),
            groups=draw(st.lists(st.sampled_from(["G1", "G2"]), unique=True)),
            status=draw(st.sampled_from([UserStatus.ACTIVE] * 4 + [UserStatus.BLOCKED])),
        )
    items = [org.course("C1"), org.course("C2"), org.learning_path("C1")]
    enrollments = []
    for user in org.users:
        for item in items:
            if draw(st.booleans()):
                origin = draw(st.sampled_from([Origin.ADMIN] * 5 + [Origin.CATALOG]))
                enrollments.append(enrollment(user, item, origin=origin, **draw(TERMS)))
    return snapshot(org, enrollments)


@settings(max_examples=150, deadline=None)
@given(organisations())
def test_plan_right_after_export_shows_no_changes(snap: Snapshot) -> None:
    policies = _export(snap)
    plan = plan_for(policies, snap)
    assert not plan.actions
    assert all(not p.prune for p in policies)


@settings(max_examples=50, deadline=None)
@given(organisations())
def test_plan_right_after_a_litmos_export_shows_no_changes(snap: Snapshot) -> None:
    policies = export_policies(snap, Settings(), now=NOW, capabilities=LITMOS_CAPS).policies
    assert all(a.terms.due.kind is DueKind.DEFAULT for p in policies for a in p.assign)
    assert not plan_for(policies, snap, caps=LITMOS_CAPS).actions

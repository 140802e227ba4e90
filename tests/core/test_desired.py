"""Expansion of policies into the desired state: targets, exclusions, statuses, names, conflicts."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.core.desired import combine_terms, expand, expand_or_raise
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import (
    Department,
    Directory,
    DueKind,
    Item,
    ItemKind,
    Settings,
    Terms,
    UserStatus,
)
from reconciler.core.plan import IdentityProblem, Source
from reconciler.errors import ResolutionError
from tests.support.builders import (
    DEFAULT,
    UNLIMITED,
    Org,
    course,
    date_due,
    dept_ref,
    group_ref,
    learning_path,
    policy,
    user_ref,
    within,
)


def acme() -> Org:
    org = Org()
    org.user("helen@acme.example", dept="Acme/Sales/EMEA", groups=["Managers"])
    org.user("sam@acme.example", dept="Acme/Sales")
    org.user("ivy@acme.example", dept="Acme/Engineering/Platform", groups=["New hires"])
    org.user("kevin@acme.example", dept="Acme/Engineering/Contractors")
    org.user("olga@acme.example", dept="Acme/Engineering", status=UserStatus.BLOCKED)
    org.user("lee", dept="Acme", email="Lee.Chan@acme.example", id="42")
    org.course("Security Awareness")
    org.course("Anti-Bribery")
    org.learning_path("Onboarding")
    return org


def wanted(org: Org, *policies_: object, settings: Settings | None = None) -> set[tuple[str, str]]:
    result = expand_or_raise(list(policies_), org.directory(), settings or Settings(), provider="lms")  # type: ignore[arg-type]
    return set(result.desired.enrollments)


def key(login: str, item: str) -> tuple[str, str]:
    return (f"u:{login}", item)


SEC = "c:Security Awareness"


# --- directory index -------------------------------------------------------------------------------------


def test_department_paths_are_built_from_parent_ids() -> None:
    index = DirectoryIndex.build(acme().directory())
    assert index.department_path("d:Acme/Sales/EMEA") == "Acme/Sales/EMEA"
    assert index.user_department("u:helen@acme.example") == "Acme/Sales/EMEA"


def test_department_cycle_does_not_hang() -> None:
    directory = Directory(departments=(Department("a", "A", "b"), Department("b", "B", "a")))
    index = DirectoryIndex.build(directory)
    assert sorted(index.subtree("a")) == ["a", "b"]
    assert index.department_path("a") in {"B/A", "A/B"}


# --- targets -----------------------------------------------------------------------------------------


def test_department_includes_sub_departments() -> None:
    org = acme()
    got = wanted(org, policy("p", departments=["Acme/Sales"], assign=[course("Security Awareness")]))
    assert got == {key("helen@acme.example", SEC), key("sam@acme.example", SEC)}


def test_department_not_recursive_takes_direct_members_only() -> None:
    org = acme()
    ref = dept_ref("Acme/Sales", recursive=False)
    got = wanted(org, policy("p", departments=[ref], assign=[course("Security Awareness")]))
    assert got == {key("sam@acme.example", SEC)}


def test_department_by_id() -> None:
    org = acme()
    ref = dept_ref("d:Acme/Sales/EMEA", by_id=True)
    got = wanted(org, policy("p", departments=[ref], assign=[course("Security Awareness")]))
    assert got == {key("helen@acme.example", SEC)}


def test_groups_are_not_recursive_and_resolve_by_name_or_id() -> None:
    org = acme()
    by_name = wanted(org, policy("p", groups=["New hires"], assign=[course("Security Awareness")]))
    by_id = wanted(
        org, policy("p", groups=[group_ref("g:New hires", by_id=True)], assign=[course("Security Awareness")])
    )
    assert by_name == by_id == {key("ivy@acme.example", SEC)}


@pytest.mark.parametrize("ref", ["lee", "LEE", "lee.chan@ACME.example", user_ref("42", by_id=True)])
def test_users_by_login_email_or_id_case_insensitively(ref: object) -> None:
    org = acme()
    got = wanted(org, policy("p", users=[ref], assign=[course("Security Awareness")]))  # type: ignore[list-item]
    assert got == {("42", SEC)}


def test_everyone_means_every_enrollable_user() -> None:
    org = acme()
    got = wanted(org, policy("p", everyone=True, assign=[course("Security Awareness")]))
    assert len(got) == 5  # olga is blocked


def test_exclusions_subtract_in_every_form() -> None:
    org = acme()
    pol = policy(
        "p",
        everyone=True,
        exclude_departments=["Acme/Engineering/Contractors"],
        exclude_groups=["Managers"],
        exclude_users=["sam@acme.example"],
        assign=[course("Security Awareness")],
    )
    result = expand_or_raise([pol], org.directory(), Settings(), provider="lms")
    assert set(result.desired.enrollments) == {key("ivy@acme.example", SEC), ("42", SEC)}
    assert result.identity.excluded == 3


def test_users_outside_settings_statuses_are_counted_not_enrolled() -> None:
    org = acme()
    result = expand(
        [policy("p", everyone=True, assign=[course("Security Awareness")])],
        org.directory(),
        Settings(),
        provider="lms",
    )
    assert key("olga@acme.example", SEC) not in result.desired.enrollments
    assert result.identity.not_enrollable == 1
    assert result.identity.issues == ()  # not named: olga was not referenced directly


def test_settings_statuses_widen_who_is_enrolled() -> None:
    org = acme()
    settings = Settings(user_statuses=(UserStatus.ACTIVE, UserStatus.BLOCKED))
    got = wanted(org, policy("p", everyone=True, assign=[course("Security Awareness")]), settings=settings)
    assert key("olga@acme.example", SEC) in got


def test_directly_named_inactive_user_is_reported_with_status() -> None:
    org = acme()
    pol = policy("p", users=["olga@acme.example"], assign=[course("Security Awareness")])
    result = expand([pol], org.directory(), Settings(), provider="lms")
    (issue,) = result.identity.issues
    assert (issue.problem, issue.status, issue.reference) == (
        IdentityProblem.NOT_ENROLLABLE,
        "blocked",
        "olga@acme.example",
    )
    assert issue.position == pol.targets.users[0].position


def test_unknown_user_is_an_identity_issue_not_an_error() -> None:
    org = acme()
    pol = policy("p", users=["ghost@acme.example", "sam@acme.example"], assign=[course("Security Awareness")])
    result = expand_or_raise([pol], org.directory(), Settings(), provider="lms")
    assert set(result.desired.enrollments) == {key("sam@acme.example", SEC)}
    assert [(i.problem, i.reference) for i in result.identity.issues] == [
        (IdentityProblem.UNKNOWN, "ghost@acme.example")
    ]


def test_email_shared_by_two_users_enrolls_neither() -> None:
    org = Org()
    org.user("a", email="team@acme.example")
    org.user("b", email="team@acme.example")
    org.course("Security Awareness")
    result = expand(
        [policy("p", users=["team@acme.example"], assign=[course("Security Awareness")])],
        org.directory(),
        Settings(),
        provider="lms",
    )
    assert not result.desired.enrollments
    assert result.identity.issues[0].problem is IdentityProblem.UNKNOWN


def test_policies_of_other_providers_are_ignored() -> None:
    org = acme()
    mine = policy("mine", users=["sam@acme.example"], assign=[course("Security Awareness")], provider="lms")
    theirs = policy("theirs", users=["lee"], assign=[course("Security Awareness")], provider="academy")
    unnamed = policy("unnamed", users=["ivy@acme.example"], assign=[course("Security Awareness")])
    got = wanted(org, mine, theirs, unnamed)
    assert got == {key("sam@acme.example", SEC), key("ivy@acme.example", SEC)}


# --- sources -------------------------------------------------------------------------------------------


def test_every_matching_rule_is_a_source() -> None:
    org = acme()
    assignment = course("Security Awareness")
    pol = policy(
        "p",
        departments=["Acme/Sales"],
        groups=["Managers"],
        users=[user_ref("u:helen@acme.example", by_id=True)],
        assign=[assignment],
    )
    result = expand_or_raise([pol], org.directory(), Settings(), provider="lms")
    sources = result.desired.enrollments[key("helen@acme.example", SEC)].sources
    assert [s.rule for s in sources] == [
        "departments: Acme/Sales",
        "groups: Managers",
        "users: {id: u:helen@acme.example}",
    ]
    assert {s.position for s in sources} == {assignment.position}
    assert sources == tuple(sorted(sources))


def test_rule_text_of_non_recursive_department_and_everyone() -> None:
    org = acme()
    pol = policy(
        "p",
        everyone=True,
        departments=[dept_ref("Acme/Sales", recursive=False)],
        assign=[course("Security Awareness")],
    )
    result = expand_or_raise([pol], org.directory(), Settings(), provider="lms")
    rules = {s.rule for s in result.desired.enrollments[key("sam@acme.example", SEC)].sources}
    assert rules == {"everyone", "departments: {path: Acme/Sales, recursive: false}"}


def test_managed_items_include_items_assigned_to_nobody_and_prune_flags() -> None:
    org = acme()
    pol = policy(
        "p",
        users=["ghost"],
        assign=[course("Anti-Bribery"), learning_path("Onboarding")],
        prune=True,
        prune_catalog=True,
    )
    other = policy("q", users=["sam@acme.example"], assign=[course("Anti-Bribery")])
    result = expand_or_raise([pol, other], org.directory(), Settings(), provider="lms")
    items = result.desired.items
    assert result.desired.managed_item_ids == {"c:Anti-Bribery", "lp:Onboarding"}
    assert items["c:Anti-Bribery"].policies == ("p", "q")
    assert items["c:Anti-Bribery"].pruned and items["c:Anti-Bribery"].prune_catalog
    assert items["c:Anti-Bribery"].prune_by == (Source("p", pol.position, "prune: true"),)


# --- names that do not resolve ---------------------------------------------------------------------------


def test_unknown_names_are_all_reported_at_once_with_positions_and_candidates() -> None:
    org = acme()
    pol = policy(
        "p",
        departments=["Acme/Sale"],
        groups=["New hire"],
        exclude_departments=["Acme/Engineering/Contractor"],
        assign=[course("Security Awarness"), learning_path("Onbording")],
    )
    with pytest.raises(ResolutionError) as caught:
        expand_or_raise([pol], org.directory(), Settings(), provider="lms")
    by_key = {d.key_path: d for d in caught.value.diagnostics}
    assert set(by_key) == {
        "spec.targets.departments[0]",
        "spec.targets.groups[0]",
        "spec.targets.exclude.departments[0]",
        "spec.assign[0].course",
        "spec.assign[1].learning_path",
    }
    assert by_key["spec.targets.departments[0]"].position == pol.targets.departments[0].position
    assert "Acme/Sales" in by_key["spec.targets.departments[0]"].hint
    assert "New hires" in by_key["spec.targets.groups[0]"].hint
    assert "Security Awareness" in by_key["spec.assign[0].course"].hint
    assert "Onboarding" in by_key["spec.assign[1].learning_path"].hint
    assert "5 problems found" in str(caught.value)


def test_bare_department_name_suggests_full_paths() -> None:
    org = acme()
    result = expand(
        [policy("p", departments=["EMEA"], assign=[course("Security Awareness")])],
        org.directory(),
        Settings(),
        provider="lms",
    )
    (diag,) = result.diagnostics
    assert "Acme/Sales/EMEA" in diag.hint


def test_candidates_are_at_most_five() -> None:
    org = Org()
    for n in range(10):
        org.course(f"Security {n}")
    result = expand(
        [policy("p", everyone=True, assign=[course("Security")])], org.directory(), Settings(), provider="lms"
    )
    (diag,) = result.diagnostics
    assert diag.hint.count("Security ") <= 5


def test_ambiguous_names_list_ids() -> None:
    org = acme()
    org.course("Anti-Bribery", id="c:dup")
    org.groups["Managers 2"] = org.groups["Managers"].__class__("g:other", "Managers")
    pol = policy("p", groups=["Managers"], assign=[course("Anti-Bribery")])
    result = expand([pol], org.directory(), Settings(), provider="lms")
    messages = {d.key_path: d for d in result.diagnostics}
    assert "ambiguous" in messages["spec.assign[0].course"].message
    assert "{id: c:dup}" in messages["spec.assign[0].course"].hint
    assert "{id: g:other}" in messages["spec.targets.groups[0]"].hint


def test_ambiguous_department_path() -> None:
    directory = Directory(
        departments=(Department("1", "Acme"), Department("2", "Acme")),
        items=(Item("c", ItemKind.COURSE, "X"),),
    )
    result = expand(
        [policy("p", departments=["Acme"], assign=[course("X")])], directory, Settings(), provider="lms"
    )
    (diag,) = result.diagnostics
    assert "ambiguous" in diag.message and "{id: 1}" in diag.hint and "{id: 2}" in diag.hint


def test_item_of_the_other_kind_is_named_in_the_hint() -> None:
    org = acme()
    result = expand(
        [policy("p", everyone=True, assign=[course("Onboarding")])],
        org.directory(),
        Settings(),
        provider="lms",
    )
    (diag,) = result.diagnostics
    assert "learning_path" in diag.hint


def test_item_by_id_must_be_of_the_kind_written() -> None:
    org = acme()
    ok = expand_or_raise(
        [policy("p", users=["lee"], assign=[course("c:Anti-Bribery", by_id=True)])],
        org.directory(),
        Settings(),
        provider="lms",
    )
    assert set(ok.desired.enrollments) == {("42", "c:Anti-Bribery")}
    wrong = expand(
        [policy("p", users=["lee"], assign=[course("lp:Onboarding", by_id=True)])],
        org.directory(),
        Settings(),
        provider="lms",
    )
    assert "learning path" in wrong.diagnostics[0].message


def test_unknown_item_does_not_stop_other_assignments() -> None:
    org = acme()
    result = expand(
        [policy("p", users=["lee"], assign=[course("Nope"), course("Anti-Bribery")])],
        org.directory(),
        Settings(),
        provider="lms",
    )
    assert set(result.desired.enrollments) == {("42", "c:Anti-Bribery")}
    assert len(result.diagnostics) == 1


# --- conflicts -----------------------------------------------------------------------------------------


def test_strictest_terms_win_and_every_source_is_kept() -> None:
    org = acme()
    loose = policy(
        "loose", users=["lee"], assign=[course("Security Awareness", due=date_due(2026, 12, 31))], notify=True
    )
    strict = policy(
        "strict",
        departments=["Acme"],
        assign=[
            course("Security Awareness", due=date_due(2026, 12, 1), lock=True, access=dt.date(2026, 11, 1))
        ],
        notify=False,
    )
    result = expand_or_raise([loose, strict], org.directory(), Settings(), provider="lms")
    got = result.desired.enrollments[("42", SEC)]
    assert got.terms == Terms(due=date_due(2026, 12, 1), lock_after_due=True, access=dt.date(2026, 11, 1))
    assert got.policies == ("loose", "strict")
    assert got.notify is False  # notify only when every policy involved allows it


@pytest.mark.parametrize(
    ("dues", "winner"),
    [
        ([DEFAULT, UNLIMITED], DueKind.DEFAULT),
        ([within(24 * 30), DEFAULT], DueKind.WITHIN),
        ([within(24 * 30), date_due(2030, 1, 1)], DueKind.DATE),
        ([UNLIMITED, UNLIMITED], DueKind.UNLIMITED),
    ],
)
def test_due_kinds_rank_date_within_default_unlimited(dues: list[object], winner: DueKind) -> None:
    assert combine_terms(Terms(due=d) for d in dues).due.kind is winner  # type: ignore[arg-type]


def test_shortest_period_and_earliest_access_win() -> None:
    combined = combine_terms(
        [
            Terms(due=within(72), access=dt.date(2026, 2, 1)),
            Terms(due=within(48)),
            Terms(access=dt.date(2026, 1, 1)),
        ]
    )
    assert combined == Terms(due=within(48), access=dt.date(2026, 1, 1))


def test_conflict_resolution_does_not_depend_on_policy_order() -> None:
    org = acme()
    a = policy("a", everyone=True, assign=[course("Security Awareness", due=within(48))])
    b = policy(
        "b",
        departments=["Acme/Sales"],
        assign=[course("Security Awareness", due=date_due(2027, 1, 1), lock=True)],
    )
    forward = expand_or_raise([a, b], org.directory(), Settings(), provider="lms")
    backward = expand_or_raise([b, a], org.directory(), Settings(), provider="lms")
    assert forward == backward

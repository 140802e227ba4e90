"""Policies a provider cannot honour are rejected before anything runs, naming policy, limit and fix."""

from __future__ import annotations

import datetime as dt

from reconciler.core.capabilities import check_capabilities
from reconciler.core.model import (
    Assignment,
    Capabilities,
    Due,
    DueKind,
    ItemKind,
    ItemRef,
    Policy,
    ProviderConfig,
    ProviderKind,
    Targets,
    Terms,
)
from reconciler.errors import Position
from reconciler.providers.litmos.provider import capabilities_for

LITMOS = capabilities_for(ProviderConfig(name="academy", kind=ProviderKind.LITMOS))
ISPRING = Capabilities()
KINDS = {"academy": ProviderKind.LITMOS, "lms": ProviderKind.ISPRING}


def policy(*assign: Assignment, provider: str | None = "academy", name: str = "security") -> Policy:
    return Policy(name=name, targets=Targets(everyone=True), assign=assign, provider=provider)


DEFAULT_TERMS = Terms()


def course(terms: Terms = DEFAULT_TERMS, line: int = 10) -> Assignment:
    return Assignment(ItemRef(ItemKind.COURSE, "Anti-Bribery"), terms, Position("policies/p.yaml", line, 7))


def test_litmos_policy_with_a_due_date_is_rejected_naming_policy_limit_and_fix() -> None:
    due = Terms(due=Due(DueKind.DATE, date=dt.date(2026, 12, 31)))
    [problem] = check_capabilities([policy(course(), course(due, line=14))], {"academy": LITMOS}, KINDS)
    assert problem.position == Position("policies/p.yaml", 14, 7)
    assert problem.key_path == "spec.assign[1].due"
    assert "'security'" in problem.message and "'academy' (Litmos)" in problem.message
    assert "cannot set a due date per assignment" in problem.message and "2026-12-31" in problem.message
    assert "due: default" in problem.hint
    assert str(problem).startswith("policies/p.yaml:14:7: spec.assign[1].due: policy 'security'")


def test_litmos_rejects_every_due_but_default() -> None:
    for due in (Due(DueKind.WITHIN, hours=24 * 14), Due(DueKind.UNLIMITED)):
        problems = check_capabilities([policy(course(Terms(due=due)))], {"academy": LITMOS}, KINDS)
        assert [p.key_path for p in problems] == ["spec.assign[0].due"]
    assert check_capabilities([policy(course(Terms(due=Due())))], {"academy": LITMOS}, KINDS) == []


def test_litmos_rejects_lock_after_due_and_access_dates() -> None:
    terms = Terms(lock_after_due=True, access=dt.date(2026, 11, 1))
    problems = check_capabilities([policy(course(terms))], {"academy": LITMOS})
    assert [p.key_path for p in problems] == ["spec.assign[0].lock_after_due", "spec.assign[0].access"]
    assert all("provider 'academy'" in p.message for p in problems)


def test_the_same_terms_are_fine_on_ispring() -> None:
    terms = Terms(due=Due(DueKind.WITHIN, hours=48), lock_after_due=True, access=dt.date(2026, 11, 1))
    both = {"academy": LITMOS, "lms": ISPRING}
    assert check_capabilities([policy(course(terms), provider="lms")], both, KINDS) == []


def test_a_policy_without_provider_is_checked_against_the_only_one() -> None:
    due = Terms(due=Due(DueKind.UNLIMITED))
    assert len(check_capabilities([policy(course(due), provider=None)], {"academy": LITMOS})) == 1
    both = {"academy": LITMOS, "lms": ISPRING}
    assert check_capabilities([policy(course(due), provider=None)], both) == []  # ambiguous: manifest's job


def test_item_kinds_the_vendor_lacks_are_rejected() -> None:
    no_paths = Capabilities(item_kinds=frozenset({ItemKind.COURSE}))
    path = Assignment(ItemRef(ItemKind.LEARNING_PATH, "Onboarding"), position=Position("p.yaml", 3))
    [problem] = check_capabilities([policy(path)], {"academy": no_paths})
    assert problem.key_path == "spec.assign[0].learning_path" and "has no learning paths" in problem.message

"""Comparing two plans: matched per enrollment, changed field by field, basis and verdict included."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from reconciler.core.model import Completion, Terms
from reconciler.core.plan import Risk
from reconciler.planfile.codec import approval_digest
from reconciler.planfile.compare import FieldChange, compare_plans
from tests.support.render_builders import (
    SECURITY,
    add,
    due,
    enrollment,
    plan,
    provider_plan,
    remove,
    update,
)


def test_the_same_plan_compares_as_the_same_actions() -> None:
    one = plan(provider_plan([add("bob@acme.example"), remove("eve@acme.example")]))
    comparison = compare_plans(one, one)
    assert comparison.same_actions
    assert comparison.plan == ()
    assert comparison.old_digest == comparison.new_digest == approval_digest(one)


def test_actions_are_added_dropped_or_changed_per_enrollment() -> None:
    old = plan(provider_plan([add("bob@acme.example"), add("ann@acme.example")]))
    later = Terms(due=due("2027-01-15"), lock_after_due=True)
    new = plan(provider_plan([add("bob@acme.example", terms=later), remove("eve@acme.example")]))
    comparison = compare_plans(old, new)
    assert [a.user_login for _, a in comparison.added] == ["eve@acme.example"]
    assert [a.user_login for _, a in comparison.dropped] == ["ann@acme.example"]
    (changed,) = comparison.changed
    assert changed.new.user_login == "bob@acme.example"
    assert changed.fields == (FieldChange("due", "2026-12-31", "2027-01-15"),)


def test_an_add_that_became_an_update_is_one_changed_action_with_the_lms_state_beside_it() -> None:
    old = plan(provider_plan([add("bob@acme.example")]))
    held = enrollment("bob@acme.example", SECURITY, due_at=dt.datetime(2026, 12, 1))
    terms = Terms(due=due("2026-12-31"), lock_after_due=True)
    new = plan(provider_plan([update("bob@acme.example", old=held, terms=terms, risks=(Risk.LOOSENED,))]))
    (changed,) = compare_plans(old, new).changed
    fields = {f.field: (f.old, f.new) for f in changed.fields}
    assert fields["action"] == ("add", "update")
    assert fields["risks"] == ("none", "loosened")
    assert fields["LMS"] == ("nothing", "held")
    assert "due" not in fields  # the same terms are asked


def test_what_the_lms_held_is_compared_field_by_field() -> None:
    terms = Terms(due=due("2027-01-15"))
    a = update("bob@acme.example", terms=terms, old=enrollment("bob@acme.example", SECURITY))
    started = enrollment("bob@acme.example", SECURITY, completion=Completion.IN_PROGRESS, progress=40.0)
    b = replace(a, before=started)
    (changed,) = compare_plans(plan(provider_plan([a])), plan(provider_plan([b]))).changed
    assert FieldChange("LMS progress", "0%", "40%") in changed.fields
    assert FieldChange("LMS completion", "not_started", "in_progress") in changed.fields


def test_guards_and_the_verdict_are_compared() -> None:
    actions = [remove("eve@acme.example")]
    old = plan(provider_plan(actions), guard={"max_removals": "ok 1/25"})
    new = plan(provider_plan(actions), guard={"max_removals": "tripped 30/25"})
    changes = compare_plans(old, new).plan
    assert FieldChange("guard max_removals", "ok 1/25", "tripped 30/25") in changes
    assert FieldChange("verdict", "guards pass", "refused by max_removals") in changes


def test_counts_and_manifests_are_compared() -> None:
    old = plan(provider_plan([add("bob@acme.example")]))
    new = replace(plan(provider_plan([])), manifest_digest="sha256:" + "f" * 64)
    changes = {c.field: (c.old, c.new) for c in compare_plans(old, new).plan}
    assert changes["lms: add"] == ("1", "0")
    assert changes["manifests"][1] == "f" * 12

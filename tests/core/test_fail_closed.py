"""Fail closed: an enrollment whose state could not be read is never removed, and a pruning plan with any
such enrollment is refused unless the run says --allow-unknown (issue 17)."""

from __future__ import annotations

import pytest

from reconciler.core import safety
from reconciler.core.model import Completion, Enrollment, Settings
from reconciler.core.plan import ActionKind, KeptReason, Plan, ProviderPlan, RunOptions
from reconciler.core.safety import check_guards, removal_protection
from reconciler.errors import GuardTripped
from reconciler.planfile.codec import plan_to_dict
from reconciler.planfile.decode import plan_from_dict
from tests.support.builders import NOW, Org, course, enrollment, plan_for, policy, snapshot

RAW = "PercentageComplete '40,00' is not a number"
EVERY_OVERRIDE = RunOptions(allow_remove_started=True, allow_remove_completed=True, allow_unknown=True)


def _org_with_unreadable_enrollment() -> tuple[Org, list[Enrollment]]:
    org = Org()
    sec = org.course("Security Awareness")
    helen = org.user("helen@acme.example", dept="Acme")
    kevin = org.user("kevin@acme.example", dept="Acme")
    nadia = org.user("nadia@acme.example", dept="Acme")
    held = [
        enrollment(helen, sec, unknown=RAW),  # read as 0 % before the fix: removed
        enrollment(kevin, sec),  # genuinely untouched: removable
        enrollment(nadia, sec),  # still wanted
    ]
    return org, held


def _pruning_plan(options: RunOptions | None = None) -> ProviderPlan:
    org, held = _org_with_unreadable_enrollment()
    pol = policy("sec", users=["nadia@acme.example"], assign=[course("Security Awareness")], prune=True)
    return plan_for([pol], snapshot(org, held), options=options)


@pytest.mark.parametrize(
    "options",
    [RunOptions(), RunOptions(allow_remove_started=True), EVERY_OVERRIDE],
    ids=["no-flags", "allow-started", "every-override"],
)
def test_unknown_enrollment_is_kept_with_its_raw_value_whatever_the_flags(options: RunOptions) -> None:
    plan = _pruning_plan(options)
    removed = {a.user_login for a in plan.actions if a.kind is ActionKind.REMOVE}
    assert "helen@acme.example" not in removed
    assert "kevin@acme.example" in removed
    [kept] = [k for k in plan.kept if k.reason is KeptReason.UNKNOWN]
    assert kept.user_login == "helen@acme.example"
    assert RAW in kept.detail and "never removed" in kept.detail
    assert plan.summary.unknown == 1


def test_pruning_plan_with_unknowns_is_refused_and_names_them() -> None:
    plan = _pruning_plan()
    with pytest.raises(GuardTripped) as caught:
        safety.check(plan, Settings())
    assert "1 enrollment in pruned items could not be read" in caught.value.message
    assert "helen@acme.example in 'Security Awareness'" in caught.value.message
    assert RAW in caught.value.message
    assert "--allow-unknown" in (caught.value.hint or "")
    assert check_guards(plan, Settings())["unknown_state"].startswith("tripped: 1 enrollment")


def test_allow_unknown_lets_the_rest_of_the_prune_through() -> None:
    plan = _pruning_plan(RunOptions(allow_unknown=True))
    settings = Settings(max_removal_share=1.0)
    safety.check(plan, settings, allow_unknown=True)
    state = check_guards(plan, settings, allow_unknown=True)["unknown_state"]
    assert state.startswith("ok: 1 enrollment") and "--allow-unknown" in state


def test_unknowns_outside_pruned_items_do_not_trip_the_guard() -> None:
    org, held = _org_with_unreadable_enrollment()
    pol = policy("sec", users=["nadia@acme.example"], assign=[course("Security Awareness")], prune=False)
    plan = plan_for([pol], snapshot(org, held))
    assert plan.summary.unknown == 0
    assert "unknown_state" not in check_guards(plan, Settings())
    safety.check(plan, Settings())
    assert not [a for a in plan.actions if a.kind is ActionKind.REMOVE]


def test_removal_protection_refuses_unknown_even_with_every_flag() -> None:
    org = Org()
    item, user = org.course("C"), org.user("u@acme.example", dept="Acme")
    unknown = enrollment(user, item, unknown=RAW, completion=Completion.NOT_STARTED)
    assert removal_protection(unknown, EVERY_OVERRIDE) is KeptReason.UNKNOWN
    assert unknown.started


def test_unknown_and_allow_unknown_survive_the_json_round_trip() -> None:
    part = _pruning_plan(RunOptions(allow_unknown=True))
    plan = Plan(
        created_at=NOW, manifest_digest="d", providers=(part,), options=RunOptions(allow_unknown=True)
    )
    again = plan_from_dict(plan_to_dict(plan))
    assert again == plan
    assert again.options.allow_unknown
    assert again.providers[0].summary.unknown == 1

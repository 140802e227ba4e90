"""`reconciler.core.explain`: why one learner has, or will get, each enrollment, and what plan would do."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciler.core.directory import DirectoryIndex
from reconciler.core.explain import Explanation, Verdict, explain_user, find_item, find_user, user_candidates
from reconciler.core.model import Completion, Policy, Settings, Snapshot, User, UserStatus
from reconciler.errors import UsageError
from reconciler.render.explain import render_explain_json, render_explain_text
from tests.support.builders import (
    ISPRING_CAPS,
    NOW,
    Org,
    course,
    date_due,
    enrollment,
    policy,
    snapshot,
    within,
)


def _explain(policies: list[Policy], snap: Snapshot, user: User, **kwargs: object) -> Explanation:
    return explain_user(policies, snap, Settings(), user, now=NOW, capabilities=ISPRING_CAPS, **kwargs)  # type: ignore[arg-type]


def _org() -> tuple[Org, User, User]:
    org = Org()
    helen = org.user("helen@acme.example", dept="Acme/Sales/EMEA", groups=["Managers"])
    kevin = org.user("kevin@acme.example", dept="Acme/Engineering")
    org.course("Security")
    org.course("Bribery")
    org.course("Forklift")
    return org, helen, kevin


def test_every_source_is_listed_and_the_strictest_terms_name_their_policy() -> None:
    org, helen, _ = _org()
    policies = [
        policy("sales", departments=["Acme/Sales"], assign=[course("Security", due=within(24 * 30))]),
        policy("managers", groups=["Managers"], assign=[course("Security", due=date_due(2026, 12, 1))]),
    ]
    (item,) = _explain(policies, snapshot(org), helen).items
    assert [(s.policy, s.rule) for s in item.sources] == [
        ("managers", "groups: Managers"),
        ("sales", "departments: Acme/Sales"),
    ]
    assert all(p.file for p in item.rule_positions)
    assert item.terms is not None and item.terms.due == date_due(2026, 12, 1)
    assert dict(item.set_by)["due"] == ("managers",)
    assert dict(item.set_by)["lock_after_due"] == ("managers", "sales")
    assert item.verdict == Verdict.ADD


def test_the_verdicts_are_those_of_plan() -> None:
    org, helen, _ = _org()
    security, bribery, forklift = org.items
    held = [
        enrollment(helen, security, due=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)),
        enrollment(helen, bribery, due=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)),
        enrollment(helen, forklift, completion=Completion.COMPLETED, progress=100),
    ]
    policies = [
        policy("a", users=["helen@acme.example"], assign=[course("Security", due=date_due(2026, 12, 1))]),
        policy("b", users=["helen@acme.example"], assign=[course("Bribery", due=date_due(2026, 9, 1))]),
        policy("c", users=["kevin@acme.example"], assign=[course("Forklift")], prune=True),
    ]
    verdicts = {
        i.item.title: (i.verdict, i.reason) for i in _explain(policies, snapshot(org, held), helen).items
    }
    assert verdicts["Security"][0] == Verdict.KEEP
    assert verdicts["Bribery"] == (Verdict.UPDATE, "terms differ: due")
    assert verdicts["Forklift"][0] == Verdict.KEPT and "c prunes" in verdicts["Forklift"][1]


def test_an_enrollment_no_policy_manages_is_shown_as_unmanaged() -> None:
    org, helen, _ = _org()
    (item,) = _explain([], snapshot(org, [enrollment(helen, org.items[0])]), helen).items
    assert item.verdict == Verdict.UNMANAGED and item.holds is not None


def test_exclusions_name_the_policy_and_the_rule() -> None:
    org, _, kevin = _org()
    policies = [
        policy("all", everyone=True, exclude_users=["kevin@acme.example"], assign=[course("Security")])
    ]
    explanation = _explain(policies, snapshot(org), kevin)
    assert explanation.items == ()
    (excluded,) = explanation.excluded
    assert excluded.policy == "all" and excluded.rules == ("exclude.users: kevin@acme.example",)
    assert excluded.items == ("Security",)


def test_a_user_outside_the_enrollable_statuses_is_a_status_issue() -> None:
    org, _, _ = _org()
    farid = org.user("farid@acme.example", dept="Acme/Sales", status=UserStatus.BLOCKED)
    policies = [policy("sales", departments=["Acme/Sales"], assign=[course("Security")])]
    explanation = _explain(policies, snapshot(org), farid)
    assert not explanation.enrollable
    (issue,) = explanation.issues
    assert "blocked" in issue and "targeted by sales" in issue


def test_item_limits_the_explanation_to_one_item() -> None:
    org, helen, _ = _org()
    policies = [policy("p", users=["helen@acme.example"], assign=[course("Security"), course("Bribery")])]
    index = DirectoryIndex.build(org.directory())
    item = find_item(index, "Bribery")
    explanation = _explain(policies, snapshot(org), helen, item_id=item.id)
    assert [i.item.title for i in explanation.items] == ["Bribery"]


def test_users_are_found_by_login_email_or_id_and_unknown_ones_get_candidates() -> None:
    org, helen, _ = _org()
    org.user("jsmith", email="john.smith@acme.example")
    index = DirectoryIndex.build(org.directory())
    assert find_user(index, "HELEN@acme.example") == helen
    assert find_user(index, helen.id) == helen
    assert find_user(index, "john.smith@acme.example") is not None
    assert find_user(index, "hellen") is None
    assert "helen@acme.example" in user_candidates(index, "hellen")


def test_an_unknown_item_lists_similar_titles() -> None:
    org, _, _ = _org()
    with pytest.raises(UsageError) as raised:
        find_item(DirectoryIndex.build(org.directory()), "Securty")
    assert "Security" in str(raised.value)


def test_renderings_carry_the_policy_positions() -> None:
    org, helen, _ = _org()
    policies = [policy("sales", departments=["Acme/Sales"], assign=[course("Security")])]
    explanation = _explain(policies, snapshot(org), helen)
    text = render_explain_text([explanation])
    assert "sales: departments: Acme/Sales  (rule policies/test.yaml:" in text
    assert '"rule_position"' in render_explain_json([explanation])

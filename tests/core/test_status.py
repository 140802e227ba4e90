"""`enrollctl status` in the core: who is where in each managed item, counted as the LMS reports it."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.due import DueFact, DueInformation
from reconciler.core.model import Completion, ProviderKind
from reconciler.core.status import LearnerState, provider_status
from tests.support.builders import NOW, Org, course, enrollment, expanded, policy, snapshot

DAY = dt.timedelta(days=1)


def _status(org: Org, policies, enrollments, *, dues=None, kind=ProviderKind.ISPRING, expiring_days=30):
    snap = snapshot(org, enrollments, kind=kind)
    desired = expanded(policies, snap).desired
    return provider_status(desired, snap, now=NOW, expiring_days=expiring_days, dues=dues)


def test_each_targeted_learner_has_one_state_and_overdue_is_a_flag() -> None:
    org = Org()
    ann, bob, cy, dee = (
        org.user(f"{n}@acme.example", dept="Acme/Sales") for n in ("ann", "bob", "cy", "dee")
    )
    sec = org.course("Security")
    pol = policy("sec", departments=["Acme"], assign=[course("Security")])
    result = _status(
        org,
        [pol],
        [
            enrollment(ann, sec, completion=Completion.COMPLETED, progress=100),
            enrollment(bob, sec, due=NOW - DAY, progress=40, completion=Completion.IN_PROGRESS),
            enrollment(cy, sec, due=NOW + DAY),
        ],
    )
    (item,) = result[0].items
    states = {x.login: (x.state, x.overdue) for x in item.learners}
    assert states == {
        "ann@acme.example": (LearnerState.COMPLETED, False),
        "bob@acme.example": (LearnerState.IN_PROGRESS, True),
        "cy@acme.example": (LearnerState.NOT_STARTED, False),
        "dee@acme.example": (LearnerState.NOT_ASSIGNED, False),
    }
    assert item.counts == {
        "targeted": 4, "assigned": 3, "not_assigned": 1, "not_started": 1, "in_progress": 1,
        "completed": 1, "unknown": 0, "overdue": 1, "expiring": 0,
    }  # fmt: skip
    assert dee.login not in {x.login for x in item.learners if x.state is not LearnerState.NOT_ASSIGNED}


def test_a_completed_enrollment_past_its_due_date_is_not_overdue() -> None:
    org = Org()
    ann = org.user("ann", dept="Acme")
    sec = org.course("Security")
    result = _status(
        org,
        [policy("sec", everyone=True, assign=[course("Security")])],
        [enrollment(ann, sec, due=NOW - 10 * DAY, completion=Completion.COMPLETED)],
    )
    assert result[0].counts["overdue"] == 0


def test_litmos_due_facts_supply_due_dates_overdue_flags_and_compliance_expiry() -> None:
    org = Org()
    ann, bob = org.user("ann", dept="Acme"), org.user("bob", dept="Acme")
    sec = org.course("Security")
    facts = (
        DueFact(ann.id, sec.id, due=NOW - DAY, overdue=None, completed=True, expires=NOW + 10 * DAY),
        DueFact(bob.id, sec.id, overdue=True),
    )
    result = _status(
        org,
        [policy("sec", everyone=True, assign=[course("Security")])],
        [enrollment(ann, sec, completion=Completion.COMPLETED), enrollment(bob, sec)],
        dues=DueInformation("Litmos", "bulk", facts),
        kind=ProviderKind.LITMOS,
    )
    ann_status, bob_status = result[0].items[0].learners
    assert (ann_status.expiring, ann_status.expires_at, ann_status.overdue) == (True, NOW + 10 * DAY, False)
    assert bob_status.overdue  # the vendor's own flag, without a due date
    assert (
        _status(
            org,
            [policy("sec", everyone=True, assign=[course("Security")])],
            [enrollment(ann, sec, completion=Completion.COMPLETED)],
            dues=DueInformation("Litmos", "bulk", facts),
            expiring_days=5,
        )[0].counts["expiring"]
        == 0
    )


def test_a_learner_targeted_by_two_policies_counts_under_each() -> None:
    org = Org()
    org.user("ann", dept="Acme/Sales")
    org.course("Security")
    both = [
        policy("everyone", everyone=True, assign=[course("Security")]),
        policy("sales", departments=["Acme/Sales"], assign=[course("Security")]),
    ]
    result = _status(org, both, [])
    assert [(p.name, p.counts["not_assigned"]) for p in result] == [("everyone", 1), ("sales", 1)]


def test_unknown_enrollments_are_counted_as_unknown_never_as_not_started() -> None:
    org = Org()
    ann = org.user("ann")
    sec = org.course("Security")
    result = _status(
        org,
        [policy("sec", everyone=True, assign=[course("Security")])],
        [enrollment(ann, sec, unknown="PercentageComplete '40,00' is not a number")],
    )
    assert result[0].items[0].learners[0].state is LearnerState.UNKNOWN


# --- generated organisations against an independently built expectation --------------------------------

_STATES = st.sampled_from(["none", "not_started", "in_progress", "completed", "unknown"])
_DUE = st.one_of(st.none(), st.integers(min_value=-60, max_value=60))


@settings(max_examples=60, deadline=None)
@given(
    people=st.lists(st.tuples(st.sampled_from(["Acme/Sales", "Acme/Ops", None]), _STATES, _DUE), max_size=25),
    target=st.sampled_from(["Acme", "Acme/Sales", "everyone"]),
)
def test_counts_match_an_expectation_built_from_the_generated_org(people, target) -> None:
    org = Org()
    org.dept("Acme/Sales")
    org.dept("Acme/Ops")
    sec = org.course("Security")
    enrollments, expected = (
        [],
        dict.fromkeys(
            ("targeted", "assigned", "not_assigned", "not_started", "in_progress", "completed", "unknown"), 0
        ),
    )
    expected |= {"overdue": 0, "expiring": 0}
    for n, (dept, state, due_days) in enumerate(people):
        user = org.user(f"user{n}", dept=dept)
        targeted = target == "everyone" or (dept is not None and (dept + "/").startswith(target + "/"))
        due = None if due_days is None else NOW + dt.timedelta(days=due_days)
        if state != "none":
            enrollments.append(
                enrollment(
                    user,
                    sec,
                    due=due,
                    completion=Completion.COMPLETED if state == "completed" else Completion.NOT_STARTED,
                    progress=50 if state == "in_progress" else 0,
                    unknown="unreadable" if state == "unknown" else "",
                )
            )
        if not targeted:
            continue
        expected["targeted"] += 1
        expected["not_assigned" if state == "none" else state] += 1
        expected["assigned"] += state != "none"
        expected["overdue"] += state not in ("none", "completed") and due is not None and due < NOW
    targets = {"everyone": True} if target == "everyone" else {"departments": [target]}
    result = _status(org, [policy("sec", assign=[course("Security")], **targets)], enrollments)
    counts = result[0].counts if result else dict.fromkeys(expected, 0)
    assert counts == expected


def test_a_recurring_item_expires_after_its_period_where_the_vendor_reports_no_expiry() -> None:
    from dataclasses import replace

    from reconciler.core.model import Terms
    from reconciler.core.period import Recurrence

    org = Org()
    ann = org.user("ann")
    sec = org.course("Security")
    pol = policy("sec", everyone=True, assign=[course("Security")])
    pol = replace(pol, assign=(replace(pol.assign[0], terms=Terms(recur=Recurrence(months=12))),))
    done = replace(enrollment(ann, sec, completion=Completion.COMPLETED), completed_at=NOW - 350 * DAY)
    (learner,) = _status(org, [pol], [done])[0].items[0].learners
    assert (learner.expires_at, learner.expiring) == (NOW - 350 * DAY + 365 * DAY, True)

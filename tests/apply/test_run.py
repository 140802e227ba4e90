"""apply.run on an in-memory provider: order, staleness, journal, resume, confirmation, lock.

The provider here is a fake repository in the pip-tools sense (a whole in-memory LMS behind the Provider
protocol), not mocked HTTP; the sandbox-backed end-to-end tests live in tests/e2e/.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from reconciler.apply import run as apply
from reconciler.apply.journal import Journal
from reconciler.apply.lock import repository_lock
from reconciler.apply.run import ApplyIncomplete, plan_id
from reconciler.core.model import (
    Capabilities,
    Completion,
    Department,
    Directory,
    Due,
    DueKind,
    Enrollment,
    EnrollmentKey,
    ItemKind,
    ProviderKind,
    Terms,
    User,
)
from reconciler.core.plan import Action, ActionKind, OutcomeStatus, Plan, ProviderPlan
from reconciler.errors import LockHeld, PlanError, ProviderError, StalePlan
from reconciler.providers.base import Outcome, WriteBatch

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
DUE = Terms(due=Due(DueKind.DATE, date=dt.date(2026, 12, 31)))
LATER = Terms(due=Due(DueKind.DATE, date=dt.date(2027, 1, 31)))


@dataclass
class MemoryLms:
    """An LMS in memory behind the Provider protocol; counts write calls, can fail or drop writes."""

    held: dict[EnrollmentKey, Enrollment] = field(default_factory=dict)
    name: str = "lms"
    kind: ProviderKind = ProviderKind.ISPRING
    account: str = "http://lms.invalid"
    calls: list[tuple[ActionKind, tuple[str, ...]]] = field(default_factory=list)
    fail_after: int | None = None  # raise on the call after this many writes
    commit_before_failing: bool = False  # the failing call's change lands before the error (lost reply)
    drop: set[str] = field(default_factory=set)  # action ids the vendor acknowledges but ignores
    directory: Directory = field(default_factory=lambda: directory_of("u1", "u2", "u3"))

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(enroll_batch_users=1000, enroll_batch_items=1000)

    def read_directory(self) -> Directory:
        return self.directory

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        return tuple(
            e
            for e in self.held.values()
            if e.item_id in item_ids and (user_ids is None or e.user_id in user_ids)
        )

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        adds: dict[Terms | None, list[Action]] = {}
        others: list[WriteBatch] = []
        for a in actions:
            if a.kind is ActionKind.ADD:
                adds.setdefault(a.terms, []).append(a)
            else:
                others.append(WriteBatch(a.kind, (a,)))
        return [WriteBatch(ActionKind.ADD, tuple(group)) for group in adds.values()] + others

    def write(self, batch: WriteBatch) -> list[Outcome]:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            if self.commit_before_failing:
                for a in batch.actions:
                    self._perform(a)
            raise ProviderError("connection reset", provider=self.name, call="write", retryable=True)
        self.calls.append((batch.kind, tuple(a.id for a in batch.actions)))
        for a in batch.actions:
            if a.id not in self.drop:
                self._perform(a)
        return [Outcome(a.id, OutcomeStatus.DONE) for a in batch.actions]

    def _perform(self, a: Action) -> None:
        if a.kind is ActionKind.REMOVE:
            self.held.pop((a.user_id, a.item_id), None)
        else:
            assert a.terms is not None
            self.held[(a.user_id, a.item_id)] = enrollment(a.user_id, a.item_id, a.terms)

    def close(self) -> None:
        pass

    def written_ids(self) -> list[str]:
        return [action_id for _, ids in self.calls for action_id in ids]


def directory_of(*users: str, department: str | None = None) -> Directory:
    departments = (Department("d1", "Acme"), Department("d2", "Sales", "d1"))
    return Directory(
        users=tuple(User(u, u, department_id=department) for u in users), departments=departments
    )


def enrollment(user: str, item: str, terms: Terms = DUE, **extra: object) -> Enrollment:
    due = dt.datetime.combine(terms.due.date, dt.time(), dt.UTC) if terms.due.date else None
    return Enrollment(user, item, due=due, lock_after_due=terms.lock_after_due, **extra)  # type: ignore[arg-type]


def add(user: str, item: str, terms: Terms = DUE) -> Action:
    return Action(ActionKind.ADD, user, user, item, ItemKind.COURSE, item.title(), terms=terms)


def update(before: Enrollment, terms: Terms = LATER) -> Action:
    return Action(
        ActionKind.UPDATE, before.user_id, before.user_id, before.item_id, ItemKind.COURSE, "x", terms, before
    )


def remove(before: Enrollment) -> Action:
    return Action(
        ActionKind.REMOVE, before.user_id, before.user_id, before.item_id, ItemKind.COURSE, "x", None, before
    )


def plan_of(*actions: Action, lms: MemoryLms | None = None) -> Plan:
    lms = lms or MemoryLms()
    part = ProviderPlan(lms.name, lms.kind, lms.account, actions=actions)
    return Plan(created_at=NOW, manifest_digest="sha256:abc", providers=(part,))


def run(plan: Plan, lms: MemoryLms, tmp_path: Path, **kw: object):  # type: ignore[no-untyped-def]
    return apply.run(plan, {lms.name: lms}, tmp_path / "journal", now=NOW, **kw)  # type: ignore[arg-type]


def test_apply_writes_adds_then_updates_then_removals(tmp_path: Path) -> None:
    old, gone = enrollment("u2", "c1"), enrollment("u3", "c1")
    lms = MemoryLms(held={old.key: old, gone.key: gone})
    result = run(plan_of(remove(gone), update(old), add("u1", "c1")), lms, tmp_path)
    assert [kind for kind, _ in lms.calls] == [ActionKind.ADD, ActionKind.UPDATE, ActionKind.REMOVE]
    assert (result.done, result.already, result.failed) == (3, 0, 0)
    assert set(lms.held) == {("u1", "c1"), ("u2", "c1")}


def test_adds_with_the_same_terms_share_one_call(tmp_path: Path) -> None:
    lms = MemoryLms()
    result = run(plan_of(add("u1", "c1"), add("u2", "c1"), add("u3", "c2", LATER)), lms, tmp_path)
    assert result.calls == 2


def test_reapplying_an_applied_plan_is_a_no_op(tmp_path: Path) -> None:
    lms = MemoryLms()
    plan = plan_of(add("u1", "c1"), add("u2", "c1"))
    run(plan, lms, tmp_path)
    again = run(plan, lms, tmp_path)
    assert (again.done, again.already, again.calls) == (0, 2, 0)
    assert len(lms.calls) == 1


def test_reapplying_without_the_journal_is_still_a_no_op(tmp_path: Path) -> None:
    lms = MemoryLms()
    plan = plan_of(add("u1", "c1"))
    run(plan, lms, tmp_path / "first")
    again = run(plan, lms, tmp_path / "second")
    assert (again.already, again.calls) == (1, 0)


def test_add_whose_target_appeared_with_other_terms_is_stale_and_nothing_is_written(tmp_path: Path) -> None:
    by_hand = enrollment("u2", "c1", LATER)
    lms = MemoryLms(held={by_hand.key: by_hand})
    with pytest.raises(StalePlan) as refused:
        run(plan_of(add("u1", "c1"), add("u2", "c1")), lms, tmp_path)
    assert refused.value.stale == ("lms: add u2 in 'C1': now enrolled with other terms",)
    assert lms.calls == []


def test_add_whose_target_appeared_with_the_wanted_terms_is_already_so(tmp_path: Path) -> None:
    by_hand = enrollment("u1", "c1", DUE)
    lms = MemoryLms(held={by_hand.key: by_hand})
    result = run(plan_of(add("u1", "c1")), lms, tmp_path)
    assert (result.already, result.calls) == (1, 0)


def test_removal_already_gone_is_already_so(tmp_path: Path) -> None:
    lms = MemoryLms()
    result = run(plan_of(remove(enrollment("u1", "c1"))), lms, tmp_path)
    assert result.already == 1


def test_removal_of_an_enrollment_that_gained_progress_is_stale(tmp_path: Path) -> None:
    before = enrollment("u1", "c1")
    lms = MemoryLms(held={before.key: replace(before, completion=Completion.IN_PROGRESS, progress=10.0)})
    with pytest.raises(StalePlan):
        run(plan_of(remove(before)), lms, tmp_path)
    assert before.key in lms.held


def test_update_of_an_enrollment_that_gained_progress_is_stale(tmp_path: Path) -> None:
    before = enrollment("u1", "c1")
    lms = MemoryLms(held={before.key: replace(before, completion=Completion.IN_PROGRESS, progress=40.0)})
    with pytest.raises(StalePlan) as refused:
        run(plan_of(update(before)), lms, tmp_path)
    assert refused.value.stale == (
        "lms: update u1 in 'x': the enrollment changed since the plan (terms or progress)",
    )
    assert lms.held[before.key].due == before.due  # nothing written


def test_removal_of_an_enrollment_now_unreadable_is_stale(tmp_path: Path) -> None:
    before = enrollment("u1", "c1")
    lms = MemoryLms(held={before.key: replace(before, unknown="PercentageComplete '40%' is not a number")})
    with pytest.raises(StalePlan):
        run(plan_of(remove(before)), lms, tmp_path)
    assert before.key in lms.held


def test_update_of_a_vanished_enrollment_is_stale(tmp_path: Path) -> None:
    with pytest.raises(StalePlan, match="1 action"):
        run(plan_of(update(enrollment("u1", "c1"))), MemoryLms(), tmp_path)


def test_interrupted_apply_resumes_without_repeating_done_work(tmp_path: Path) -> None:
    lms = MemoryLms(fail_after=1)
    plan = plan_of(add("u1", "c1"), add("u2", "c2", LATER), add("u3", "c3", Terms()))
    with pytest.raises(ApplyIncomplete) as failed:
        run(plan, lms, tmp_path)
    assert failed.value.result.done == 1
    lms.fail_after = None
    first_calls = lms.written_ids()
    resumed = run(plan, lms, tmp_path)
    assert (resumed.done, resumed.already) == (2, 1)
    assert not set(first_calls) & set(lms.written_ids()[len(first_calls) :])
    assert len(lms.held) == 3


def test_unknown_outcome_is_resolved_by_reading_back_not_by_retrying(tmp_path: Path) -> None:
    lms = MemoryLms(fail_after=0, commit_before_failing=True)
    plan = plan_of(add("u1", "c1"))
    result = run(plan, lms, tmp_path)  # the write landed, the reply was lost: reading back finds it
    assert (result.done, result.failed) == (1, 0)
    assert lms.calls == []


def test_unknown_outcome_left_by_a_crash_is_resolved_on_the_next_run(tmp_path: Path) -> None:
    lms = MemoryLms()
    plan = plan_of(add("u1", "c1"), add("u2", "c1"))
    journal = Journal.for_plan(tmp_path / "journal", plan_id(plan))
    journal.batch_started("add", ["add:u1:c1", "add:u2:c1"], 1)  # crashed after sending, before the reply
    lms.held[("u1", "c1")] = enrollment("u1", "c1")  # ... and only u1 landed
    result = run(plan, lms, tmp_path)
    assert {o.action.user_id: o.status for o in result.outcomes} == {
        "u1": OutcomeStatus.DONE,
        "u2": OutcomeStatus.DONE,
    }
    assert lms.written_ids() == ["add:u2:c1"]


def test_outcomes_settled_by_reading_back_are_journaled(tmp_path: Path) -> None:
    lms = MemoryLms()
    plan = plan_of(add("u1", "c1"), add("u2", "c1"), add("u3", "c1"))
    journal = Journal.for_plan(tmp_path / "journal", plan_id(plan))
    journal.batch_started("add", ["add:u1:c1"], 1)  # crashed after sending, before the reply
    lms.held[("u1", "c1")] = enrollment("u1", "c1")  # ... and it landed
    lms.held[("u2", "c1")] = enrollment("u2", "c1")  # someone enrolled u2 as planned meanwhile
    run(plan, lms, tmp_path)
    state = journal.read()
    assert all(state.settled(f"add:{u}:c1") for u in ("u1", "u2", "u3"))
    assert not any(state.unknown(f"add:{u}:c1") for u in ("u1", "u2", "u3"))


def test_a_write_the_vendor_silently_dropped_is_reported_failed(tmp_path: Path) -> None:
    lms = MemoryLms(drop={"add:u2:c1"})
    with pytest.raises(ApplyIncomplete) as failed:
        run(plan_of(add("u1", "c1"), add("u2", "c1")), lms, tmp_path)
    statuses = {o.action.user_id: o.status for o in failed.value.result.outcomes}
    assert statuses == {"u1": OutcomeStatus.DONE, "u2": OutcomeStatus.FAILED}


def test_the_journal_records_batches_and_outcomes(tmp_path: Path) -> None:
    lms = MemoryLms()
    result = run(plan_of(add("u1", "c1")), lms, tmp_path)
    events = [json.loads(line)["event"] for line in Path(result.journal).read_text().splitlines()]
    assert events == ["run", "batch", "outcome"]


def test_a_torn_journal_line_is_ignored(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.outcomes([("add:u1:c1", OutcomeStatus.DONE, "")])
    with journal.path.open("a") as f:
        f.write('{"event": "outcome", "act')
    assert journal.read().settled("add:u1:c1")


def test_a_plan_for_another_account_is_refused(tmp_path: Path) -> None:
    plan = plan_of(add("u1", "c1"))
    with pytest.raises(PlanError, match="account"):
        run(plan, MemoryLms(account="http://other.invalid"), tmp_path)


def test_a_plan_from_other_manifests_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="other manifests"):
        run(plan_of(add("u1", "c1")), MemoryLms(), tmp_path, manifest_digest="sha256:def")


def test_a_plan_for_an_undeclared_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="does not declare"):
        apply.run(plan_of(add("u1", "c1")), {}, tmp_path, now=NOW)


def test_a_second_apply_of_the_same_repository_refuses_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / ".enrollctl" / "apply.lock"
    with repository_lock(lock), pytest.raises(LockHeld, match="another apply"), repository_lock(lock):
        pass
    with repository_lock(lock):
        pass  # released afterwards


def test_an_action_for_a_user_who_left_the_directory_is_stale(tmp_path: Path) -> None:
    lms = MemoryLms(directory=directory_of("u2"))
    with pytest.raises(StalePlan, match="no longer in the LMS directory"):
        run(plan_of(add("u1", "c1")), lms, tmp_path)
    assert lms.calls == []


def test_an_action_for_a_user_who_moved_department_is_stale(tmp_path: Path) -> None:
    lms = MemoryLms(directory=directory_of("u1", department="d2"))
    planned = replace(add("u1", "c1"), department="Acme")
    with pytest.raises(StalePlan) as refused:
        run(plan_of(planned), lms, tmp_path)
    assert refused.value.stale == ("lms: add u1 in 'C1': the user moved from Acme to Acme/Sales",)


def test_a_wholesale_stale_plan_names_fifty_actions_and_counts_the_rest(tmp_path: Path) -> None:
    users = [f"u{i}" for i in range(60)]
    held = {(u, "c1"): enrollment(u, "c1", LATER) for u in users}
    lms = MemoryLms(held=held, directory=directory_of(*users))
    with pytest.raises(StalePlan) as refused:
        run(plan_of(*(add(u, "c1") for u in users), lms=lms), lms, tmp_path)
    assert len(refused.value.stale) == 51
    assert refused.value.stale[-1] == "... and 10 more"

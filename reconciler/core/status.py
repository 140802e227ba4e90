"""Compliance status as the LMS sees it, for what the manifests manage (`enrollctl status`).

Pure: the desired state (who each policy targets with which item), the snapshot (what the LMS holds), the
vendor's read-only due facts where it has them (Litmos), `now` and the expiry window in; a `StatusReport`
out. Per policy and item, every targeted learner is in exactly one state (not assigned, not started, in
progress, completed, unknown); `overdue` and `expiring` are flags on top:
- overdue: the vendor's own overdue flag where it reports one (Litmos), else a due date that has passed on
  an enrollment that is not completed (inferred, as in plans' due warnings);
- expiring: a completion whose validity ends within `expiring_days` of `now` (or has ended): the vendor's
  compliance expiry (Litmos `CompliantTill`) where it reports one, else the completion date + the policy's
  `recur` period (from completion).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.core.desired import DesiredState
from reconciler.core.directory import DirectoryIndex
from reconciler.core.due import DueFact, DueInformation
from reconciler.core.model import Completion, Enrollment, EnrollmentKey, ItemKind, Snapshot
from reconciler.core.period import RecurFrom, Recurrence

STATUS_FORMAT_VERSION = 1
DEFAULT_EXPIRING_DAYS = 30


class LearnerState(StrEnum):
    """Where one targeted learner stands in one item."""

    NOT_ASSIGNED = "not_assigned"  # a policy targets them, the LMS holds no enrollment (yet)
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    UNKNOWN = "unknown"  # the vendor's answer could not be read for certain


COUNT_KEYS = (
    "targeted",
    "assigned",
    "not_assigned",
    "not_started",
    "in_progress",
    "completed",
    "unknown",
    "overdue",
    "expiring",
)


@dataclass(frozen=True)
class LearnerStatus:
    """One targeted learner in one item."""

    user_id: str
    login: str
    department: str  # path, "" when none
    state: LearnerState
    due: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    overdue: bool = False
    expiring: bool = False


@dataclass(frozen=True)
class ItemStatus:
    """One item a policy assigns, with every learner the policy targets in it."""

    item_id: str
    title: str
    kind: ItemKind
    learners: tuple[LearnerStatus, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Counts in COUNT_KEYS order; `assigned` is everyone the LMS holds an enrollment for."""
        return count_learners(self.learners)


@dataclass(frozen=True)
class PolicyStatus:
    name: str
    provider: str
    items: tuple[ItemStatus, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        return count_learners(tuple(learner for item in self.items for learner in item.learners))


@dataclass(frozen=True)
class StatusReport:
    """Compliance of every managed (policy, item), read at `created_at`."""

    created_at: dt.datetime
    expiring_days: int
    policies: tuple[PolicyStatus, ...] = ()
    accounts: Mapping[str, str] = field(default_factory=dict)  # provider -> account

    @property
    def counts(self) -> dict[str, int]:
        return count_learners(
            tuple(learner for p in self.policies for item in p.items for learner in item.learners)
        )


def count_learners(learners: tuple[LearnerStatus, ...]) -> dict[str, int]:
    """Counts of states and flags, every key of COUNT_KEYS present."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for learner in learners:
        counts["targeted"] += 1
        counts[learner.state.value] += 1
        counts["assigned"] += learner.state is not LearnerState.NOT_ASSIGNED
        counts["overdue"] += learner.overdue
        counts["expiring"] += learner.expiring
    return counts


def provider_status(
    desired: DesiredState,
    snapshot: Snapshot,
    *,
    now: dt.datetime,
    expiring_days: int = DEFAULT_EXPIRING_DAYS,
    dues: DueInformation | None = None,
    policies: tuple[str, ...] = (),
) -> tuple[PolicyStatus, ...]:
    """The status of every policy of one provider (only `policies` when given), sorted by name."""
    index = DirectoryIndex.build(snapshot.directory)
    held = {e.key: e for e in snapshot.enrollments}
    facts = {(f.user_id, f.item_id): f for f in dues.facts} if dues is not None else {}
    horizon = now + dt.timedelta(days=expiring_days)
    wanted: dict[str, dict[str, list[LearnerStatus]]] = {}
    for key, want in sorted(desired.enrollments.items()):
        learner = _learner(key, held.get(key), facts.get(key), index, now, horizon, want.terms.recur)
        for name in want.policies:
            if not policies or name in policies:
                wanted.setdefault(name, {}).setdefault(want.item_id, []).append(learner)
    return tuple(
        PolicyStatus(
            name=name,
            provider=snapshot.provider,
            items=tuple(
                _item_status(desired, item_id, learners) for item_id, learners in sorted(items.items())
            ),
        )
        for name, items in sorted(wanted.items())
    )


def _item_status(desired: DesiredState, item_id: str, learners: list[LearnerStatus]) -> ItemStatus:
    item = desired.items[item_id].item
    ordered = tuple(sorted(learners, key=lambda s: (s.login, s.user_id)))
    return ItemStatus(item_id=item.id, title=item.title, kind=item.kind, learners=ordered)


def _learner(
    key: EnrollmentKey,
    enrollment: Enrollment | None,
    fact: DueFact | None,
    index: DirectoryIndex,
    now: dt.datetime,
    horizon: dt.datetime,
    recur: Recurrence | None = None,
) -> LearnerStatus:
    user_id = key[0]
    user = index.users_by_id.get(user_id)
    login = user.login if user else user_id
    department = index.user_department(user_id)
    if enrollment is None:
        return LearnerStatus(user_id, login, department, LearnerState.NOT_ASSIGNED)
    state = _state(enrollment)
    due = enrollment.due if enrollment.due is not None else (fact.due if fact else None)
    completed_at = enrollment.completed_at or (fact.completed_at if fact else None)
    expires = fact.expires if fact else None
    if expires is None and recur is not None and recur.anchor is RecurFrom.COMPLETION and completed_at:
        expires = recur.after(completed_at)  # the policy's own period where the vendor reports no expiry
    completed = state is LearnerState.COMPLETED
    if fact is not None and fact.overdue is not None:
        overdue = fact.overdue and not completed
    else:
        overdue = due is not None and due < now and not completed
    return LearnerStatus(
        user_id,
        login,
        department,
        state,
        due=due,
        completed_at=completed_at,
        expires_at=expires,
        overdue=overdue,
        expiring=completed and expires is not None and expires <= horizon,
    )


def _state(enrollment: Enrollment) -> LearnerState:
    if enrollment.unknown:
        return LearnerState.UNKNOWN
    if enrollment.completion is Completion.COMPLETED or enrollment.completed_at is not None:
        return LearnerState.COMPLETED
    if enrollment.completion is Completion.IN_PROGRESS or enrollment.progress > 0:
        return LearnerState.IN_PROGRESS
    return LearnerState.NOT_STARTED

"""Apply a plan: check it still fits the LMS, write in batches, journal every step, confirm by reading back.

The order of one run: refuse a plan made for another provider, account or manifest set; re-read exactly the
enrollments the actions depend on and refuse stale actions (nothing is written then); write adds, then
updates, then removals, in the provider's batches, journaling each batch before its call and each outcome
after it; finally re-read what was written and report anything the vendor silently dropped as failed.
A re-run of the same plan skips what the journal records as done and resolves unknown outcomes by reading
back, so an interrupted apply resumes without doubling work and an applied plan re-applies as a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.apply.basis import (
    basis_changed,
    check_actions_complete,
    check_plan_target,
    confirmed,
    satisfies,
    started_over,
)
from reconciler.apply.journal import Journal, JournalState
from reconciler.apply.writing import Advance, bisected, ticker, write_phase
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import Directory, Enrollment, EnrollmentKey
from reconciler.core.plan import Action, ActionKind, OutcomeStatus, Plan, ProviderPlan, RunOptions
from reconciler.core.safety import removal_protection
from reconciler.core.words import counted, number, plural
from reconciler.errors import ApplyFailed, PlanError, ProviderError, StalePlan
from reconciler.providers.base import Outcome, Provider, WriteBatch

Progress = Callable[[str], None]
WRITE_ORDER = (ActionKind.ADD, ActionKind.UPDATE, ActionKind.REENROLL, ActionKind.REMOVE)
STALE_LISTED = 50  # stale actions named in the error; the rest are counted
USER_FILTER_LIMIT = 10  # read by user filter up to this many of the vendor's user batches
WRITE_ROUNDS = 3  # sends of one action in one run at most: later ones only after reading back the last


@dataclass(frozen=True)
class ActionOutcome:
    """What happened to one action of the plan."""

    provider: str
    action: Action
    status: OutcomeStatus
    detail: str = ""


@dataclass(frozen=True)
class ApplyResult:
    """The result of one apply run: an outcome per action, vendor write calls made, the journal's path."""

    plan_id: str
    outcomes: tuple[ActionOutcome, ...] = ()
    calls: int = 0
    journal: str = ""

    def count(self, status: OutcomeStatus) -> int:
        """How many actions ended with `status`."""
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def done(self) -> int:
        return self.count(OutcomeStatus.DONE)

    @property
    def already(self) -> int:
        return self.count(OutcomeStatus.ALREADY)

    @property
    def failed(self) -> int:
        return self.count(OutcomeStatus.FAILED) + self.count(OutcomeStatus.UNKNOWN)


class ApplyIncomplete(ApplyFailed):
    """ApplyFailed that carries the run's result, so the CLI can still print what was done."""

    def __init__(self, message: str, result: ApplyResult, *, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.result = result


@dataclass
class _Work:
    """One provider's share of a run, between the staleness check and the writes."""

    plan: ProviderPlan
    provider: Provider
    directory: Directory | None
    options: RunOptions = field(default_factory=RunOptions)
    pending: list[Action] = field(default_factory=list)
    settled: list[ActionOutcome] = field(default_factory=list)
    resolved: list[ActionOutcome] = field(default_factory=list)  # settled by this run's read-back
    stale: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    attempts: Mapping[str, int] = field(default_factory=dict)  # sends per action in earlier runs (journal)


def plan_id(plan: Plan) -> str:
    """A stable id for a plan's content: the journal of a plan is keyed on it."""
    body = [
        plan.created_at.isoformat(),
        plan.manifest_digest,
        [[p.provider, p.account, [f"{a.id} {a.terms!r}" for a in p.actions]] for p in plan.providers],
    ]
    return hashlib.sha256(json.dumps(body).encode("utf-8")).hexdigest()[:16]


def run(
    plan: Plan,
    providers: Mapping[str, Provider],
    journal_dir: Path,
    *,
    now: dt.datetime,
    manifest_digest: str | None = None,
    directories: Mapping[str, Directory] | None = None,
    progress: Progress | None = None,
    advance: Advance | None = None,
) -> ApplyResult:
    """Make the LMS match `plan`; raises StalePlan before writing anything, ApplyIncomplete if any failed."""
    check_plan_target(plan, providers, manifest_digest)
    check_actions_complete(plan)
    pid = plan_id(plan)
    journal = Journal.for_plan(journal_dir, pid)
    prior = journal.read()
    say = progress or (lambda _message: None)
    work = [
        _prepare(part, providers[part.provider], prior, (directories or {}).get(part.provider), plan.options)
        for part in plan.providers
    ]
    protected = [line for w in work for line in w.protected]
    if protected:
        # diff never plans these; a plan file that holds them was edited by hand
        raise PlanError(
            f"the plan removes {counted(len(protected), 'enrollment')} with training "
            "records that its own options do not allow removing; nothing was written\n"
            + "\n".join(f"  {line}" for line in _listing(protected)),
            hint="run `enrollctl plan` again; removing such records needs --allow-remove-started/-completed",
        )
    stale = [line for w in work for line in w.stale]
    if stale:
        raise StalePlan(
            f"{counted(len(stale), 'action')} of the plan no longer "
            f"{plural(len(stale), 'matches', 'match')} the LMS; nothing was written",
            stale=_listing(stale),
            hint="run `enrollctl plan` again",
        )
    outcomes: list[ActionOutcome] = []
    calls = 0
    tick = ticker(sum(len(w.pending) for w in work), advance)
    for w in work:
        if w.pending or w.resolved:
            journal.run_started(now, provider=w.plan.provider, account=w.plan.account)
        # what this run's read settled (an unknown outcome confirmed, or already so) is journaled too, so
        # the journal never leaves an action in flight that the LMS already holds
        journal.outcomes((o.action.id, o.status, o.detail) for o in w.resolved)
        done, made = _execute(w, journal, say, tick)
        outcomes.extend(w.settled + w.resolved + done)
        calls += made
    result = ApplyResult(pid, tuple(_in_plan_order(plan, outcomes)), calls, str(journal.path))
    if result.failed:
        raise ApplyIncomplete(
            f"{result.failed} of {len(result.outcomes)} actions failed",
            result,
            hint=f"the journal {journal.path} records what was done; running the same apply again resumes",
        )
    return result


# --- before writing: what is still to do, what is already so, what is stale -------------------------------


def _prepare(
    part: ProviderPlan,
    provider: Provider,
    prior: JournalState,
    directory: Directory | None,
    options: RunOptions,
) -> _Work:
    work = _Work(part, provider, directory, options, attempts=prior.attempts)
    open_actions: list[Action] = []
    for action in part.actions:
        if prior.settled(action.id):
            work.settled.append(_outcome(work, action, OutcomeStatus.ALREADY, "applied by an earlier run"))
        else:
            open_actions.append(action)
    if not open_actions:
        return work
    current = _read_current(work, open_actions)
    assert work.directory is not None  # read by _read_current
    index = DirectoryIndex.build(work.directory)
    for action in open_actions:
        moved = _user_changed(index, action)
        if moved:
            work.stale.append(f"{_describe(work, action)}: {moved}")
            continue
        _classify(work, action, current.get((action.user_id, action.item_id)), prior.unknown(action.id))
    return work


def _user_changed(index: DirectoryIndex, action: Action) -> str:
    """Why the action's user no longer fits the plan (gone, or moved to another department), or ""."""
    if action.user_id not in index.users_by_id:
        return "the user is no longer in the LMS directory"
    now_in = index.user_department(action.user_id)
    if action.department and now_in != action.department:
        return f"the user moved from {action.department} to {now_in or 'no department'}"
    return ""


def _classify(work: _Work, action: Action, now_held: Enrollment | None, unknown: bool) -> None:
    """Sort one action into pending, already so (or resolved as done) or stale."""
    caps = work.provider.capabilities
    resolved = OutcomeStatus.DONE if unknown else OutcomeStatus.ALREADY
    detail = "confirmed by reading back" if unknown else "the LMS already holds it"
    if action.kind is ActionKind.ADD:
        if now_held is None:
            work.pending.append(action)
        elif action.terms is not None and satisfies(now_held, action.terms, caps):
            work.resolved.append(_outcome(work, action, resolved, detail))
        else:
            work.stale.append(f"{_describe(work, action)}: now enrolled with other terms")
    elif action.kind is ActionKind.REENROLL:  # pending while the LMS holds the completion the plan saw
        if now_held is not None and action.before is not None and not basis_changed(action.before, now_held):
            work.pending.append(action)
        elif now_held is not None and started_over(now_held):
            work.resolved.append(_outcome(work, action, resolved, detail))
        else:
            work.stale.append(f"{_describe(work, action)}: the enrollment changed since the plan")
    elif action.kind is ActionKind.UPDATE:
        if now_held is None:
            work.stale.append(f"{_describe(work, action)}: the enrollment no longer exists")
        elif action.before is not None and not basis_changed(action.before, now_held):
            work.pending.append(action)
        elif action.terms is not None and satisfies(now_held, action.terms, caps):
            work.resolved.append(_outcome(work, action, resolved, detail))
        else:
            work.stale.append(
                f"{_describe(work, action)}: the enrollment changed since the plan (terms or progress)"
            )
    elif now_held is None:
        work.resolved.append(_outcome(work, action, resolved, "already removed" if not unknown else detail))
    elif action.before is not None and not basis_changed(action.before, now_held):
        reason = removal_protection(now_held, work.options)
        if reason is None:
            work.pending.append(action)
        else:  # unchanged since the plan, yet protected: the plan's options never allowed this removal
            work.protected.append(f"{_describe(work, action)}: {reason.value.replace('_', ' ')}")
    else:
        work.stale.append(
            f"{_describe(work, action)}: the enrollment changed since the plan (terms or progress)"
        )


def _read_current(work: _Work, actions: Sequence[Action]) -> dict[EnrollmentKey, Enrollment]:
    """Read the enrollments `actions` depend on, and nothing more."""
    if work.directory is None:
        work.directory = work.provider.read_directory()
    items = frozenset(a.item_id for a in actions)
    users: frozenset[str] | None = frozenset(a.user_id for a in actions)
    if users is not None and len(users) > USER_FILTER_LIMIT * max(
        1, work.provider.capabilities.read_batch_users
    ):
        users = None  # filtering by thousands of users costs more calls than reading the items whole
    held = work.provider.read_enrollments(work.directory, items, users)
    wanted = {(a.user_id, a.item_id) for a in actions}
    return {e.key: e for e in held if e.key in wanted}


# --- writing ------------------------------------------------------------------------------------------------


def _execute(
    work: _Work, journal: Journal, say: Progress, tick: Callable[[int], None]
) -> tuple[list[ActionOutcome], int]:
    """Write the pending actions in order and batches; confirm by reading back. Returns outcomes, calls.

    Phases (adds, updates, removals) run one after the other, so each user's changes keep that order; the
    batches of one phase run `capabilities.concurrency` at a time (`writing.write_phase`). Writes of a phase
    whose outcome was lost are read back before the next phase; those the LMS does not hold are sent
    again (bisected only by earlier runs' failures), up to WRITE_ROUNDS sends in all.
    """
    results: dict[str, ActionOutcome] = {}
    absent: set[str] = set()  # lost, and the provider's own read-back found them not made
    calls = 0
    stopped: ProviderError | None = None

    def written(batch: WriteBatch, outcomes: list[Outcome]) -> None:
        tick(len(batch.actions))
        absent.update(o.action_id for o in outcomes if o.absent_after_loss)
        by_id = {a.id: a for a in batch.actions}
        for o in outcomes:
            results[o.action_id] = _outcome(work, by_id[o.action_id], o.status, o.detail)

    for kind in WRITE_ORDER:
        actions = [a for a in work.pending if a.kind is kind]
        if not actions or stopped is not None:
            continue
        for round_ in range(1, WRITE_ROUNDS + 1):
            batches = bisected(work.provider, work.provider.batches(actions), work.attempts)
            planned = sum(b.calls for b in batches)
            again = "" if round_ == 1 else " again, after reading back"
            what = f"{kind.value} {number(len(actions), 'enrollment')}{again}"
            say(f"{work.plan.provider}: {what} in {number(planned, 'call')}")
            concurrency = work.provider.capabilities.concurrency
            made, stopped = write_phase(work.provider, batches, journal, written, concurrency=concurrency)
            calls += made
            if stopped is not None or round_ == WRITE_ROUNDS:
                break
            unknown = [a for a in actions if results[a.id].status is OutcomeStatus.UNKNOWN]
            # never sent again blindly: read back first, and only what the LMS does not hold goes out again
            _confirm(work, results, journal, unknown)
            lost = {a.id for a in unknown if results[a.id].status is OutcomeStatus.FAILED} | absent
            actions = [a for a in actions if a.id in lost]
            absent.clear()
            if not actions:
                break
    written_outcomes = _confirm(work, results, journal)
    not_tried = [
        _outcome(work, a, OutcomeStatus.FAILED, f"not attempted: apply stopped after {stopped}")
        for a in work.pending
        if a.id not in written_outcomes
    ]
    return [*written_outcomes.values(), *not_tried], calls


def _confirm(
    work: _Work,
    results: dict[str, ActionOutcome],
    journal: Journal,
    only: Sequence[Action] | None = None,
) -> dict[str, ActionOutcome]:
    """Re-read what was written (or `only` these): done-but-absent becomes FAILED, unknown DONE or FAILED."""
    checked = [results[a.id] for a in only] if only is not None else list(results.values())
    to_check = [r.action for r in checked if r.status is not OutcomeStatus.FAILED]
    if not to_check:
        return results
    current = _read_current(work, to_check)
    changed: list[tuple[str, OutcomeStatus, str]] = []
    for action in to_check:
        before = results[action.id]
        held = current.get((action.user_id, action.item_id))
        ok = confirmed(action, held, work.provider.capabilities)
        if ok and before.status is OutcomeStatus.UNKNOWN:
            after = _outcome(work, action, OutcomeStatus.DONE, "confirmed by reading back")
        elif not ok and before.status is OutcomeStatus.UNKNOWN:
            after = _outcome(
                work, action, OutcomeStatus.FAILED, f"not found in the LMS after: {before.detail}"
            )
        elif not ok:
            after = _outcome(
                work, action, OutcomeStatus.FAILED, "the vendor reported success but did not make it"
            )
        else:
            continue
        results[action.id] = after
        changed.append((action.id, after.status, after.detail))
    journal.outcomes(changed)
    return results


# --- small helpers ------------------------------------------------------------------------------------------


def _listing(lines: list[str]) -> tuple[str, ...]:
    """At most STALE_LISTED lines, then how many more, so a wholesale change stays readable."""
    if len(lines) <= STALE_LISTED:
        return tuple(lines)
    return (*lines[:STALE_LISTED], f"... and {len(lines) - STALE_LISTED} more")


def _outcome(work: _Work, action: Action, status: OutcomeStatus, detail: str = "") -> ActionOutcome:
    return ActionOutcome(work.plan.provider, action, status, detail)


def _describe(work: _Work, action: Action) -> str:
    return f"{work.plan.provider}: {action.kind.value} {action.user_login} in {action.item_title!r}"


def _in_plan_order(plan: Plan, outcomes: list[ActionOutcome]) -> list[ActionOutcome]:
    order = {
        (p.provider, a.id): i for i, (p, a) in enumerate((p, a) for p in plan.providers for a in p.actions)
    }
    return sorted(outcomes, key=lambda o: order.get((o.provider, o.action.id), len(order)))

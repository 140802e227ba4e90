"""Writes to one iSpring Learn account over either API: adds as learners × items rectangles, one call per
update and per re-enrollment (REST only), removals one call each (SOAP) or many per call (REST); per-action
refusals become FAILED outcomes, writes whose answer was lost UNKNOWN ones (apply reads them back: none is
sent again blindly)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.errors import ProtocolError
from reconciler.providers.base import Outcome, WriteBatch
from reconciler.providers.ispring.batch import plan_batches, rectangle_count, rectangles
from reconciler.providers.ispring.wire import Wire
from reconciler.transport.http import WriteOutcomeUnknown


def batches(
    actions: Sequence[Action], *, max_learners: int, max_items: int, removals_per_call: int
) -> list[WriteBatch]:
    """Adds as rectangles per terms, one batch per update, removals `removals_per_call` to a batch."""
    planned = plan_batches(actions, max_learners=max_learners, max_items=max_items)
    if removals_per_call <= 1:
        return planned
    removals = [a for b in planned if b.kind is ActionKind.REMOVE for a in b.actions]
    kept = [b for b in planned if b.kind is not ActionKind.REMOVE]
    size = removals_per_call
    return kept + [
        WriteBatch(ActionKind.REMOVE, tuple(removals[i : i + size])) for i in range(0, len(removals), size)
    ]


def write_calls(
    actions: Sequence[Action], *, max_learners: int, max_items: int, removals_per_call: int
) -> int:
    """The calls `batches(actions, ...)` costs, counted without making the batches."""
    adds: list[Action] = []
    singles = removals = 0  # updates and re-enrollments are one call each
    for action in actions:
        if action.kind is ActionKind.ADD:
            adds.append(action)
        elif action.kind is ActionKind.REMOVE:
            removals += 1
        else:
            singles += 1
    per_call = max(1, removals_per_call)
    rects = rectangle_count(adds, max_learners=max_learners, max_items=max_items)
    return rects + singles + -(-removals // per_call)


def write_batch(wire: Wire, batch: WriteBatch, *, max_learners: int, max_items: int) -> list[Outcome]:
    """Perform one batch; per-action refusals become FAILED outcomes, lost writes UNKNOWN ones."""
    if batch.kind is ActionKind.ADD:
        rects = rectangles(batch.actions, max_learners=max_learners, max_items=max_items)
        return [o for r in rects for o in _guarded(r.actions, partial(wire.enroll, r))]
    if batch.kind is ActionKind.REENROLL:
        return [o for a in batch.actions for o in _reenroll(wire, a)]
    if batch.kind is ActionKind.UPDATE:
        return [o for a in batch.actions for o in _change(wire, a)]
    return _remove(wire, batch.actions)


def _change(wire: Wire, action: Action) -> list[Outcome]:
    enrollment_id = action.before.id if action.before else None
    if not enrollment_id or action.terms is None:
        return [Outcome(action.id, OutcomeStatus.FAILED, "no enrollment id or terms to change (re-plan)")]
    return _guarded((action,), partial(wire.change, action, enrollment_id))


def _reenroll(wire: Wire, action: Action) -> list[Outcome]:
    enrollment_id = action.before.id if action.before else None
    if not enrollment_id or action.terms is None:
        return [Outcome(action.id, OutcomeStatus.FAILED, "no enrollment id or terms to re-enroll (re-plan)")]
    # not idempotent (each call starts another attempt): a lost answer is UNKNOWN, settled by reading back
    return _guarded((action,), partial(wire.reenroll, action, enrollment_id))


def _remove(wire: Wire, actions: tuple[Action, ...]) -> list[Outcome]:
    known = [(a, a.before.id) for a in actions if a.before is not None and a.before.id]
    missing = [a for a in actions if a.before is None or not a.before.id]
    failed = [Outcome(a.id, OutcomeStatus.FAILED, "no enrollment id to remove (re-plan)") for a in missing]
    if not known:
        return failed
    if wire.name == "soap":  # one call per removal: a lost answer leaves only that one unknown
        return failed + [o for pair in known for o in _guarded((pair[0],), partial(wire.remove, [pair]))]
    return failed + _guarded(tuple(a for a, _ in known), partial(wire.remove, known))


def _guarded(actions: tuple[Action, ...], perform: Callable[[], list[Outcome]]) -> list[Outcome]:
    try:
        return perform()
    except (WriteOutcomeUnknown, ProtocolError) as exc:
        # the request reached the server but its answer was lost or unreadable: apply reads back
        return [Outcome(a.id, OutcomeStatus.UNKNOWN, str(exc)) for a in actions]

"""Writes to one iSpring Learn account: adds as learners × items rectangles, one call per update and per
removal; per-action refusals become FAILED outcomes, writes whose answer was lost UNKNOWN ones."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from lxml import etree

from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.errors import ProtocolError
from reconciler.providers.base import Outcome, WriteBatch
from reconciler.providers.ispring.api import SCOPE_HINT, IspringApi, fault_is
from reconciler.providers.ispring.batch import Rectangle, change_params, enroll_params, rectangles
from reconciler.providers.ispring.soap import Fault, success
from reconciler.transport.http import WriteOutcomeUnknown


def write_batch(api: IspringApi, batch: WriteBatch, *, max_learners: int, max_items: int) -> list[Outcome]:
    """Perform one batch; per-action refusals become FAILED outcomes, lost writes UNKNOWN ones."""
    if batch.kind is ActionKind.ADD:
        rects = rectangles(
            batch.actions,
            max_learners=max_learners,
            max_items=max_items,
        )
        return [o for r in rects for o in _guarded(r.actions, partial(_enroll, api, r))]
    handler = _change if batch.kind is ActionKind.UPDATE else _unenroll
    return [o for a in batch.actions for o in _guarded((a,), partial(handler, api, a))]


def _guarded(actions: tuple[Action, ...], perform: Callable[[], list[Outcome]]) -> list[Outcome]:
    try:
        return perform()
    except (WriteOutcomeUnknown, ProtocolError) as exc:
        # the request reached the server but its answer was lost or unreadable: apply reads back
        return [Outcome(a.id, OutcomeStatus.UNKNOWN, str(exc)) for a in actions]


def _enroll(api: IspringApi, rect: Rectangle) -> list[Outcome]:
    reply = api.call(
        "EnrollLearnersInCourses",
        enroll_params(rect),
        idempotent=False,
        faults=("Permission denied", "Unknown content item"),
    )
    return _outcomes(api, rect.actions, reply)


def _change(api: IspringApi, action: Action) -> list[Outcome]:
    enrollment_id = action.before.id if action.before else None
    if not enrollment_id or action.terms is None:
        return [Outcome(action.id, OutcomeStatus.FAILED, "no enrollment id or terms to change (re-plan)")]
    params = change_params(enrollment_id, action.terms, action.before)
    # a full replace with the same values is harmless, but an unknown answer is still read back
    reply = api.call(
        "ChangeEnrollment", params, idempotent=False, faults=("Permission denied", "Unknown Enrollment")
    )
    return _outcomes(api, (action,), reply)


def _unenroll(api: IspringApi, action: Action) -> list[Outcome]:
    enrollment_id = action.before.id if action.before else None
    if not enrollment_id:
        return [Outcome(action.id, OutcomeStatus.FAILED, "no enrollment id to remove (re-plan)")]
    reply = api.call(
        "Unenroll",
        [("enrollmentId", enrollment_id)],
        idempotent=False,
        faults=("Permission denied", "Unknown Enrollment"),
    )
    if isinstance(reply, Fault) and fault_is(reply, "Unknown Enrollment"):
        # the enrollment is gone: what the removal wanted (e.g. a re-applied plan)
        return [Outcome(action.id, OutcomeStatus.ALREADY, "enrollment no longer exists")]
    return _outcomes(api, (action,), reply)


def _outcomes(api: IspringApi, actions: tuple[Action, ...], reply: etree._Element | Fault) -> list[Outcome]:
    if isinstance(reply, Fault):
        detail = f"iSpring answered {reply.string!r}"
        if fault_is(reply, "Permission denied"):
            detail += f" ({SCOPE_HINT})"
        return [Outcome(a.id, OutcomeStatus.FAILED, api.http.redactor(detail)) for a in actions]
    if not success(reply):
        return [Outcome(a.id, OutcomeStatus.FAILED, "iSpring answered success=false") for a in actions]
    return [Outcome(a.id, OutcomeStatus.DONE) for a in actions]

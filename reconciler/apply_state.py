"""How apply compares what the LMS holds with what a plan action was based on and wants.

Pure functions over model data: `basis_changed` (is an action stale?), `satisfies` (does an enrollment
already have the wanted terms?), `confirmed` (did a write land?). Only the fields the vendor can store are
compared, per its capabilities, so a vendor that cannot store a due date never looks stale or failed.
"""

from __future__ import annotations

import datetime as dt

from reconciler.model import Capabilities, DueKind, Enrollment, Terms
from reconciler.plan import Action, ActionKind


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    # naive datetimes from a vendor are UTC by our providers' convention; normalise before comparing
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _terms_basis(e: Enrollment) -> tuple[object, ...]:
    return (_utc(e.access), _utc(e.due), e.due_hours, e.due_is_default, e.lock_after_due)


def _records_basis(e: Enrollment) -> tuple[object, ...]:
    return (e.origin, e.completion, round(e.progress, 3), _utc(e.completed_at))


def basis_changed(before: Enrollment, now_held: Enrollment, kind: ActionKind) -> bool:
    """True when the LMS no longer holds what `before` recorded, in the fields `kind` depends on.

    An update depends on the terms; a removal also on progress and origin, which decide protection.
    """
    if kind is ActionKind.REMOVE:
        return _terms_basis(before) != _terms_basis(now_held) or _records_basis(before) != _records_basis(
            now_held
        )
    return _terms_basis(before) != _terms_basis(now_held)


def satisfies(e: Enrollment, terms: Terms, caps: Capabilities) -> bool:
    """True when `e` already has `terms`, in every field the vendor can store."""
    if caps.lock_after_due and e.lock_after_due != terms.lock_after_due:
        return False
    if caps.access_dates and terms.access is not None:
        access = _utc(e.access)
        if access is None or access.date() != terms.access:
            return False
    return not caps.due_dates or _due_satisfied(e, terms)


def _due_satisfied(e: Enrollment, terms: Terms) -> bool:
    due = terms.due
    if due.kind is DueKind.DEFAULT:
        return e.due_is_default
    if due.kind is DueKind.UNLIMITED:
        return e.due is None and e.due_hours is None and not e.due_is_default
    if due.kind is DueKind.DATE:
        held = _utc(e.due)
        return held is not None and due.date is not None and held.date() == due.date and not e.due_is_default
    if e.due_hours is not None:
        return e.due_hours == due.hours
    # a vendor that stores dates: the period counts from the enrollment's own access date, so no drift
    access, held = _utc(e.access), _utc(e.due)
    if access is None or held is None or due.hours is None:
        return False
    return abs((held - access) - dt.timedelta(hours=due.hours)) < dt.timedelta(days=1)


def confirmed(action: Action, held: Enrollment | None, caps: Capabilities) -> bool:
    """True when the LMS, read back after a write, shows `action` took effect."""
    if action.kind is ActionKind.REMOVE:
        return held is None
    if held is None:
        return False
    if action.terms is not None and satisfies(held, action.terms, caps):
        return True
    # an update the vendor answered but ignored leaves the enrollment exactly as it was
    if action.kind is ActionKind.UPDATE and action.before is not None:
        return basis_changed(action.before, held, ActionKind.UPDATE)
    return action.kind is ActionKind.ADD

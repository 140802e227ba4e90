"""How apply compares what the LMS holds with what a plan action was based on and wants.

Pure functions over model data: `basis_changed` (is an action stale?), `satisfies` (does an enrollment
already have the wanted terms?), `confirmed` (did a write land?). Terms are compared exactly as the diff
compares them (`term_compare`), so "already so" here means "no change" in the next plan.
"""

from __future__ import annotations

import datetime as dt

from reconciler.core.model import Capabilities, Enrollment, Terms
from reconciler.core.plan import Action, ActionKind
from reconciler.core.terms import changed_fields, unsupported_fields


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    # naive datetimes from a vendor are UTC by our providers' convention; normalise before comparing
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _terms_basis(e: Enrollment) -> tuple[object, ...]:
    return (_utc(e.access), _utc(e.due), e.due_hours, e.due_is_default, e.lock_after_due)


def _records_basis(e: Enrollment) -> tuple[object, ...]:
    return (e.origin, e.completion, round(e.progress, 3), _utc(e.completed_at), e.unknown)


def basis_changed(before: Enrollment, now_held: Enrollment) -> bool:
    """True when the LMS no longer holds what `before` recorded, in the fields `kind` depends on.

    Both depend on the terms and on the training records (progress, completion, origin, whether it could be
    read): a removal because they decide protection, an update because a reviewer approved new terms for a
    learner at the progress they saw, so new progress makes the update stale.
    """
    return _terms_basis(before) != _terms_basis(now_held) or _records_basis(before) != _records_basis(
        now_held
    )


def satisfies(e: Enrollment, terms: Terms, caps: Capabilities) -> bool:
    """True when `e` already has `terms` in every field the vendor can store (the diff's own comparison)."""
    missing = unsupported_fields(terms, caps)
    return all(f in missing for f in changed_fields(terms, e))


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
        return _terms_basis(action.before) != _terms_basis(held)
    return action.kind is ActionKind.ADD

"""iSpring write methods: EnrollLearnersInCourses, ChangeEnrollment, Unenroll, and REST's Reenroll."""

from __future__ import annotations

import datetime as dt

from reconciler.sandbox.ispring.context import Context
from reconciler.sandbox.ispring.soap import (
    UNKNOWN_CONTENT_ITEM,
    UNKNOWN_ENROLLMENT,
    WRONG_PARAMETERS,
    SoapFault,
    parse_bool,
    parse_int,
    parse_moment,
    success,
    text,
    values,
)
from reconciler.sandbox.store import compliance
from reconciler.sandbox.store.records import (
    DUE_TYPES,
    EnrollmentRow,
    ItemRow,
    NotificationRow,
    Terms,
    resolve_due_date,
)

VENDOR = "ispring"


def _terms(ctx: Context, item: ItemRow, access_required: bool) -> Terms:
    """Terms from `accessDate`, `dueDateType`, `dueDate`, `duePeriod` (hours) and `lockAfterDueDate`."""
    due_type = text(ctx.call, "dueDateType")
    if due_type not in DUE_TYPES:
        raise SoapFault(WRONG_PARAMETERS, f"dueDateType {due_type!r} is not one of {', '.join(DUE_TYPES)}")
    access_text = text(ctx.call, "accessDate")
    if access_text is None and access_required:
        raise SoapFault(WRONG_PARAMETERS, "accessDate is required (ChangeEnrollment replaces all terms)")
    access = parse_moment(access_text, "accessDate") if access_text else ctx.now
    due_text, period_text = text(ctx.call, "dueDate"), text(ctx.call, "duePeriod")
    due_date, period = None, None
    # Values that do not belong to the chosen type are ignored, as the vendor's own sample sends them all.
    if due_type == "due_date":
        if due_text is None:
            raise SoapFault(WRONG_PARAMETERS, "dueDate is required when dueDateType is due_date")
        due_date = parse_moment(due_text, "dueDate")
    if due_type == "due_period":
        if period_text is None:
            raise SoapFault(WRONG_PARAMETERS, "duePeriod is required when dueDateType is due_period")
        period = parse_int(period_text, "duePeriod", 1)
    lock_text = text(ctx.call, "lockAfterDueDate")
    lock = parse_bool(lock_text, "lockAfterDueDate") if lock_text else False
    resolved = resolve_due_date(access, due_type, due_date, period, item.default_due_hours)
    return Terms(access, due_type, resolved, period, lock)


def _required_ids(ctx: Context, name: str) -> list[str]:
    ids = values(ctx.call, name)
    if not ids:
        raise SoapFault(WRONG_PARAMETERS, f"{name} is required")
    return list(dict.fromkeys(ids))


def enroll_learners_in_courses(ctx: Context) -> bytes:
    """Enroll every learner in every item; existing enrollments stay exactly as they are."""
    course_ids, learner_ids = _required_ids(ctx, "courseIds"), _required_ids(ctx, "learnerIds")
    items = [ctx.store.get_item(i) for i in course_ids]
    missing_items = [i for i, item in zip(course_ids, items, strict=True) if item is None]
    if missing_items:
        raise SoapFault(UNKNOWN_CONTENT_ITEM, f"unknown content items {missing_items}")
    learners = [ctx.store.get_user(i) for i in learner_ids]
    if any(learner is None for learner in learners):
        # inferred: the vendor documents no fault for unknown learners; this is the closest one
        raise SoapFault(WRONG_PARAMETERS, "unknown learner ids")
    ctx.require_scope({learner.department_uuid for learner in learners if learner is not None})
    created, existing = 0, 0
    with ctx.store.transaction():
        for item in items:
            assert item is not None
            terms = _terms(ctx, item, access_required=False)
            for learner_id in learner_ids:
                _, is_new = ctx.store.enroll(learner_id, item.uuid, terms, ctx.now)
                if is_new:
                    created += 1
                    _notify(ctx, learner_id, item.uuid)
                else:
                    existing += 1
    # inferred: the vendor does not say what re-enrolling does; we change nothing and say so in the log
    ctx.notes.append(f"created {created}, already enrolled {existing} (unchanged)")
    return success(ctx.call.envelope_ns, ctx.call.ns)


def _notify(ctx: Context, learner_id: str, item_uuid: str) -> None:
    # inferred: iSpring e-mails learners about new enrollments (account notification settings permitting)
    ctx.store.add_notification(NotificationRow(VENDOR, learner_id, item_uuid, "enrolled", ctx.now))


def _enrollment(ctx: Context) -> EnrollmentRow:
    enrollment_id = text(ctx.call, "enrollmentId")
    if enrollment_id is None:
        raise SoapFault(WRONG_PARAMETERS, "enrollmentId is required")
    row = ctx.store.get_enrollment(enrollment_id)
    if row is None:
        raise SoapFault(UNKNOWN_ENROLLMENT, f"no enrollment {enrollment_id}")
    learner = ctx.store.get_user(row.user_uuid)
    ctx.require_scope({learner.department_uuid if learner else None})
    return row


def change_enrollment(ctx: Context) -> bytes:
    """Replace an enrollment's terms; `accessDate` and `dueDateType` are required (a full replace)."""
    row = _enrollment(ctx)
    item = ctx.store.get_item(row.item_uuid)
    if item is None:
        raise SoapFault(UNKNOWN_CONTENT_ITEM, f"enrollment {row.uuid} refers to a deleted item")
    terms = _terms(ctx, item, access_required=True)
    ctx.store.update_terms(row.uuid, terms)
    ctx.notes.append(f"changed {row.uuid}: {_describe(row.terms)} -> {_describe(terms)}")
    return success(ctx.call.envelope_ns, ctx.call.ns)


def reenroll(ctx: Context) -> None:
    """Start an enrollment over with the terms sent (`accessDate` and `dueDateType` required, as the spec's
    `Reenroll` schema says): a new attempt, not started; the earlier result stays in the history.

    # inferred: the spec documents the call and its body only. What it does is taken from its name and the
    vendor's help pages (a new attempt; earlier results are kept): progress cleared, the learner notified.
    """
    row = _enrollment(ctx)
    item = ctx.store.get_item(row.item_uuid)
    if item is None:
        raise SoapFault(UNKNOWN_CONTENT_ITEM, f"enrollment {row.uuid} refers to a deleted item")
    terms = _terms(ctx, item, access_required=True)
    compliance.reset(ctx.store, row.uuid, ctx.now, terms)
    ctx.store.add_notification(NotificationRow(VENDOR, row.user_uuid, row.item_uuid, "reenrolled", ctx.now))
    earlier = row.progress.completion_date
    kept = f"{row.progress.status} {earlier.date().isoformat()}" if earlier else row.progress.status
    ctx.notes.append(f"reenrolled {row.uuid}: a new attempt; the earlier one ({kept}) kept in the history")


def unenroll(ctx: Context) -> bytes:
    """Remove one enrollment."""
    row = _enrollment(ctx)
    ctx.store.delete_enrollment(row.uuid)
    ctx.notes.append(f"removed {row.uuid} ({row.progress.status}, {row.progress.progress:g}%)")
    return success(ctx.call.envelope_ns, ctx.call.ns)


def unenroll_many(ctx: Context, enrollment_ids: list[str]) -> None:
    """Remove several enrollments at once (REST `POST /enrollment/delete`); all in scope, or none removed.

    # inferred: the spec does not say what an unknown id does; it is skipped (already removed), so a
    resumed apply that sends a removal twice is not refused.
    """
    found = [ctx.store.get_enrollment(i) for i in dict.fromkeys(enrollment_ids)]
    rows = [row for row in found if row is not None]
    learners = [ctx.store.get_user(row.user_uuid) for row in rows]
    ctx.require_scope({learner.department_uuid if learner else None for learner in learners})
    with ctx.store.transaction():
        for row in rows:
            ctx.store.delete_enrollment(row.uuid)
            ctx.notes.append(f"removed {row.uuid} ({row.progress.status}, {row.progress.progress:g}%)")
    if len(found) > len(rows):
        ctx.notes.append(f"{len(found) - len(rows)} unknown enrollment id(s) skipped")


def _describe(terms: Terms) -> str:
    due = terms.due_date.isoformat() if isinstance(terms.due_date, dt.datetime) else "none"
    return f"{terms.due_type} due {due} lock {terms.lock_after_due}"

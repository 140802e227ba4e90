"""iSpring ListLearnersResults: every filter of the vendor page, token paging, the sample's field set."""

from __future__ import annotations

import datetime as dt

from reconciler.sandbox.ispring.context import Context
from reconciler.sandbox.ispring.soap import (
    PERMISSION_DENIED,
    WRONG_PARAMETERS,
    SoapFault,
    child,
    document,
    iso,
    number,
    param,
    parse_moment,
    tagged,
    values,
)
from reconciler.sandbox.store.records import (
    COMPLETION_STATUSES,
    FINISHED_STATUSES,
    EnrollmentQuery,
    EnrollmentRow,
    ItemRow,
)

# The page documents 1 (active) and 3 (blocked); 3 also covers inactive users and 5 those whose employment
# ended, as in GetUsers v2 (inferred).
USER_STATUS_CODES = {"1": ("active",), "3": ("blocked", "inactive"), "5": ("employment_ended",)}


def _range(ctx: Context, name: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """`<name><startDate/><endDate/></name>`; either end may be missing ("limited only by one point")."""
    node = param(ctx.call, name)
    if node is None:
        return None, None
    ends = []
    for end in ("startDate", "endDate"):
        found = child(node, end)
        value = (found.text or "").strip() if found is not None else ""
        ends.append(parse_moment(value, f"{name}.{end}") if value else None)
    return ends[0], ends[1]


def _statuses(ctx: Context) -> frozenset[str]:
    codes = values(ctx.call, "userStatuses") or ["1"]  # by default only active users
    unknown = [c for c in codes if c not in USER_STATUS_CODES]
    if unknown:
        raise SoapFault(WRONG_PARAMETERS, f"userStatuses: unknown {unknown}")
    return frozenset(status for code in codes for status in USER_STATUS_CODES[code])


def _completion(ctx: Context) -> frozenset[str] | None:
    wanted = values(ctx.call, "completionStatuses")
    if wanted is None:
        return None
    unknown = [s for s in wanted if s not in COMPLETION_STATUSES]
    if unknown:
        raise SoapFault(WRONG_PARAMETERS, f"completionStatuses: unknown {unknown}")
    return frozenset(wanted)


def _departments(ctx: Context) -> frozenset[str] | None:
    """Requested departments with their sub-departments, intersected with the caller's scope."""
    requested = values(ctx.call, "departmentIds")
    if requested is None:
        return ctx.scope
    if ctx.scope is not None and not set(requested) <= ctx.scope:
        raise SoapFault(PERMISSION_DENIED, "departmentIds outside the caller's scope")
    return ctx.store.department_subtree(requested)


def build_query(ctx: Context) -> EnrollmentQuery:
    """The store query for a ListLearnersResults call (paging position included)."""
    access, due, completion = _range(ctx, "accessDate"), _range(ctx, "dueDate"), _range(ctx, "completionDate")
    users, courses = values(ctx.call, "userIds"), values(ctx.call, "courseIds")
    ctx.require_users_in_scope(users)
    return EnrollmentQuery(
        user_uuids=None if users is None else frozenset(users),
        item_uuids=None if courses is None else frozenset(courses),
        department_uuids=_departments(ctx),
        user_statuses=_statuses(ctx),
        completion_statuses=_completion(ctx),
        access_from=access[0],
        access_to=access[1],
        due_from=due[0],
        due_to=due[1],
        completion_from=completion[0],
        completion_to=completion[1],
        after_key=ctx.page_start("results"),
    )


def list_learners_results(ctx: Context) -> bytes:
    """ListLearnersResults: `learnersResults/learnerResult` rows; `nextPageToken` absent on the last page."""
    query, size = build_query(ctx), ctx.page_size()
    rows = ctx.store.enrollments(query, limit=size + 1)
    items = {item.uuid: item for item in ctx.store.items()}
    parts = ["<learnersResults>"]
    parts.extend(_learner_result(row, items.get(row.item_uuid), ctx.now) for row in rows[:size])
    parts.append("</learnersResults>")
    if len(rows) > size:
        parts.append(tagged("nextPageToken", ctx.next_token("results", rows[size - 1].key)))
    ctx.notes.append(f"{min(size, len(rows))} results")
    return document(ctx.call.envelope_ns, ctx.call.ns, "ListLearnersResultsResult", "".join(parts))


def _learner_result(row: EnrollmentRow, item: ItemRow | None, now: dt.datetime) -> str:
    """One row with exactly the sample's fields, optional ones only when they have a value."""
    terms, progress = row.terms, row.progress
    fields = [
        tagged("userId", row.user_uuid),
        tagged("courseId", row.item_uuid),
        tagged("courseTitle", item.title if item else ""),
        tagged("enrollmentId", row.uuid),
        tagged("accessDate", iso(terms.access_date)),
    ]
    for name, moment in (
        ("dueDate", terms.due_date),
        ("expirationDate", terms.expiration_date),
        ("completionDate", progress.completion_date),
    ):
        if moment is not None:
            fields.append(tagged(name, iso(moment)))
    if progress.time_spent:
        fields.append(tagged("timeSpent", str(progress.time_spent)))
    fields.append(tagged("completionStatus", progress.status))
    fields.append(tagged("progress", number(progress.progress)))
    if progress.score is not None:
        fields.append(tagged("awardedScore", number(progress.score)))
    overdue = terms.due_date is not None and terms.due_date < now and progress.status not in FINISHED_STATUSES
    fields.append(tagged("isOverdue", "true" if overdue else "false"))
    if progress.views_count:
        fields.append(tagged("viewsCount", str(progress.views_count)))
    return "<learnerResult>" + "".join(fields) + "</learnerResult>"

"""Litmos write endpoints: assign and remove a user's courses and learning paths, reset a result."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.sandbox.litmos.http import LitmosRequest, Reply, bad_request, not_found
from reconciler.sandbox.litmos.reads import Context, find_user
from reconciler.sandbox.litmos.wire import MalformedBody, parse_id_list, unique
from reconciler.sandbox.store import compliance
from reconciler.sandbox.store.records import NotificationRow, Terms, UserRow, resolve_due_date

VENDOR = "litmos"
NOTIFICATION_KINDS = {"course": "course_assigned", "learning_path": "learning_path_assigned"}


def _requested_ids(request: LitmosRequest) -> list[str]:
    try:
        return unique(i for i in parse_id_list(request.body, request.content_type) if i)
    except MalformedBody as error:
        raise bad_request(str(error)) from error


def _assign(ctx: Context, request: LitmosRequest, user: UserRow, kind: str) -> Reply:
    """Assign every known item of `kind` in the body; unknown, other-kind and existing ids are ignored."""
    # inferred: assigning a learning path records the path only; its courses are not assigned one by one.
    notify = request.flag("sendmessage", True)
    with ctx.store.transaction():
        for key in _requested_ids(request):
            item = ctx.store.get_item(key, by="litmos_id")
            if item is None or item.kind != kind:
                continue
            # Litmos has no per-assignment due date: the item's own default applies.
            due = resolve_due_date(ctx.now, "default", None, None, item.default_due_hours)
            terms = Terms(access_date=ctx.now, due_type="default", due_date=due)
            _, created = ctx.store.enroll(user.uuid, item.uuid, terms, ctx.now)
            if created and notify:
                # inferred: learning-path e-mails follow the same `sendmessage` switch as courses; the
                # vendor only mails users who have logged in before, which the sandbox does not model.
                note = NotificationRow(VENDOR, user.uuid, item.uuid, NOTIFICATION_KINDS[kind], ctx.now)
                ctx.store.add_notification(note)
    return Reply(201)


def assign_courses(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`POST /users/{id}/courses[?sendmessage=false]` → 201 with an empty body."""
    return _assign(ctx, request, find_user(ctx, params["user"]), "course")


def assign_learning_paths(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`POST /users/{id}/learningpaths` → 201 with an empty body."""
    return _assign(ctx, request, find_user(ctx, params["user"]), "learning_path")


def _unassign(ctx: Context, params: Mapping[str, str], item_key: str, kind: str, status: int) -> Reply:
    user = find_user(ctx, params["user"])
    item = ctx.store.get_item(params[item_key], by="litmos_id")
    enrollment = ctx.store.find_enrollment(user.uuid, item.uuid) if item and item.kind == kind else None
    if enrollment is None:
        label = "Course" if kind == "course" else "Learning path"
        raise not_found(f"{label} {params[item_key]} is not assigned to user {params['user']}")
    ctx.store.delete_enrollment(enrollment.uuid)
    return Reply(status)


def unassign_course(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`DELETE /users/{id}/courses/{cid}` → 200; 404 when the course is not assigned (inferred)."""
    return _unassign(ctx, params, "course", "course", 200)


def unassign_learning_path(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`DELETE /users/{id}/learningpaths/{lpid}` → 201, as the vendor page says (sic)."""
    return _unassign(ctx, params, "path", "learning_path", 201)


def reset_course(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`PUT /users/{id}/courses/{cid}/reset`: back to incomplete with 0 % → 200."""
    user = find_user(ctx, params["user"])
    item = ctx.store.get_item(params["course"], by="litmos_id")
    enrollment = ctx.store.find_enrollment(user.uuid, item.uuid) if item else None
    if enrollment is None:
        raise not_found(f"Course {params['course']} is not assigned to user {params['user']}")  # inferred
    compliance.reset(ctx.store, enrollment.uuid, ctx.now)  # progress cleared, a new attempt from now
    return Reply(200)

"""Litmos read endpoints: users, teams, courses, learning paths and their rosters and results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from reconciler.sandbox.litmos import entities as present
from reconciler.sandbox.litmos.http import LitmosRequest, Reply, bad_request, not_found, page_bounds
from reconciler.sandbox.litmos.wire import Entity, EntityList, MalformedBody, parse_id_list, unique
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import (
    DepartmentRow,
    EnrollmentQuery,
    EnrollmentRow,
    GroupRow,
    ItemRow,
    UserQuery,
    UserRow,
)

BULK_READ_MAX_USERS = 25
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What a handler works with: the store and the moment the request arrived."""

    store: Store
    now: dt.datetime
    team_parents_in_json: bool = False  # the sandbox switch `litmos_team_parents` (docs/SANDBOX.md)


# --- lookups -----------------------------------------------------------------------------------------


def find_user(ctx: Context, key: str) -> UserRow:
    """A user by Litmos id, or by username as some clients address them; 404 otherwise."""
    user = ctx.store.get_user(key, by="litmos_id") or ctx.store.get_user(key, by="login")
    if user is None:
        raise not_found(f"User not found: {key}")
    return user


def find_team(ctx: Context, key: str) -> DepartmentRow | GroupRow:
    """A department or group presented as a team, by its Litmos id; 404 otherwise."""
    team = ctx.store.get_department(key, by="litmos_id") or ctx.store.get_group(key, by="litmos_id")
    if team is None:
        raise not_found(f"Team not found: {key}")
    return team


def find_item(ctx: Context, key: str, kind: str) -> ItemRow:
    """A course or learning path by Litmos id; 404 when missing or of the other kind."""
    item = ctx.store.get_item(key, by="litmos_id")
    if item is None or item.kind != kind:
        label = "Course" if kind == "course" else "Learning path"
        raise not_found(f"{label} not found: {key}")
    return item


def items_by_uuid(ctx: Context) -> dict[str, ItemRow]:
    """Every item keyed by uuid (catalogues are small next to users and enrollments)."""
    return {item.uuid: item for item in ctx.store.items()}


def _page(request: LitmosRequest, rows: Sequence[T]) -> Sequence[T]:
    start, limit = page_bounds(request)
    return rows[start : start + limit]


# --- users -------------------------------------------------------------------------------------------


def list_users(ctx: Context, request: LitmosRequest, _: Mapping[str, str]) -> Reply:
    """`GET /users?limit&start&search&showInactive`: inactive users are listed unless showInactive=false."""
    start, limit = page_bounds(request)
    statuses = None if request.flag("showInactive", True) else frozenset({"active"})
    query = UserQuery(statuses=statuses, search=request.query.get("search") or None)
    users = ctx.store.users(query, offset=start, limit=limit)
    return Reply(200, EntityList("Users", tuple(present.user_summary(u) for u in users)))


def get_user(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /users/{id}` (or by username)."""
    return Reply(200, present.user_detail(find_user(ctx, params["user"])))


# --- teams -------------------------------------------------------------------------------------------


def _department_team(ctx: Context, department: DepartmentRow, parent_id: str, detail: bool = False) -> Entity:
    return present.department_team(department, parent_id, detail, parents_in_json=ctx.team_parents_in_json)


def _group_team(ctx: Context, group: GroupRow, detail: bool = False) -> Entity:
    return present.group_team(group, detail, parents_in_json=ctx.team_parents_in_json)


def _all_teams(ctx: Context) -> list[Entity]:
    rows = ctx.store.departments()
    parents = {d.uuid: d.litmos_id for d in rows}
    departments = [_department_team(ctx, d, parents.get(d.parent_uuid or "", "")) for d in rows]
    return departments + [_group_team(ctx, g) for g in ctx.store.groups()]


def list_teams(ctx: Context, request: LitmosRequest, _: Mapping[str, str]) -> Reply:
    """`GET /teams`: departments then groups (top-level); `ParentTeamId` in XML only, as recorded."""
    return Reply(200, EntityList("Teams", tuple(_page(request, _all_teams(ctx)))))


def get_team(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /teams/{id}` (adds `Description`; recorded JSON is only `Id`, `Name`, `Description`)."""
    team = find_team(ctx, params["team"])
    if isinstance(team, GroupRow):
        return Reply(200, _group_team(ctx, team, detail=True))
    parent = ctx.store.get_department(team.parent_uuid) if team.parent_uuid else None
    return Reply(200, _department_team(ctx, team, parent.litmos_id if parent else "", detail=True))


def list_sub_teams(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /teams/{id}/teams`: direct sub-teams only."""
    team = find_team(ctx, params["team"])
    children: list[Entity] = []
    if isinstance(team, DepartmentRow):
        rows = [d for d in ctx.store.departments() if d.parent_uuid == team.uuid]
        children = [_department_team(ctx, d, team.litmos_id) for d in rows]
    return Reply(200, EntityList("Teams", tuple(_page(request, children))))


def list_team_users(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /teams/{id}/users`: active members only; membership is not inherited from sub-teams."""
    team = find_team(ctx, params["team"])
    active = frozenset({"active"})
    if isinstance(team, GroupRow):
        query = UserQuery(group_uuids=frozenset({team.uuid}), statuses=active)
    else:
        query = UserQuery(department_uuids=frozenset({team.uuid}), statuses=active)
    start, limit = page_bounds(request)
    users = ctx.store.users(query, offset=start, limit=limit)
    return Reply(200, EntityList("Users", tuple(present.user_summary(u) for u in users)))


# --- courses and learning paths ----------------------------------------------------------------------


def list_courses(ctx: Context, request: LitmosRequest, _: Mapping[str, str]) -> Reply:
    """`GET /courses`."""
    courses = [present.course(i) for i in ctx.store.items("course")]
    return Reply(200, EntityList("Courses", tuple(_page(request, courses))))


def get_course(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /courses/{id}`."""
    return Reply(200, present.course(find_item(ctx, params["course"], "course")))


def list_course_modules(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /courses/{id}/modules` (recorded, module_complete.yml): the course's one module here."""
    modules = [present.course_module(find_item(ctx, params["course"], "course"))]
    return Reply(200, EntityList("Modules", tuple(_page(request, modules))))


def list_learning_paths(ctx: Context, request: LitmosRequest, _: Mapping[str, str]) -> Reply:
    """`GET /learningpaths`."""
    paths = [present.learning_path(i) for i in ctx.store.items("learning_path")]
    return Reply(200, EntityList("LearningPaths", tuple(_page(request, paths))))


def get_learning_path(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /learningpaths/{id}`."""
    return Reply(200, present.learning_path(find_item(ctx, params["path"], "learning_path")))


def list_learning_path_courses(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /learningpaths/{id}/courses`: the path's courses in their order."""
    path = find_item(ctx, params["path"], "learning_path")
    catalogue = items_by_uuid(ctx)
    courses = [present.course(catalogue[c]) for c in path.course_uuids if c in catalogue]
    return Reply(200, EntityList("Courses", tuple(_page(request, courses))))


def _roster(ctx: Context, request: LitmosRequest, item: ItemRow) -> Reply:
    start, limit = page_bounds(request)
    enrollments = ctx.store.enrollments(EnrollmentQuery(item_uuids=frozenset({item.uuid})), limit, start)
    users = {u.uuid: u for u in ctx.store.users(UserQuery(uuids=frozenset(e.user_uuid for e in enrollments)))}
    rows = tuple(
        present.roster_user(users[e.user_uuid], e, item) for e in enrollments if e.user_uuid in users
    )
    return Reply(200, EntityList("Users", rows))


def list_course_users(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /courses/{id}/users`: everyone assigned the course, with progress and dates."""
    return _roster(ctx, request, find_item(ctx, params["course"], "course"))


def list_learning_path_users(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /learningpaths/{id}/users`. # inferred: same row shape as the course roster."""
    return _roster(ctx, request, find_item(ctx, params["path"], "learning_path"))


# --- a user's results --------------------------------------------------------------------------------


def _user_enrollments(ctx: Context, users: Sequence[UserRow], kind: str | None = None) -> list[EnrollmentRow]:
    query = EnrollmentQuery(user_uuids=frozenset(u.uuid for u in users), item_kind=kind)
    return ctx.store.enrollments(query)


def list_user_courses(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /users/{id}/courses?limit&start`: courses and learning paths (`IsLearningPath`) with progress."""
    # Learning paths show as rows with IsLearningPath true, as in the vendor's bulk-read sample.
    user = find_user(ctx, params["user"])
    catalogue = items_by_uuid(ctx)
    rows = [
        present.user_course(catalogue[e.item_uuid], e, ctx.now)
        for e in _user_enrollments(ctx, [user])
        if e.item_uuid in catalogue
    ]
    return Reply(200, EntityList("Courses", tuple(_page(request, rows))))


def get_user_course(ctx: Context, _: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /users/{id}/courses/{cid}`: one result with modules, wrapped in `<Courses>` as documented."""
    user = find_user(ctx, params["user"])
    item = ctx.store.get_item(params["course"], by="litmos_id")
    enrollment = ctx.store.find_enrollment(user.uuid, item.uuid) if item else None
    if item is None or enrollment is None:
        raise not_found(f"Course {params['course']} is not assigned to user {params['user']}")
    return Reply(200, EntityList("Courses", (present.user_course_detail(item, enrollment, ctx.now),)))


def list_user_learning_paths(ctx: Context, request: LitmosRequest, params: Mapping[str, str]) -> Reply:
    """`GET /users/{id}/learningpaths?limit&start`."""
    user = find_user(ctx, params["user"])
    catalogue = items_by_uuid(ctx)
    rows = [
        present.user_learning_path(catalogue[e.item_uuid], e)
        for e in _user_enrollments(ctx, [user], "learning_path")
        if e.item_uuid in catalogue
    ]
    return Reply(200, EntityList("LearningPaths", tuple(_page(request, rows))))


def bulk_user_courses(ctx: Context, request: LitmosRequest, _: Mapping[str, str]) -> Reply:
    """`POST /users/courses`: the results of at most 25 users in one call; unknown users are left out."""
    try:
        listed = parse_id_list(request.body, request.content_type)
    except MalformedBody as error:
        raise bad_request(str(error)) from error
    if len(listed) > BULK_READ_MAX_USERS:
        raise bad_request(
            f"No more than {BULK_READ_MAX_USERS} users may be requested at once, got {len(listed)}"
        )
    keys = unique(listed)
    # inferred: the docs do not say what happens to unknown ids; they are left out rather than failing all
    users = [u for k in keys if k for u in [ctx.store.get_user(k, by="litmos_id")] if u is not None]
    catalogue = items_by_uuid(ctx)
    by_user: dict[str, list[Entity]] = {u.uuid: [] for u in users}
    owners = {u.uuid: u for u in users}
    for e in _user_enrollments(ctx, users):
        if e.item_uuid in catalogue:
            row = present.bulk_user_course(catalogue[e.item_uuid], e, owners[e.user_uuid], ctx.now)
            by_user[e.user_uuid].append(row)
    rows = tuple(present.bulk_user(u, tuple(by_user[u.uuid])) for u in users)
    return Reply(200, EntityList("Users", rows))

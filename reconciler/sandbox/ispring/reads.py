"""iSpring read methods: GetUsers, GetDepartments, GetGroups, ListContent, ListEnrollments.

Element layouts not shown in the vendor pages use the REST v3 schema field names (vendor-apis.md 1.4) and
are marked `# inferred`. ListLearnersResults lives in `ispring_results.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from lxml import etree

from reconciler.sandbox.ispring.context import Context
from reconciler.sandbox.ispring.soap import (
    PERMISSION_DENIED,
    SoapFault,
    day,
    document,
    element,
    id_list,
    iso,
    result,
    serialize,
    tagged,
    text,
    values,
)
from reconciler.sandbox.store.ids import ispring_uuid
from reconciler.sandbox.store.records import EnrollmentQuery, EnrollmentRow, ItemRow, UserQuery, UserRow

# v1 reports both "inactive" and "employment ended" as 3; v2 tells them apart (5). The vendor has no code
# for "blocked": the ListLearnersResults page calls 3 "blocked", so blocked users are 3 as well.
STATUS_V1 = {"active": "1", "blocked": "3", "inactive": "3", "employment_ended": "3"}
STATUS_V2 = {"active": "1", "blocked": "3", "inactive": "3", "employment_ended": "5"}


USERS_PER_CHUNK = 1000  # users read from the store and written out at a time while streaming GetUsers


def get_users(ctx: Context, version: int) -> Iterator[bytes]:
    """GetUsers: profiles, optionally of one group or department; department admins see their scope only.

    The vendor does not page GetUsers, so the answer is streamed: the store is read a thousand users at a
    time (by key) and each batch is written out before the next is read; memory does not grow with users.
    """
    group, department = text(ctx.call, "groupId"), text(ctx.call, "departmentId")
    query = _user_query(ctx, [department] if department else None, [group] if group else None)
    ctx.notes.append(f"users streamed (v{version})")
    return _profiles(ctx, query, STATUS_V2 if version == 2 else STATUS_V1)


def list_users(ctx: Context) -> Iterator[bytes]:
    """REST `GET /users`: profiles filtered by `departments[]`, `groups[]`, `logins[]` and `emails[]` (each
    any of its values; the filters together all of them). Inferred, as GetUsers': a department selects its
    own members, not its sub-departments'; a department outside a department administrator's scope is 403."""
    query = _user_query(ctx, values(ctx.call, "departmentIds"), values(ctx.call, "groupIds"))
    logins = {v.casefold() for v in values(ctx.call, "logins") or ()}
    emails = {v.casefold() for v in values(ctx.call, "emails") or ()}

    def wanted(user: UserRow) -> bool:
        return (not logins or user.login.casefold() in logins) and (
            not emails or user.email.casefold() in emails
        )

    return _profiles(ctx, query, STATUS_V2, wanted)


def _user_query(ctx: Context, departments: list[str] | None, groups: list[str] | None) -> UserQuery:
    """Users of any of `departments` (each its own members: inferred; callers expand sub-departments) and
    any of `groups`; no department: the caller's scope. A department outside the scope: Permission denied."""
    outside = [d for d in departments or () if not ctx.in_scope(d)]
    if outside:
        raise SoapFault(PERMISSION_DENIED, f"department {outside[0]} is outside the caller's scope")
    return UserQuery(
        department_uuids=frozenset(departments) if departments else ctx.scope,
        group_uuids=frozenset(groups) if groups else None,
    )


def _profiles(
    ctx: Context,
    query: UserQuery,
    statuses: dict[str, str],
    wanted: Callable[[UserRow], bool] = lambda _user: True,
) -> Iterator[bytes]:
    head, tail = document(ctx.call.envelope_ns, ctx.call.ns, "GetUsersResult", "\0").split(b"\0")
    yield head
    offset = 0
    while True:
        users = ctx.store.users(query, offset=offset, limit=USERS_PER_CHUNK)
        profiles = (
            _user_profile(u, statuses[u.status])
            for u in users
            if ctx.in_scope(u.department_uuid) and wanted(u)
        )
        yield "".join(profiles).encode()
        if len(users) < USERS_PER_CHUNK:
            break
        offset += len(users)
    yield tail


def _ids(name: str, ids: Iterable[str]) -> str:
    return f"<{name}>" + "".join(tagged("id", i) for i in ids) + f"</{name}>"


def _user_profile(user: UserRow, status: str) -> str:
    """One `<userProfile>` as in the vendor sample (text, like the paged lists: lxml trees cost more)."""
    parts = ["<userProfile>", tagged("userId", user.uuid), tagged("role", user.role)]
    if user.department_uuid:
        parts.append(tagged("departmentId", user.department_uuid))
    parts.append(tagged("status", status))
    pairs = [("LOGIN", user.login), ("EMAIL", user.email), ("FIRST_NAME", user.first_name)]
    pairs += [("LAST_NAME", user.last_name), ("JOB_TITLE", user.job_title)]
    fields = (
        f"<field>{tagged('name', name)}{tagged('value', value)}</field>" for name, value in pairs if value
    )
    parts.append("<fields>" + "".join(fields) + "</fields>")
    parts.append(_ids("groups", user.group_uuids))
    parts.append(_ids("manageableDepartmentIds", user.manageable_department_uuids))
    role = tagged("roleId", ispring_uuid("role", user.role)) + tagged("roleType", user.role)
    role += _ids("manageableDepartmentIds", user.manageable_department_uuids)
    parts.append(f"<userRoles><userRole>{role}</userRole></userRoles>")
    if user.added_date is not None:
        parts.append(tagged("addedDate", day(user.added_date)))
    parts.append("</userProfile>")
    return "".join(parts)


def get_departments(ctx: Context) -> bytes:
    """GetDepartments: `department{departmentId,name,parentDepartmentId}` (REST v3 names)."""
    root, payload = result(ctx.call.envelope_ns, ctx.call.ns, "GetDepartmentsResult")
    for department in ctx.store.departments():
        if not ctx.in_scope(department.uuid):
            continue
        node = element(payload, "department")  # inferred: the SOAP page shows no element layout
        element(node, "departmentId", department.uuid)
        element(node, "name", department.name)
        if department.parent_uuid:
            element(node, "parentDepartmentId", department.parent_uuid)
        if department.code:
            element(node, "code", department.code)
    return serialize(root)


def get_groups(ctx: Context) -> bytes:
    """GetGroups: `group{groupId,name}`; groups are account-wide, so every caller sees all of them."""
    root, payload = result(ctx.call.envelope_ns, ctx.call.ns, "GetGroupsResult")
    for group in ctx.store.groups():
        node = element(payload, "group")
        element(node, "groupId", group.uuid)
        element(node, "name", group.name)
    return serialize(root)


CONTENT_TYPES = {"course": "Course", "learning_path": "LearningTrack"}


def list_content(ctx: Context) -> bytes:
    """ListContent: courses and learning tracks, paged; a track lists its course ids (inferred layout)."""
    wanted_ids, wanted_types = values(ctx.call, "contentItemIds"), values(ctx.call, "contentTypes")
    items = [
        i
        for i in ctx.store.items()
        if (wanted_ids is None or i.uuid in wanted_ids)
        and (wanted_types is None or CONTENT_TYPES[i.kind] in wanted_types)
    ]
    start, size = ctx.page_start("content"), ctx.page_size()
    root, payload = result(ctx.call.envelope_ns, ctx.call.ns, "ListContentResult")
    listing = element(payload, "contentItems")
    for item in items[start : start + size]:
        _content_item(listing, item)
    if start + size < len(items):
        element(payload, "nextPageToken", ctx.next_token("content", start + size))
    return serialize(root)


def _content_item(parent: etree._Element, item: ItemRow) -> None:
    node = element(parent, "contentItem")  # inferred: REST v3 ContentItemInformation names
    element(node, "contentItemId", item.uuid)
    element(node, "title", item.title)
    if item.created_date is not None:
        element(node, "addedDate", iso(item.created_date))
    element(node, "viewUrl", f"/app/content/{item.uuid}")
    element(node, "type", CONTENT_TYPES[item.kind])
    element(node, "contentItemType", CONTENT_TYPES[item.kind])
    if item.kind == "learning_path":
        id_list(node, "courseIds", item.course_uuids)  # inferred: the vendor has no SOAP call for this


def list_enrollments(ctx: Context) -> bytes:
    """ListEnrollments: REST v3 `Enrollment` fields, paged by token, filtered by course/learner/ids."""
    learners = values(ctx.call, "learnerIds")
    ctx.require_users_in_scope(learners)  # inferred: as ListLearnersResults documents
    query = EnrollmentQuery(
        uuids=_optional_set(values(ctx.call, "enrollmentIds")),
        user_uuids=_optional_set(learners),
        item_uuids=_optional_set(values(ctx.call, "courseIds")),
        department_uuids=ctx.scope,
        after_key=ctx.page_start("enrollments"),
    )
    size = ctx.page_size()
    rows = ctx.store.enrollments(query, limit=size + 1)
    parts = ["<enrollments>", *(_enrollment(row) for row in rows[:size]), "</enrollments>"]
    if len(rows) > size:
        parts.append(tagged("nextPageToken", ctx.next_token("enrollments", rows[size - 1].key)))
    return document(ctx.call.envelope_ns, ctx.call.ns, "ListEnrollmentsResult", "".join(parts))


def _enrollment(row: EnrollmentRow) -> str:
    terms = row.terms
    fields = [
        tagged("enrollmentId", row.uuid),
        tagged("courseId", row.item_uuid),
        tagged("learnerId", row.user_uuid),
        tagged("accessDate", day(terms.access_date)),
    ]
    if terms.due_date is not None:  # only when a due date is set (REST v3 schema)
        fields.append(tagged("dueDate", day(terms.due_date)))
    if terms.expiration_date is not None:  # only when the item locks after its due date
        fields.append(tagged("expirationDate", day(terms.expiration_date)))
    fields.append(tagged("shouldLockAfterDueDate", "true" if terms.lock_after_due else "false"))
    fields.append(tagged("enrollmentTypeGroup", "1" if row.origin == "catalog" else "0"))
    return "<enrollment>" + "".join(fields) + "</enrollment>"


def _optional_set(items: list[str] | None) -> frozenset[str] | None:
    return None if items is None else frozenset(items)

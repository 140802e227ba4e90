"""Store rows presented as Litmos entities, with the field sets and order of the vendor pages.

Fields marked `# inferred` are not on the vendor pages in `vendor-docs/`; they come from vendor-apis.md
(recorded responses and third-party clients) or are the simplest plausible value. JSON answers have the
key sets of the recorded traffic (`vendor-docs/litmos-recorded/`, compared by
tests/sandbox/test_litmos_recorded.py): fields only the XML pages show are `xml_only`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reconciler.sandbox.litmos.wire import Entity, EntityList, Value, percentage
from reconciler.sandbox.store.ids import litmos_id
from reconciler.sandbox.store.records import (
    FINISHED_STATUSES,
    DepartmentRow,
    EnrollmentRow,
    GroupRow,
    ItemRow,
    UserRow,
)

# inferred: the sandbox's roles mapped to Litmos access levels (Learner, Team_Leader, Administrator).
ACCESS_LEVELS = {
    "learner": "Learner",
    "department_administrator": "Team_Leader",
    "administrator": "Administrator",
}
BRAND = "Default"  # inferred: recorded XML carries a Brand; the sandbox has a single brand


def _fields(tag: str, *pairs: tuple[str, Value], xml_only: frozenset[str] = frozenset()) -> Entity:
    return Entity(tag, pairs, xml_only)


def is_active(user: UserRow) -> bool:
    """Litmos knows only Active true/false: blocked, inactive and employment-ended users are inactive."""
    return user.status == "active"


# --- users -------------------------------------------------------------------------------------------


def user_summary(user: UserRow) -> Entity:
    """A row of `GET /users` and `GET /teams/{id}/users`."""
    return _fields(
        "User",
        ("Id", user.litmos_id),
        ("UserName", user.login),
        ("FirstName", user.first_name),
        ("LastName", user.last_name),
        ("Active", is_active(user)),
        ("Email", user.email),
        ("AccessLevel", ACCESS_LEVELS.get(user.role, "Learner")),
        ("Brand", BRAND),
        xml_only=frozenset({"Brand"}),  # recorded JSON rows have no Brand (users-all-paginated.yml)
    )


def user_detail(user: UserRow) -> Entity:
    """`GET /users/{id}`: the recorded field set and order (find-user.yml, module_complete.yml), plus
    `ManagerId` and `ExternalEmployeeId` (newer recorded traffic, vendor-apis.md 2.2)."""
    custom: tuple[tuple[str, Value], ...] = tuple((f"CustomField{n}", "") for n in range(4, 11))
    return _fields(
        "User",
        ("Id", user.litmos_id),
        ("UserName", user.login),
        ("FirstName", user.first_name),
        ("LastName", user.last_name),
        ("FullName", f"{user.first_name} {user.last_name}".strip()),
        ("Email", user.email),
        ("AccessLevel", ACCESS_LEVELS.get(user.role, "Learner")),
        ("DisableMessages", False),
        ("Active", is_active(user)),
        ("Skype", ""),
        ("PhoneWork", ""),
        ("PhoneMobile", ""),
        ("LastLogin", None),  # sandbox users have never logged in
        ("LoginKey", ""),  # a sign-in link in the real API; none here
        ("IsCustomUsername", False),
        ("Password", ""),  # always empty, as recorded
        ("SkipFirstLogin", True),
        ("TimeZone", "UTC"),
        ("SalesforceId", None),
        ("OriginalId", user.original_id),
        *(("Street1", ""), ("Street2", ""), ("City", ""), ("State", ""), ("PostalCode", ""), ("Country", "")),
        ("CompanyName", ""),
        ("JobTitle", user.job_title),
        *(("CustomField1", ""), ("CustomField2", ""), ("CustomField3", "")),
        ("Culture", "en-US"),
        *custom,
        ("SalesforceContactId", None),
        ("SalesforceAccountId", None),
        ("CreatedDate", user.added_date),
        ("Points", 0),
        ("Brand", BRAND),
        ("ManagerId", None),
        ("ExternalEmployeeId", ""),
    )


# --- teams -------------------------------------------------------------------------------------------


def department_team(
    department: DepartmentRow, parent_litmos_id: str, detail: bool = False, *, parents_in_json: bool = False
) -> Entity:
    """A department as a team; `ParentTeamId` is empty at the top of the tree."""
    return _team(
        department.litmos_id, department.name, department.code, parent_litmos_id, detail, parents_in_json
    )


def group_team(group: GroupRow, detail: bool = False, *, parents_in_json: bool = False) -> Entity:
    """A group as a top-level team (no parent)."""
    return _team(group.litmos_id, group.name, "", "", detail, parents_in_json)


def _team(team_id: str, name: str, code: str, parent: str, detail: bool, parents_in_json: bool) -> Entity:
    """A team as the vendor page lists it (`<ParentTeamId/>` empty at the top, inferred).

    Recorded JSON has no `ParentTeamId` in `/teams` or `/teams/{id}/teams` rows, and `/teams/{id}` is only
    `Id`, `Name`, `Description` (get-sub-teams.yml); `parents_in_json` (the sandbox switch
    `litmos_team_parents`) keeps the documented XML fields in JSON too.
    """
    pairs: list[tuple[str, Value]] = [
        ("Id", team_id),
        ("Name", name),
        ("TeamCodeForBulkImport", code),
        ("ParentTeamId", parent),
    ]
    if detail:
        pairs.append(("Description", ""))
    xml_only = {"TeamCodeForBulkImport", "ParentTeamId"} if detail else {"ParentTeamId"}
    return Entity("Team", tuple(pairs), frozenset() if parents_in_json else frozenset(xml_only))


def course_module(item: ItemRow) -> Entity:
    """A row of `GET /courses/{id}/modules` (module_complete.yml). # inferred: one module per course."""
    return _fields(
        "Module",
        ("Id", litmos_id("module", item.uuid)),
        ("Code", ""),
        ("Name", item.title),
        ("Description", ""),
    )


# --- courses and learning paths ----------------------------------------------------------------------


def course(item: ItemRow) -> Entity:
    """A row of `GET /courses` and `GET /courses/{id}`: the recorded JSON fields (module_complete.yml);
    XML adds `CourseTeamLibrary`, `CreatedBy`, `SeqId` (C-L3, vendor-apis.md)."""
    return Entity(
        "Course",
        (
            ("Id", item.litmos_id),
            ("Code", item.code),
            ("Name", item.title),
            ("Active", item.active),
            ("ForSale", False),
            ("OriginalId", item.original_id),
            ("Description", ""),
            ("EcommerceShortDescription", ""),
            ("EcommerceLongDescription", ""),
            ("CourseCodeForBulkImport", item.code),
            ("Price", Decimal("0.00")),
            ("AccessTillDate", None),
            ("AccessTillDays", None),
            ("CourseTeamLibrary", False),
            ("CreatedBy", ""),
            ("SeqId", ""),
        ),
        frozenset({"CourseTeamLibrary", "CreatedBy", "SeqId"}),
    )


def learning_path(item: ItemRow) -> Entity:
    """A row of `GET /learningpaths`. # inferred: schema beyond Id, Name, Active, OriginalId unknown."""
    return _fields(
        "LearningPath",
        ("Id", item.litmos_id),
        ("Name", item.title),
        ("Active", item.active),
        ("OriginalId", item.original_id),
        ("Description", ""),
    )


# --- enrollments -------------------------------------------------------------------------------------


def _complete(enrollment: EnrollmentRow) -> bool:
    return enrollment.progress.status in FINISHED_STATUSES


def _assigned(enrollment: EnrollmentRow) -> dt.datetime:
    return enrollment.assigned_date or enrollment.terms.access_date


def _started(enrollment: EnrollmentRow) -> dt.datetime | None:
    # inferred: the store keeps no start date; a started enrollment started when it was assigned
    if enrollment.progress.status == "not_started" and not enrollment.progress.progress:
        return None
    return _assigned(enrollment)


def due_date(enrollment: EnrollmentRow) -> dt.datetime | None:
    """# inferred: Litmos due dates are course settings; the sandbox shows the enrollment's own due date."""
    return enrollment.terms.due_date


def access_till(enrollment: EnrollmentRow) -> dt.datetime | None:
    """# inferred: access ends at the due date only when the item locks after it."""
    return enrollment.terms.expiration_date


def _overdue(enrollment: EnrollmentRow, now: dt.datetime) -> bool:
    due = due_date(enrollment)
    return due is not None and due < now and not _complete(enrollment)


def _progress(enrollment: EnrollmentRow) -> tuple[tuple[str, Value], ...]:
    """The progress fields course and learning-path results share, in the vendor's order."""
    return (
        ("Complete", _complete(enrollment)),
        ("PercentageComplete", percentage(enrollment.progress.progress)),
        ("AssignedDate", _assigned(enrollment)),
        ("StartDate", _started(enrollment)),
        ("DateCompleted", enrollment.progress.completion_date),
    )


def _course_result(
    item: ItemRow, enrollment: EnrollmentRow, now: dt.datetime
) -> tuple[tuple[str, Value], ...]:
    """The fields both course-result shapes of the vendor page start with, in the vendor's order."""
    return (
        ("Id", item.litmos_id),
        ("Code", item.code),
        ("Name", item.title),
        ("Active", item.active),
        *_progress(enrollment),
        ("UpToDate", True),  # inferred: sandbox courses never change after completion
        ("Overdue", _overdue(enrollment, now)),
    )


def user_course(item: ItemRow, enrollment: EnrollmentRow, now: dt.datetime) -> Entity:
    """A row of `GET /users/{id}/courses` (a learning path shows with `IsLearningPath` true)."""
    return _fields(
        "Course",
        *_course_result(item, enrollment, now),
        ("CompliantTill", item.compliant_till(enrollment.progress.completion_date)),
        ("IsLearningPath", item.kind == "learning_path"),
        ("CourseCreatedDate", item.created_date),
        ("CourseCreator", None),
        ("OriginalId", item.original_id),
        ("ResultId", enrollment.result_id),
        ("AccessTillDate", access_till(enrollment)),
    )


def bulk_user_course(item: ItemRow, enrollment: EnrollmentRow, user: UserRow, now: dt.datetime) -> Entity:
    """A course inside `POST /users/courses`: the per-user row plus `UserId`, as in the vendor sample."""
    row = user_course(item, enrollment, now)
    return Entity(row.tag, (*row.fields, ("UserId", user.litmos_id)))


def bulk_user(user: UserRow, courses: tuple[Entity, ...]) -> Entity:
    """One user of `POST /users/courses`."""
    return _fields("User", ("Id", user.litmos_id), ("Courses", EntityList("Courses", courses)))


def _module(item: ItemRow, enrollment: EnrollmentRow) -> Entity:
    # inferred: sandbox courses have a single module that carries the course's own progress
    score = enrollment.progress.score
    return _fields(
        "Module",
        ("Id", litmos_id("module", item.uuid)),
        ("Code", ""),
        ("Name", item.title),
        ("Passmark", None),
        ("Score", None if score is None else round(score)),
        ("Completed", _complete(enrollment)),
        ("LastUpdated", None),
        ("StartDate", _started(enrollment)),
        ("DateCompleted", enrollment.progress.completion_date),
        ("Attempt", 0 if _started(enrollment) is None else 1),
        ("OriginalId", str(item.original_id)),
        ("ResultId", str(enrollment.result_id)),
    )


def user_course_detail(item: ItemRow, enrollment: EnrollmentRow, now: dt.datetime) -> Entity:
    """`GET /users/{id}/courses/{cid}`: course result with modules and `CourseDueDate`."""
    return _fields(
        "Course",
        *_course_result(item, enrollment, now),
        ("Modules", EntityList("Modules", (_module(item, enrollment),))),
        ("CourseDueDate", due_date(enrollment)),
        ("OriginalId", item.original_id),
        ("ResultId", enrollment.result_id),
    )


def user_learning_path(item: ItemRow, enrollment: EnrollmentRow) -> Entity:
    """A row of `GET /users/{id}/learningpaths`."""
    return _fields(
        "LearningPath",
        ("Id", item.litmos_id),
        ("Name", item.title),
        ("Active", item.active),
        ("OriginalId", item.original_id),
        *_progress(enrollment),
        ("ResultId", enrollment.result_id),
        ("AccessTillDate", access_till(enrollment)),
    )


def roster_user(user: UserRow, enrollment: EnrollmentRow, item: ItemRow | None = None) -> Entity:
    """A row of `GET /courses/{id}/users` and `/learningpaths/{id}/users`. # inferred: fields from C-L3."""
    return _fields(
        "User",
        ("Id", user.litmos_id),
        ("UserName", user.login),
        ("Completed", _complete(enrollment)),
        ("PercentageComplete", percentage(enrollment.progress.progress)),
        ("CompliantTill", item.compliant_till(enrollment.progress.completion_date) if item else None),
        ("DueDate", due_date(enrollment)),
        ("AccessTillDate", access_till(enrollment)),
    )

"""Litmos assignments and the bulk read, with the vendor page's sample bodies sent verbatim."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import ispring_uuid, litmos_id
from reconciler.sandbox.store.records import Progress
from tests.support.litmos_org import acme, client, params, xml

KEVIN = litmos_id("user", "kevin@acme.example")
HELEN = litmos_id("user", "helen@acme.example")
SECURITY = litmos_id("course", "Security Awareness 2026")
ANTI_BRIBERY = litmos_id("course", "Anti-Bribery")
FORKLIFT = litmos_id("course", "Forklift Safety")
ONBOARDING = litmos_id("learning_path", "Onboarding")
XML = {"Content-Type": "application/xml"}
JSON = {"Content-Type": "application/json"}

# Verbatim from vendor-docs/litmos-rest-user-assignments.txt.
SAMPLE_ASSIGN_XML = """<Courses>
    <Course>
        <Id>string [max length 50]</Id>
    </Course>
    <Course>
        <Id>string [max length 50]</Id>
    </Course>
</Courses>"""
SAMPLE_ASSIGN_JSON = """[
  {
    "Id": "bYWg1D67tgo1"
  }
]"""
SAMPLE_LEARNING_PATHS_XML = """<LearningPaths>
    <LearningPath>
        <Id>[LearningPathId]</Id>
    </LearningPath>
    <LearningPath>
        ...
    </LearningPath>
</LearningPaths>"""
SAMPLE_BULK_XML = """<Users>
    <User>
        <Id></Id>
    </User>
    <User>
        <Id></Id>
    </User>
    <User>
        <Id></Id>
    </User>
    <User>
        <Id></Id>
    </User>
</Users>"""
SAMPLE_BULK_JSON = """[
  {
    "Id": ""
  },
  {
    "Id": ""
  },
  {
    "Id": ""
  },
  {
    "Id": ""
  }
]"""
BULK_COURSE_FIELDS = [
    "Id",
    "Code",
    "Name",
    "Active",
    "Complete",
    "PercentageComplete",
    "AssignedDate",
    "StartDate",
    "DateCompleted",
    "UpToDate",
    "Overdue",
    "CompliantTill",
    "IsLearningPath",
    "CourseCreatedDate",
    "CourseCreator",
    "OriginalId",
    "ResultId",
    "AccessTillDate",
    "UserId",
]


@pytest.fixture
def store() -> Store:
    return acme().store()


@pytest.fixture
def api(store: Store) -> Iterator[httpx.Client]:
    with client(store) as http:
        yield http


def course_names(api: httpx.Client, user: str) -> list[str]:
    courses = api.get(f"/users/{user}/courses", params=params(format="json")).json()
    return sorted(c["Name"] for c in courses if not c["IsLearningPath"])


def assign_json(ids: list[str]) -> str:
    return json.dumps([{"Id": i} for i in ids])


# --- assign courses ----------------------------------------------------------------------------------


def test_vendor_xml_assign_sample_is_accepted_and_its_unknown_ids_ignored(api: httpx.Client) -> None:
    response = api.post(f"/users/{KEVIN}/courses", params=params(), content=SAMPLE_ASSIGN_XML, headers=XML)
    assert response.status_code == 201 and response.content == b""
    assert course_names(api, KEVIN) == ["Anti-Bribery"]


def test_vendor_json_assign_sample_is_accepted(api: httpx.Client) -> None:
    response = api.post(
        f"/users/{KEVIN}/courses", params=params(format="json"), content=SAMPLE_ASSIGN_JSON, headers=JSON
    )
    assert response.status_code == 201


def test_assign_adds_new_courses_and_ignores_unknown_duplicate_and_existing_ids(
    api: httpx.Client, store: Store
) -> None:
    body = assign_json([SECURITY, "unknown00001", SECURITY, ANTI_BRIBERY, ONBOARDING])
    response = api.post(f"/users/{KEVIN}/courses", params=params(), content=body, headers=JSON)
    assert response.status_code == 201
    assert course_names(api, KEVIN) == ["Anti-Bribery", "Security Awareness 2026"]
    notes = store.notifications("litmos")
    assert [(n.user_uuid, n.item_uuid, n.kind) for n in notes] == [
        (
            ispring_uuid("user", "kevin@acme.example"),
            ispring_uuid("course", "Security Awareness 2026"),
            "course_assigned",
        )
    ]


def test_assign_with_an_xml_body(api: httpx.Client) -> None:
    body = f"<Courses><Course><Id>{SECURITY}</Id></Course><Course><Id>{FORKLIFT}</Id></Course></Courses>"
    assert api.post(f"/users/{KEVIN}/courses", params=params(), content=body, headers=XML).status_code == 201
    assert course_names(api, KEVIN) == ["Anti-Bribery", "Forklift Safety", "Security Awareness 2026"]


def test_sendmessage_false_records_no_notification(api: httpx.Client, store: Store) -> None:
    body = assign_json([SECURITY, FORKLIFT])
    query = params(sendmessage="false")
    assert api.post(f"/users/{KEVIN}/courses", params=query, content=body, headers=JSON).status_code == 201
    assert course_names(api, KEVIN) == ["Anti-Bribery", "Forklift Safety", "Security Awareness 2026"]
    assert store.notifications() == []


def test_a_notification_per_newly_assigned_course(api: httpx.Client, store: Store) -> None:
    api.post(
        f"/users/{KEVIN}/courses", params=params(), content=assign_json([SECURITY, FORKLIFT]), headers=JSON
    )
    api.post(f"/users/{KEVIN}/courses", params=params(), content=assign_json([SECURITY]), headers=JSON)
    assert len(store.notifications("litmos")) == 2


def test_assigned_course_has_the_assignment_date(api: httpx.Client) -> None:
    api.post(f"/users/{KEVIN}/courses", params=params(), content=assign_json([SECURITY]), headers=JSON)
    rows = api.get(f"/users/{KEVIN}/courses", params=params(format="json")).json()
    security = next(c for c in rows if c["Id"] == SECURITY)
    assert security["AssignedDate"] == "/Date(1772366400000-0000)/"  # the test clock: 2026-03-01T12:00Z
    assert security["Complete"] is False and security["StartDate"] is None


def test_assign_to_an_unknown_user_is_404(api: httpx.Client) -> None:
    response = api.post(
        "/users/nobody/courses", params=params(), content=assign_json([SECURITY]), headers=JSON
    )
    assert response.status_code == 404


@pytest.mark.parametrize("body", ["<Courses><Course>", "[{]", '[{"Name": "x"}]', ""])
def test_malformed_assign_body_is_400_with_a_message(api: httpx.Client, body: str) -> None:
    response = api.post(f"/users/{KEVIN}/courses", params=params(format="json"), content=body, headers=JSON)
    assert response.status_code == 400 and response.json()["Detail"]


# --- remove and reset --------------------------------------------------------------------------------


def test_remove_course_is_200_then_404(api: httpx.Client) -> None:
    first = api.delete(f"/users/{KEVIN}/courses/{ANTI_BRIBERY}", params=params())
    assert first.status_code == 200 and first.content == b""
    assert course_names(api, KEVIN) == []
    assert api.delete(f"/users/{KEVIN}/courses/{ANTI_BRIBERY}", params=params()).status_code == 404


def test_reset_reverts_a_completed_course_to_zero(api: httpx.Client) -> None:
    assert api.put(f"/users/{HELEN}/courses/{ANTI_BRIBERY}/reset", params=params()).status_code == 200
    rows = api.get(f"/users/{HELEN}/courses", params=params(format="json")).json()
    anti = next(c for c in rows if c["Id"] == ANTI_BRIBERY)
    assert anti["Complete"] is False and anti["PercentageComplete"] == 0 and anti["DateCompleted"] is None


def test_reset_of_an_unassigned_course_is_404(api: httpx.Client) -> None:
    assert api.put(f"/users/{KEVIN}/courses/{FORKLIFT}/reset", params=params()).status_code == 404


# --- learning paths ----------------------------------------------------------------------------------


def test_vendor_learning_path_sample_is_accepted(api: httpx.Client) -> None:
    response = api.post(
        f"/users/{KEVIN}/learningpaths", params=params(), content=SAMPLE_LEARNING_PATHS_XML, headers=XML
    )
    assert response.status_code == 201
    assert api.get(f"/users/{KEVIN}/learningpaths", params=params(format="json")).json() == []


def test_assign_learning_path_then_remove_it_with_201(api: httpx.Client, store: Store) -> None:
    body = f"<LearningPaths><LearningPath><Id>{ONBOARDING}</Id></LearningPath></LearningPaths>"
    assert (
        api.post(f"/users/{KEVIN}/learningpaths", params=params(), content=body, headers=XML).status_code
        == 201
    )
    paths = api.get(f"/users/{KEVIN}/learningpaths", params=params(format="json")).json()
    assert [p["Id"] for p in paths] == [ONBOARDING]
    assert [n.kind for n in store.notifications()] == ["learning_path_assigned"]
    removed = api.delete(f"/users/{KEVIN}/learningpaths/{ONBOARDING}", params=params())
    assert removed.status_code == 201  # sic, as documented
    assert api.get(f"/users/{KEVIN}/learningpaths", params=params(format="json")).json() == []
    assert api.delete(f"/users/{KEVIN}/learningpaths/{ONBOARDING}", params=params()).status_code == 404


def test_courses_cannot_be_assigned_as_learning_paths(api: httpx.Client) -> None:
    body = assign_json([SECURITY])
    assert (
        api.post(f"/users/{KEVIN}/learningpaths", params=params(), content=body, headers=JSON).status_code
        == 201
    )
    assert api.get(f"/users/{KEVIN}/learningpaths", params=params(format="json")).json() == []


# --- bulk read ---------------------------------------------------------------------------------------


def test_vendor_bulk_samples_with_empty_ids_answer_an_empty_list(api: httpx.Client) -> None:
    as_xml = api.post("/users/courses", params=params(), content=SAMPLE_BULK_XML, headers=XML)
    assert as_xml.status_code == 200
    assert as_xml.content == b'<Users xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/>'
    as_json = api.post("/users/courses", params=params(format="json"), content=SAMPLE_BULK_JSON, headers=JSON)
    assert as_json.status_code == 200 and as_json.json() == []


def test_bulk_read_has_the_vendor_shape_with_user_id_per_course(api: httpx.Client) -> None:
    body = f"<Users><User><Id>{HELEN}</Id></User><User><Id>{KEVIN}</Id></User></Users>"
    root = xml(api.post("/users/courses", params=params(), content=body, headers=XML))
    assert root.tag == "Users"
    users = root.findall("User")
    assert [u.findtext("Id") for u in users] == [HELEN, KEVIN]
    assert [c.tag for c in users[0]] == ["Id", "Courses"]
    for user in users:
        for course in user.findall("Courses/Course"):
            assert [c.tag for c in course] == BULK_COURSE_FIELDS
            assert course.findtext("UserId") == user.findtext("Id")
    helen = {c.findtext("Name"): c.findtext("IsLearningPath") for c in users[0].findall("Courses/Course")}
    assert helen == {"Anti-Bribery": "false", "Onboarding": "true"}


def test_bulk_read_in_json_matches_the_vendor_sample_keys(api: httpx.Client) -> None:
    body = assign_json([HELEN, "unknown-user"])
    rows = api.post("/users/courses", params=params(format="json"), content=body, headers=JSON).json()
    assert [r["Id"] for r in rows] == [HELEN]
    assert list(rows[0]) == ["Id", "Courses"]
    assert list(rows[0]["Courses"][0]) == BULK_COURSE_FIELDS
    assert rows[0]["Courses"][0]["AssignedDate"].startswith("/Date(")


def test_bulk_read_of_25_users_is_allowed_and_26_is_400(api: httpx.Client) -> None:
    ok = api.post("/users/courses", params=params(), content=assign_json([HELEN] * 25), headers=JSON)
    assert ok.status_code == 200
    refused = api.post(
        "/users/courses", params=params(format="json"), content=assign_json([HELEN] * 26), headers=JSON
    )
    assert refused.status_code == 400 and "25" in refused.json()["Detail"]
    as_xml = api.post("/users/courses", params=params(), content=assign_json([HELEN] * 26), headers=JSON)
    assert as_xml.status_code == 400 and "25" in (xml(as_xml).findtext("Detail") or "")


def test_progress_written_to_the_store_shows_in_the_bulk_read(api: httpx.Client, store: Store) -> None:
    enrollment = store.find_enrollment(
        ispring_uuid("user", "kevin@acme.example"), ispring_uuid("course", "Anti-Bribery")
    )
    assert enrollment is not None
    store.update_progress(enrollment.uuid, Progress("in_progress", 75.5))
    rows = api.post(
        "/users/courses", params=params(format="json"), content=assign_json([KEVIN]), headers=JSON
    ).json()
    assert rows[0]["Courses"][0]["PercentageComplete"] == 75.5

"""Every sample request on the iSpring vendor pages, sent verbatim (token swapped), gets the documented
response shape or a documented fault."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import litmos_id
from reconciler.sandbox.store.records import DepartmentRow, EnrollmentRow, ItemRow, Progress, Terms, UserRow
from tests.support.ispring_sandbox import (
    ENV_DOCS,
    NS,
    SAMPLE_TOKEN,
    local_names,
    make_sandbox,
    vendor_sample_request,
    vendor_sample_response,
)

DOCUMENTED_FAULTS = {
    "Authorization failed",
    "Permission denied",
    "Wrong parameters",
    "Unknown Enrollment",
    "Unknown content item",
}
UTC = dt.UTC


def sample_store() -> Store:
    """A store holding the ids the vendor samples use."""
    store = Store.open(":memory:")
    store.insert_departments(
        [DepartmentRow("81826672-9e49-11e9-b4fc-0a580af40235", litmos_id("d", "x"), 1, "Sales", "Sales")]
    )
    store.insert_users(
        [
            UserRow(
                uuid,
                litmos_id("u", uuid),
                n,
                f"u{n}@x.example",
                f"u{n}@x.example",
                "U",
                str(n),
                "active",
                "81826672-9e49-11e9-b4fc-0a580af40235",
            )
            for n, uuid in enumerate(
                ["25e44840-87a0-11e9-897c-0a580af40783", "8363b098-e031-11e9-89cf-0a580af40b0f"]
            )
        ]
    )
    store.insert_items(
        [
            ItemRow(uuid, litmos_id("c", uuid), n, "course", f"Course {n}")
            for n, uuid in enumerate(
                ["596e5f20-8c46-11e9-a814-0a580af4024a", "146ac240-d54f-11e9-9b88-0a580af40973"]
            )
        ]
    )
    terms = Terms(dt.datetime(2019, 7, 24, tzinfo=UTC), "due_date", dt.datetime(2019, 12, 27, 21, tzinfo=UTC))
    done = Progress("complete", 100.0, dt.datetime(2019, 7, 24, 11, 30, 7, tzinfo=UTC), None, 41006, 3)
    store.insert_enrollments(
        [
            EnrollmentRow(
                "3d4776b0-ae06-11e9-9707-0a580af4013b",
                1,
                "596e5f20-8c46-11e9-a814-0a580af4024a",
                "25e44840-87a0-11e9-897c-0a580af40783",
                terms,
                progress=done,
            )
        ]
    )
    return store


def verbatim(page: str, token: str) -> str:
    return vendor_sample_request(page).replace(SAMPLE_TOKEN, token)


def test_get_users_sample_answers_in_the_sample_namespaces():
    sandbox = make_sandbox()
    reply = sandbox.post(verbatim("GetUsers", sandbox.token()), "getUsers")
    assert reply.response.status_code == 200
    root = reply.root
    assert etree.QName(root).namespace == ENV_DOCS  # answered in the envelope namespace the request used
    result = root[0][0]
    assert etree.QName(result) == etree.QName(NS, "GetUsersResult")
    # the sample's `groupId`/`departmentId` sit outside GetUsersRequest: accepted, and applied ("string" is
    # no group), so nobody matches
    assert reply.all("userProfile") == []


def test_get_users_profiles_have_the_sample_fields():
    sandbox = make_sandbox()
    sample = verbatim("GetUsers", sandbox.token())
    without_filters = sample.replace("<groupId>string</groupId>", "").replace(
        "<departmentId>string</departmentId>", ""
    )
    reply = sandbox.post(without_filters, "GetUsers")
    expected = vendor_sample_response("GetUsers").find(f".//{{{NS}}}userProfile")
    assert expected is not None
    profiles = reply.all("userProfile")
    assert len(profiles) == 6
    for profile in profiles:
        names = [etree.QName(c).localname for c in profile]
        sample_names = [etree.QName(c).localname for c in expected]
        assert set(names) <= set(sample_names)
        assert names == [n for n in sample_names if n in names]  # same order as the sample
    fields = {f.findtext(f"{{{NS}}}name"): f.findtext(f"{{{NS}}}value") for f in reply.all("field")}
    assert "LOGIN" in fields and "EMAIL" in fields and "FIRST_NAME" in fields


def test_list_learners_results_sample_is_refused_for_its_invalid_date():
    sandbox = make_sandbox(store=sample_store())
    reply = sandbox.post(verbatim("ListLearnersResults", sandbox.token()), "ListLearnersResults")
    assert reply.fault == "Wrong parameters"  # the sample's endDate is 2019-31-12
    assert etree.QName(reply.root).namespace == ENV_DOCS
    assert reply.response.status_code != 200


def test_list_learners_results_sample_with_valid_dates_returns_the_sample_field_set():
    sandbox = make_sandbox(store=sample_store())
    request = verbatim("ListLearnersResults", sandbox.token()).replace("2019-31-12", "2019-12-31")
    request = request.replace("<pageToken>MGJiYjhlZGMtMjcwMS0xMWVhLTljYzgtMGE1ODBhZjQwYzRm</pageToken>", "")
    request = request.replace(
        "<startDate>2019-01-12T00:00:00+00:00</startDate>", "<startDate>2019-01-01T00:00:00+00:00</startDate>"
    )
    reply = sandbox.post(request, "ListLearnersResults")
    assert reply.response.status_code == 200, reply.response.text
    rows = reply.all("learnerResult")
    assert len(rows) == 1
    names = local_names(rows[0])
    response = vendor_sample_response("ListLearnersResults")
    sample_rows = [local_names(r) for r in response.iter(f"{{{NS}}}learnerResult")]
    assert set(names) <= {name for row in sample_rows for name in row}
    for sample in sample_rows:  # shared fields appear in the order every sample row has them
        shared = [n for n in sample if n in names]
        assert [n for n in names if n in shared] == shared
    assert names == [
        "userId",
        "courseId",
        "courseTitle",
        "enrollmentId",
        "accessDate",
        "dueDate",
        "completionDate",
        "timeSpent",
        "completionStatus",
        "progress",
        "isOverdue",
        "viewsCount",
    ]
    assert reply.one("completionDate") == "2019-07-24T11:30:07+00:00"
    assert reply.all("nextPageToken") == []  # absent on the last page


def test_a_pagetoken_not_issued_by_the_server_is_wrong_parameters():
    sandbox = make_sandbox(store=sample_store())
    request = verbatim("ListLearnersResults", sandbox.token()).replace("2019-31-12", "2019-12-31")
    assert sandbox.post(request, "ListLearnersResults").fault == "Wrong parameters"


def test_enroll_sample_for_unknown_course_is_unknown_content_item():
    sandbox = make_sandbox()
    reply = sandbox.post(verbatim("enrollLearnersInCourses", sandbox.token()), "enrollLearnersInCourses")
    assert reply.fault == "Unknown content item"
    assert reply.fault in DOCUMENTED_FAULTS


def test_enroll_sample_with_mismatched_tag_is_read_leniently_and_succeeds():
    store = sample_store()
    sandbox = make_sandbox(store=store)
    reply = sandbox.post(verbatim("enrollLearnersInCourses", sandbox.token()), "enrollLearnersInCourses")
    assert reply.response.status_code == 200, reply.response.text
    result = reply.root[0][0]
    assert etree.QName(result) == etree.QName(NS, "SuccessResult")
    assert result.prefix == "ns1"
    assert reply.one("success") == "true"
    row = store.find_enrollment(
        "8363b098-e031-11e9-89cf-0a580af40b0f", "146ac240-d54f-11e9-9b88-0a580af40973"
    )
    assert row is not None
    assert row.terms.access_date == dt.datetime(2019, 9, 24, 10, 30, tzinfo=UTC)
    assert row.terms.due_type == "unlimited" and row.terms.due_date is None
    assert "recover mode" in store.request_log()[-1].detail


def test_every_sample_gets_a_shape_or_a_documented_fault():
    for page in ("GetUsers", "ListLearnersResults", "enrollLearnersInCourses"):
        sandbox = make_sandbox()
        reply = sandbox.post(verbatim(page, sandbox.token()), page)
        assert reply.response.status_code in (200, 500)
        assert reply.fault is None or reply.fault in DOCUMENTED_FAULTS
        assert reply.response.headers["content-type"].startswith("text/xml")

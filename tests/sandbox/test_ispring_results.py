"""ListLearnersResults and ListEnrollments: token paging returns every row once; every filter works."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox.org.load import department_uuid, item_uuid, seed_store, user_uuid
from reconciler.sandbox.org.spec import CourseSpec, DepartmentSpec, EnrollmentSpec, OrgSpec, UserSpec
from reconciler.sandbox.store.database import Store
from tests.support.ispring_sandbox import Sandbox, ids, make_sandbox

UTC = dt.UTC
STATUSES = ("not_started", "in_progress", "complete", "failed", "passed")


def big_sandbox(users: int = 250, courses: int = 10) -> Sandbox:
    """`users × courses` enrollments; access dates spread over days, every fifth one complete."""
    org = OrgSpec(
        departments=(DepartmentSpec("Org", (DepartmentSpec("A"), DepartmentSpec("B"))),),
        users=tuple(
            UserSpec(f"user{n}@x.example", department="Org/A" if n % 2 else "Org/B") for n in range(users)
        ),
        courses=tuple(CourseSpec(f"Course {c}") for c in range(courses)),
        enrollments=tuple(
            EnrollmentSpec(
                f"user{n}@x.example",
                f"Course {c}",
                status=STATUSES[(n + c) % 5],
                access=dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=(n * courses + c) % 100),
            )
            for n in range(users)
            for c in range(courses)
        ),
    )
    store = Store.open(":memory:")
    seed_store(store, org)
    return make_sandbox(store=store)


@pytest.fixture(scope="module")
def big() -> Sandbox:
    return big_sandbox()


def all_pages(
    sandbox: Sandbox, method: str, row: str, key: str, params: str = "", size: int = 1000
) -> list[str]:
    token, seen, after = sandbox.token(), [], ""
    while True:
        reply = sandbox.call(method, f"{params}<pageSize>{size}</pageSize>{after}", token)
        assert reply.fault is None, reply.fault
        page = [r.findtext(f"{{{r.nsmap[None]}}}{key}") for r in reply.all(row)]
        assert len(page) <= size
        seen.extend(page)
        next_token = reply.one("nextPageToken")
        if next_token is None:
            return seen
        assert page, "a page with a next token must not be empty"
        after = f"<pageToken>{next_token}</pageToken>"


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_learner_results_paging_returns_every_row_exactly_once(big: Sandbox, size: int):
    rows = all_pages(big, "ListLearnersResults", "learnerResult", "enrollmentId", size=size)
    assert len(rows) == 2500
    assert len(set(rows)) == 2500


@pytest.mark.parametrize("size", [7, 1000])
def test_enrollment_paging_returns_every_row_exactly_once(big: Sandbox, size: int):
    rows = all_pages(big, "ListEnrollments", "enrollment", "enrollmentId", size=size)
    assert len(rows) == len(set(rows)) == 2500


def test_page_size_defaults_to_1000(big: Sandbox):
    reply = big.call("ListLearnersResults")
    assert len(reply.all("learnerResult")) == 1000
    assert reply.one("nextPageToken")


def test_page_tokens_are_opaque_base64():
    reply = big_sandbox(users=3).call("ListLearnersResults", "<pageSize>2</pageSize>")
    token = reply.one("nextPageToken")
    assert token and token.isascii() and "enrollments" not in token


def test_last_page_has_no_next_page_token():
    reply = big_sandbox(users=3).call("ListLearnersResults", "<pageSize>30</pageSize>")
    assert len(reply.all("learnerResult")) == 30
    assert reply.all("nextPageToken") == []


def test_bad_page_size_is_wrong_parameters():
    sandbox = big_sandbox(users=1)
    assert sandbox.call("ListLearnersResults", "<pageSize>0</pageSize>").fault == "Wrong parameters"
    assert sandbox.call("ListLearnersResults", "<pageSize>ten</pageSize>").fault == "Wrong parameters"


# --- filters on the small organisation ------------------------------------------------------------------


def results(params: str, sandbox: Sandbox | None = None) -> set[tuple[str, str]]:
    reply = (sandbox or make_sandbox()).call("ListLearnersResults", params)
    assert reply.fault is None, reply.fault
    ns = "{https://ispringlearn.com/go/services/api/soap}"
    return {
        (r.findtext(f"{ns}userId") or "", r.findtext(f"{ns}courseTitle") or "")
        for r in reply.all("learnerResult")
    }


def pair(login: str, title: str) -> tuple[str, str]:
    return user_uuid(login), title


def test_only_active_users_by_default():
    everything = results("")
    assert pair("olga@acme.example", "Anti-Bribery") not in everything  # blocked
    assert pair("helen@acme.example", "Anti-Bribery") in everything


def test_user_status_3_adds_blocked_users():
    found = results("<userStatuses><value>3</value></userStatuses>")
    assert found == {pair("olga@acme.example", "Anti-Bribery")}


def test_unknown_user_status_is_wrong_parameters():
    assert make_sandbox().call(
        "ListLearnersResults", "<userStatuses><value>2</value></userStatuses>"
    ).fault == ("Wrong parameters")


def test_access_date_range_can_be_limited_by_one_point():
    found = results("<accessDate><startDate>2026-02-01T00:00:00+00:00</startDate></accessDate>")
    assert found == {pair("paul@acme.example", "Security Awareness"), pair("paul@acme.example", "Onboarding")}
    before = results("<accessDate><endDate>2026-01-06</endDate></accessDate>")
    assert before == {pair("helen@acme.example", "Anti-Bribery")}


def test_due_and_completion_date_ranges():
    due = results("<dueDate><startDate>2026-02-10</startDate><endDate>2026-02-20</endDate></dueDate>")
    assert due == {pair("paul@acme.example", "Security Awareness")}
    done = results(
        "<completionDate><startDate>2026-01-19</startDate><endDate>2026-01-21</endDate></completionDate>"
    )
    assert done == {pair("helen@acme.example", "Anti-Bribery")}


def test_invalid_date_in_a_range_is_wrong_parameters():
    reply = make_sandbox().call(
        "ListLearnersResults", "<dueDate><endDate>2019-31-12T00:00:00+00:00</endDate></dueDate>"
    )
    assert reply.fault == "Wrong parameters"


def test_completion_status_filter():
    assert results("<completionStatuses><value>in_progress</value></completionStatuses>") == {
        pair("helen@acme.example", "Security Awareness")
    }


def test_department_filter_includes_sub_departments():
    found = results(f"<departmentIds>{ids(department_uuid('Acme/Sales'))}</departmentIds>")
    assert found == {
        pair("helen@acme.example", "Anti-Bribery"),
        pair("helen@acme.example", "Security Awareness"),
    }


def test_user_and_course_filters():
    found = results(
        f"<userIds>{ids(user_uuid('helen@acme.example'), user_uuid('paul@acme.example'))}</userIds>"
        f"<courseIds>{ids(item_uuid('Security Awareness'))}</courseIds>"
    )
    assert found == {
        pair("helen@acme.example", "Security Awareness"),
        pair("paul@acme.example", "Security Awareness"),
    }


def test_overdue_and_expiration_are_reported():
    reply = make_sandbox().call(
        "ListLearnersResults", f"<userIds>{ids(user_uuid('paul@acme.example'))}</userIds>"
    )
    row = next(r for r in reply.all("learnerResult") if "Security" in (r.findtext("{*}courseTitle") or ""))
    assert row.findtext("{*}isOverdue") == "true"  # due 2026-02-15, the clock says 2026-03-01
    assert row.findtext("{*}expirationDate") == "2026-02-15T00:00:00+00:00"  # locks after due


def test_list_enrollments_fields_and_filters():
    sandbox = make_sandbox()
    reply = sandbox.call("ListEnrollments", f"<learnerIds>{ids(user_uuid('paul@acme.example'))}</learnerIds>")
    rows = {r.findtext("{*}courseId"): r for r in reply.all("enrollment")}
    course = rows[item_uuid("Security Awareness")]
    assert [c.tag.split("}")[1] for c in course] == [
        "enrollmentId", "courseId", "learnerId", "accessDate", "dueDate", "expirationDate",
        "shouldLockAfterDueDate", "enrollmentTypeGroup",
    ]  # fmt: skip
    assert course.findtext("{*}accessDate") == "2026-02-01"
    path = rows[item_uuid("Onboarding", "learning_path")]
    assert path.findtext("{*}enrollmentTypeGroup") == "1"  # chosen from the catalog
    assert path.find("{*}dueDate") is None  # only when a due date is set
    by_course = sandbox.call("ListEnrollments", f"<courseIds>{ids(item_uuid('Anti-Bribery'))}</courseIds>")
    assert len(by_course.all("enrollment")) == 2
    one = course.findtext("{*}enrollmentId") or ""
    assert (
        len(sandbox.call("ListEnrollments", f"<enrollmentIds>{ids(one)}</enrollmentIds>").all("enrollment"))
        == 1
    )


SMALL = big_sandbox(users=30, courses=4)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(1, 25),
    statuses=st.sets(st.sampled_from(STATUSES)),
    day=st.integers(0, 120),
)
def test_paging_never_changes_what_a_query_returns(size: int, statuses: set[str], day: int):
    start = (dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=day)).isoformat()
    params = f"<accessDate><startDate>{start}</startDate></accessDate>"
    if statuses:
        params += f"<completionStatuses>{ids(*sorted(statuses), tag='value')}</completionStatuses>"
    whole = all_pages(SMALL, "ListLearnersResults", "learnerResult", "enrollmentId", params, size=1000)
    paged = all_pages(SMALL, "ListLearnersResults", "learnerResult", "enrollmentId", params, size=size)
    assert paged == whole

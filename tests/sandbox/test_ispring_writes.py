"""EnrollLearnersInCourses, ChangeEnrollment and Unenroll, as the vendor pages describe them."""

from __future__ import annotations

import datetime as dt

from reconciler.sandbox.org.load import item_uuid, user_uuid
from reconciler.sandbox.store.records import EnrollmentRow
from tests.support.ispring_sandbox import NOW, Sandbox, ids, make_sandbox

UTC = dt.UTC
KEVIN, HELEN, PAUL = (
    user_uuid("kevin@acme.example"),
    user_uuid("helen@acme.example"),
    user_uuid("paul@acme.example"),
)
FORKLIFT = item_uuid("Forklift Safety")


def enroll(
    sandbox: Sandbox, terms: str, learners: tuple[str, ...] = (KEVIN,), courses: tuple[str, ...] = (FORKLIFT,)
):
    return sandbox.call(
        "EnrollLearnersInCourses",
        f"<courseIds>{ids(*courses)}</courseIds><learnerIds>{ids(*learners)}</learnerIds>{terms}",
    )


def stored(sandbox: Sandbox, user: str = KEVIN, item: str = FORKLIFT) -> EnrollmentRow:
    row = sandbox.store.find_enrollment(user, item)
    assert row is not None
    return row


def test_unlimited_enrollment_starts_now_without_due_date():
    sandbox = make_sandbox()
    assert enroll(sandbox, "<dueDateType>unlimited</dueDateType>").one("success") == "true"
    row = stored(sandbox)
    assert row.terms.access_date == NOW and row.terms.due_date is None and row.origin == "admin"


def test_due_date_type_sets_the_date_and_lock():
    sandbox = make_sandbox()
    enroll(
        sandbox,
        "<dueDateType>due_date</dueDateType><dueDate>2026-06-30</dueDate><lockAfterDueDate>true</lockAfterDueDate>",
    )
    terms = stored(sandbox).terms
    assert terms.due_date == dt.datetime(2026, 6, 30, tzinfo=UTC) and terms.lock_after_due
    assert terms.expiration_date == terms.due_date


def test_due_period_is_in_hours_after_access():
    sandbox = make_sandbox()
    enroll(
        sandbox,
        "<accessDate>2026-04-01 09:00:00</accessDate>"
        "<dueDateType>due_period</dueDateType><duePeriod>48</duePeriod>",
    )
    terms = stored(sandbox).terms
    assert terms.due_date == dt.datetime(2026, 4, 3, 9, tzinfo=UTC) and terms.due_period_hours == 48


def test_default_due_type_uses_the_item_default():
    sandbox = make_sandbox()
    enroll(sandbox, "<dueDateType>default</dueDateType>")
    assert stored(sandbox).terms.due_date == NOW + dt.timedelta(days=14)  # Forklift Safety: 14 days


def test_missing_or_invalid_terms_are_wrong_parameters():
    sandbox = make_sandbox()
    assert enroll(sandbox, "").fault == "Wrong parameters"
    assert enroll(sandbox, "<dueDateType>soon</dueDateType>").fault == "Wrong parameters"
    assert enroll(sandbox, "<dueDateType>due_date</dueDateType>").fault == "Wrong parameters"
    assert (
        enroll(sandbox, "<dueDateType>due_period</dueDateType><duePeriod>-3</duePeriod>").fault
        == "Wrong parameters"
    )
    assert (
        enroll(sandbox, "<dueDateType>due_date</dueDateType><dueDate>2019-31-12</dueDate>").fault
        == "Wrong parameters"
    )
    assert (
        sandbox.call("EnrollLearnersInCourses", "<dueDateType>unlimited</dueDateType>").fault
        == "Wrong parameters"
    )
    assert sandbox.store.find_enrollment(KEVIN, FORKLIFT) is None


def test_unknown_course_or_learner_faults():
    sandbox = make_sandbox()
    assert (
        enroll(sandbox, "<dueDateType>unlimited</dueDateType>", courses=("nope",)).fault
        == "Unknown content item"
    )
    assert (
        enroll(sandbox, "<dueDateType>unlimited</dueDateType>", learners=("nope",)).fault
        == "Wrong parameters"
    )


def test_enrolling_an_enrolled_learner_changes_nothing_and_says_so():
    sandbox = make_sandbox()
    existing = stored(sandbox, HELEN, item_uuid("Anti-Bribery"))
    reply = enroll(
        sandbox,
        "<dueDateType>unlimited</dueDateType>",
        learners=(HELEN,),
        courses=(item_uuid("Anti-Bribery"),),
    )
    assert reply.one("success") == "true"
    assert stored(sandbox, HELEN, item_uuid("Anti-Bribery")) == existing
    assert "already enrolled 1 (unchanged)" in sandbox.store.request_log()[-1].detail


def test_many_learners_in_many_items_including_a_learning_track():
    sandbox = make_sandbox()
    onboarding = item_uuid("Onboarding", "learning_path")
    enroll(
        sandbox,
        "<dueDateType>unlimited</dueDateType>",
        learners=(KEVIN, HELEN),
        courses=(FORKLIFT, onboarding),
    )
    for user in (KEVIN, HELEN):
        for item in (FORKLIFT, onboarding):
            assert sandbox.store.find_enrollment(user, item) is not None
    assert len(sandbox.store.notifications("ispring")) == 4


def test_change_enrollment_replaces_all_terms():
    sandbox = make_sandbox()
    row = stored(sandbox, PAUL, item_uuid("Security Awareness"))  # due 2026-02-15, locked
    reply = sandbox.call(
        "ChangeEnrollment",
        f"<enrollmentId>{row.uuid}</enrollmentId><accessDate>2026-03-01</accessDate><dueDateType>due_date</dueDateType>"
        "<dueDate>2026-04-30</dueDate>",
    )
    assert reply.one("success") == "true"
    changed = stored(sandbox, PAUL, item_uuid("Security Awareness"))
    assert changed.terms.due_date == dt.datetime(2026, 4, 30, tzinfo=UTC)
    assert not changed.terms.lock_after_due  # not re-sent, so replaced by the default
    assert changed.uuid == row.uuid and changed.progress == row.progress


def test_change_enrollment_requires_access_date_and_due_type():
    sandbox = make_sandbox()
    row = stored(sandbox, PAUL, item_uuid("Security Awareness"))
    no_access = f"<enrollmentId>{row.uuid}</enrollmentId><dueDateType>unlimited</dueDateType>"
    assert sandbox.call("ChangeEnrollment", no_access).fault == "Wrong parameters"
    no_type = f"<enrollmentId>{row.uuid}</enrollmentId><accessDate>2026-03-01</accessDate>"
    assert sandbox.call("ChangeEnrollment", no_type).fault == "Wrong parameters"
    terms = "<accessDate>2026-03-01</accessDate><dueDateType>unlimited</dueDateType>"
    unknown = f"<enrollmentId>nope</enrollmentId>{terms}"
    assert sandbox.call("ChangeEnrollment", unknown).fault == "Unknown Enrollment"


def test_unenroll_removes_one_enrollment():
    sandbox = make_sandbox()
    row = stored(sandbox, HELEN, item_uuid("Anti-Bribery"))
    assert sandbox.call("Unenroll", f"<enrollmentId>{row.uuid}</enrollmentId>").one("success") == "true"
    assert sandbox.store.get_enrollment(row.uuid) is None
    assert sandbox.call("Unenroll", f"<enrollmentId>{row.uuid}</enrollmentId>").fault == "Unknown Enrollment"

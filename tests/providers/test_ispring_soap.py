"""iSpring SOAP envelopes and records, checked against the vendor's own samples (verbatim)."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from reconciler.core.model import Completion, ItemKind, Origin, UserStatus
from reconciler.errors import ProtocolError
from reconciler.providers.ispring import records
from reconciler.providers.ispring.soap import (
    SOAP_NS,
    Fault,
    Ids,
    Values,
    build_request,
    descendants,
    next_page_token,
    parse_response,
    success,
)
from reconciler.providers.ispring.soap import records as soap_records
from reconciler.transport.safexml import local_name
from tests.support.ispring_samples import (
    ENROLL_REQUEST,
    ENROLL_RESPONSE,
    GET_USERS_REQUEST,
    GET_USERS_RESPONSE,
    LIST_LEARNERS_RESULTS_REQUEST,
    LIST_LEARNERS_RESULTS_RESPONSE,
)

TOKEN = "p-1sJDjmULL5DdpXPJTcbm4jVIaWVHvNmrjAxATRbNE"


def shape(element: etree._Element) -> list[tuple[str, str]]:
    """(local name, text) of every element in document order: namespace- and whitespace-blind."""
    return [(local_name(e), (e.text or "").strip()) for e in element.iter() if isinstance(e.tag, str)]


def lenient(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, etree.XMLParser(recover=True))


def fault_envelope(text: str, ns: str = "http://schemas.xmlsoap.org/soap/envelope/") -> bytes:
    return (
        f'<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{ns}"><SOAP-ENV:Body><SOAP-ENV:Fault>'
        f"<faultcode>client</faultcode><faultstring>{text}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body>"
        "</SOAP-ENV:Envelope>"
    ).encode()


# --- building requests -----------------------------------------------------------------------------------


def test_request_envelope_uses_soap_1_1_and_the_sample_payload_namespace_and_credentials_block() -> None:
    built = etree.fromstring(build_request("GetUsers", TOKEN))
    sample = lenient(GET_USERS_REQUEST)
    # the sample's envelope namespace is spelled https://, which SOAP 1.1 servers refuse (VersionMismatch)
    assert built.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    assert sample.tag == "{https://schemas.xmlsoap.org/soap/envelope/}Envelope"
    assert built.nsmap[None] == sample.nsmap[None] == SOAP_NS
    # the sample puts groupId/departmentId outside the request (a doc error); the request part matches
    assert shape(built) == shape(sample)[: len(shape(built))]
    assert (
        built.find(f".//{{{SOAP_NS}}}GetUsersRequest/{{{SOAP_NS}}}credentials/{{{SOAP_NS}}}token").text
        == TOKEN
    )


def test_list_learners_results_request_matches_the_sample_layout() -> None:
    built = build_request(
        "ListLearnersResults",
        TOKEN,
        [
            ("userIds", Ids(("25e44840-87a0-11e9-897c-0a580af40783",))),
            ("courseIds", Ids(("596e5f20-8c46-11e9-a814-0a580af4024a",))),
            ("departmentIds", Ids(("81826672-9e49-11e9-b4fc-0a580af40235",))),
            ("userStatuses", Values(("1", "3"))),
            ("pageToken", "MGJiYjhlZGMtMjcwMS0xMWVhLTljYzgtMGE1ODBhZjQwYzRm"),
            ("pageSize", 100),
        ],
    )
    sample = lenient(LIST_LEARNERS_RESULTS_REQUEST)
    # enrollctl sends no date ranges or status filters: drop them from the sample before comparing
    for name in ("accessDate", "dueDate", "completionDate", "completionStatuses"):
        for element in list(descendants(sample, name)):
            element.getparent().remove(element)
    assert shape(etree.fromstring(built)) == shape(sample)


def test_enroll_request_matches_the_sample_for_the_fields_it_sends() -> None:
    built = build_request(
        "EnrollLearnersInCourses",
        TOKEN,
        [
            ("courseIds", Ids(("146ac240-d54f-11e9-9b88-0a580af40973",))),
            ("learnerIds", Ids(("8363b098-e031-11e9-89cf-0a580af40b0f",))),
            ("accessDate", dt.datetime(2019, 9, 24, 10, 30)),
            ("dueDateType", "unlimited"),
            ("dueDate", dt.date(2019, 9, 25)),
            ("duePeriod", 10),
        ],
    )
    # the sample closes duePeriod with a mismatched </soap:duePeriod>; a recovering parser still reads it
    assert shape(etree.fromstring(built)) == shape(lenient(ENROLL_REQUEST))


def test_parameters_set_to_none_are_left_out_and_booleans_are_lowercase() -> None:
    built = etree.fromstring(build_request("X", "t", [("dueDate", None), ("lockAfterDueDate", False)]))
    assert [n for n, _ in shape(built)][-1] == "lockAfterDueDate"
    assert shape(built)[-1] == ("lockAfterDueDate", "false")


def test_values_are_escaped_by_lxml_not_templated() -> None:
    built = build_request("X", "a<b&c", [("name", "</name><evil/>")])
    root = etree.fromstring(built)
    assert not list(descendants(root, "evil"))
    assert ("token", "a<b&c") in shape(root)


# --- parsing responses ----------------------------------------------------------------------------------


def test_success_result_with_undeclared_ns1_prefix_is_accepted() -> None:
    result = parse_response(ENROLL_RESPONSE, "EnrollLearnersInCourses")
    assert not isinstance(result, Fault) and success(result)


def test_lowercase_success_result_of_the_unenroll_page_is_accepted() -> None:
    body = ENROLL_RESPONSE.replace(b"ns1:SuccessResult", b"successResult").replace(b"ns1:success", b"success")
    result = parse_response(body, "Unenroll")
    assert not isinstance(result, Fault) and success(result)


@pytest.mark.parametrize(
    "ns", ["http://schemas.xmlsoap.org/soap/envelope/", "https://schemas.xmlsoap.org/soap/envelope/"]
)
def test_faults_are_returned_as_data_in_either_envelope_namespace(ns: str) -> None:
    assert parse_response(fault_envelope("Permission denied", ns), "GetUsers") == Fault(
        "client", "Permission denied"
    )


def test_an_unexpected_result_element_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="expected GetGroupsResult"):
        parse_response(GET_USERS_RESPONSE, "GetGroups")


def test_a_soap_body_with_a_doctype_is_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    with pytest.raises(ProtocolError, match="DOCTYPE"):
        parse_response(evil, "GetUsers")


def test_an_html_error_page_is_reported_with_an_excerpt() -> None:
    with pytest.raises(ProtocolError, match=r"HTML page.*Bad Gateway"):
        parse_response(b"<html><body><h1>502 Bad Gateway</h1></body></html>", "GetUsers", status=502)


# --- records ---------------------------------------------------------------------------------------------


def test_get_users_sample_becomes_users_with_login_email_department_and_groups() -> None:
    result = parse_response(GET_USERS_RESPONSE, "GetUsers")
    assert not isinstance(result, Fault)
    users = [records.parse_user(e) for e in descendants(result, "userProfile")]
    helen = users[0]
    assert (helen.id, helen.login, helen.email, helen.first_name, helen.last_name) == (
        "43eb7146-6280-11e9-b274-a6210366ac32",
        "helen@ispring.com",
        "helen@ispring.com",
        "Helen",
        "Jones",
    )
    assert helen.status is UserStatus.ACTIVE
    assert helen.department_id == "e95b4ad0-5f50-11e9-80c4-0a580af406eb"
    assert helen.group_ids == frozenset({"e0b394fc-44b9-11e9-92c8-0a580af401f6"})
    assert [u.login for u in users] == ["helen@ispring.com", "kevin@ispring.com"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("1", UserStatus.ACTIVE),
        ("3", UserStatus.INACTIVE),
        ("5", UserStatus.EMPLOYMENT_ENDED),
        ("9", UserStatus.BLOCKED),
    ],
)
def test_user_status_codes_follow_get_users_v2(code: str, status: UserStatus) -> None:
    body = GET_USERS_RESPONSE.replace(b"<status>1</status>", f"<status>{code}</status>".encode(), 1)
    result = parse_response(body, "GetUsers")
    assert not isinstance(result, Fault)
    assert records.parse_user(next(descendants(result, "userProfile"))).status is status


def test_learner_results_sample_maps_status_progress_and_completion_date() -> None:
    result = parse_response(LIST_LEARNERS_RESULTS_RESPONSE, "ListLearnersResults")
    assert not isinstance(result, Fault)
    results = [records.parse_result(e) for e in descendants(result, "learnerResult")]
    assert [(r.completion, r.progress) for r in results] == [
        (Completion.NOT_STARTED, 0.0),
        (Completion.IN_PROGRESS, 80.0),
        (Completion.COMPLETED, 100.0),
        (Completion.COMPLETED, 100.0),
    ]
    assert results[0].due == dt.datetime(2019, 12, 27, 21, 0, tzinfo=dt.UTC)
    assert results[2].completed_at == dt.datetime(2019, 7, 24, 11, 30, 7, tzinfo=dt.UTC)
    assert next_page_token(result) == "MGJiYjhlZGMtMjcwMS0xMWVhLTljYzgtMGE1ODBhZjQwYzRm"


@pytest.mark.parametrize(
    ("status", "completion"),
    [
        ("not_started", Completion.NOT_STARTED),
        ("pending", Completion.IN_PROGRESS),
        ("incomplete", Completion.IN_PROGRESS),
        ("failed", Completion.IN_PROGRESS),
        ("declined", Completion.IN_PROGRESS),
        ("passed", Completion.COMPLETED),
        ("accepted", Completion.COMPLETED),
        ("some_new_state", Completion.IN_PROGRESS),
    ],
)
def test_completion_statuses_reduce_to_what_protection_needs(status: str, completion: Completion) -> None:
    body = LIST_LEARNERS_RESULTS_RESPONSE.replace(
        b"<completionStatus>not_started<", f"<completionStatus>{status}<".encode()
    )
    result = parse_response(body, "ListLearnersResults")
    assert not isinstance(result, Fault)
    assert records.parse_result(next(descendants(result, "learnerResult"))).completion is completion


def enrollment_xml(**fields: str) -> etree._Element:
    element = etree.Element("enrollment")
    for name, value in fields.items():
        etree.SubElement(element, name).text = value
    return element


def test_enrollments_join_results_by_enrollment_id_and_keep_terms_and_origin() -> None:
    record = records.parse_enrollment(
        enrollment_xml(
            enrollmentId="1777fdf0-232d-11ea-a24a-0a580af40c27",
            courseId="c1",
            learnerId="u1",
            accessDate="2019-12-25",
            dueDate="2019-12-27",
            shouldLockAfterDueDate="true",
            enrollmentTypeGroup="1",
        )
    )
    result = parse_response(LIST_LEARNERS_RESULTS_RESPONSE, "ListLearnersResults")
    assert not isinstance(result, Fault)
    results = [records.parse_result(e) for e in descendants(result, "learnerResult")]
    (joined,) = records.join([record], results, {"c1": ItemKind.LEARNING_PATH})
    assert joined.id == "1777fdf0-232d-11ea-a24a-0a580af40c27"
    assert (
        joined.origin is Origin.CATALOG
        and joined.lock_after_due
        and joined.item_kind is ItemKind.LEARNING_PATH
    )
    # the result's date-times are more precise than the enrollment's dates
    assert joined.access == dt.datetime(2019, 12, 25, 1, 0, tzinfo=dt.UTC)
    assert joined.due == dt.datetime(2019, 12, 27, 21, 0, tzinfo=dt.UTC)


def test_a_due_period_is_kept_as_hours_so_relative_terms_do_not_drift() -> None:
    record = records.parse_enrollment(
        enrollment_xml(
            enrollmentId="e",
            courseId="c",
            learnerId="u",
            accessDate="2026-01-01",
            dueDate="2026-01-31",
            dueDateType="due_period",
            duePeriod="720",
            shouldLockAfterDueDate="false",
            enrollmentTypeGroup="0",
        )
    )
    (joined,) = records.join([record], [], {})
    assert joined.due_hours == 720 and joined.origin is Origin.ADMIN


def test_an_invalid_vendor_date_makes_the_enrollment_unknown_not_a_silent_drift() -> None:
    record = records.parse_enrollment(
        enrollment_xml(enrollmentId="e", courseId="c", learnerId="u", accessDate="2019-31-12")
    )
    (joined,) = records.join([record], [], {})
    assert joined.unknown == "accessDate '2019-31-12' is not a date"
    assert joined.access is None and joined.started


def test_only_courses_and_learning_tracks_become_catalog_items() -> None:
    def item(kind: str) -> etree._Element:
        return enrollment_xml(contentItemId="i", title="T", contentItemType=kind)

    assert records.parse_item(item("Course")).kind is ItemKind.COURSE  # type: ignore[union-attr]
    assert records.parse_item(item("LearningTrack")).kind is ItemKind.LEARNING_PATH  # type: ignore[union-attr]
    assert records.parse_item(item("Quiz")) is None


def test_an_enrollment_without_a_result_counts_as_started_so_it_is_protected() -> None:
    record = records.parse_enrollment(
        enrollment_xml(enrollmentId="e", courseId="c", learnerId="u", accessDate="2026-01-01")
    )
    (joined,) = records.join([record], [], {})
    assert joined.started and joined.progress == 0.0


def test_an_oversized_answer_is_refused_before_parsing() -> None:
    from reconciler.transport.safexml import parse_xml

    with pytest.raises(ProtocolError, match="exceeds the limit"):
        parse_xml(GET_USERS_RESPONSE, max_bytes=100)


def test_records_in_their_wrapper_are_read_in_any_namespace_and_a_stranger_names_what_was_seen() -> None:
    ns = "https://ispringlearn.com/go/services/api/soap"
    result = etree.fromstring(
        f'<r xmlns="{ns}"><enrollments><enrollment/><enrollment/></enrollments>'
        "<nextPageToken>t</nextPageToken></r>"
    )
    assert [local_name(e) for e in soap_records(result, "enrollment")] == ["enrollment", "enrollment"]
    plain = etree.fromstring("<r><enrollment/><enrollments><enrollment/></enrollments></r>")
    assert len(soap_records(plain, "enrollment")) == 2
    renamed = etree.fromstring(
        f'<r xmlns="{ns}"><enrollments><enrollment/><enrolment/><!-- a note --></enrollments></r>'
    )
    with pytest.raises(
        ProtocolError, match=r"got <enrollments, enrollments/enrollment, enrollments/enrolment>"
    ):
        soap_records(renamed, "enrollment")
    with pytest.raises(ProtocolError, match=r"got <learnersResults>"):
        soap_records(etree.fromstring("<r><learnersResults/></r>"), "enrollment")

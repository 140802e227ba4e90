"""Parsing Litmos wire data: the vendor page's samples, both formats, dates, entities, nil and empty lists."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.model import Completion, ItemKind, UserStatus
from reconciler.errors import ProtocolError
from reconciler.providers.litmos.body import (
    BULK_RESULTS,
    COURSES,
    TEAMS,
    USERS,
    records_from_body,
    records_from_json,
    records_from_xml,
)
from reconciler.providers.litmos.parse import (
    as_datetime,
    parse_bulk_results,
    parse_team,
    parse_user,
    parse_user_items,
)

# Verbatim from vendor-docs/litmos-rest-user-assignments.txt ("Get Courses Assigned for a List of Users"),
# typos (`ComplaintTill`, `CourseCreateDate`), empty elements and the duplicated `ResultId` included.
VENDOR_BULK_XML = b"""<Users xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
    <User>
        <Id></Id>
        <Courses>
            <Course>
                <Id></Id>
                <Code/>
                <Name></Name>
                <Active>true</Active>
                <Complete>false</Complete>
                <PercentageComplete>0.00</PercentageComplete>
                <AssignedDate>2020-12-12T09:18:00.647</AssignedDate>
                <StartDate i:nil="true"/>
                <DateCompleted i:nil="true"/>
                <UpToDate>true</UpToDate>
                <Overdue>false</Overdue>
                <CompliantTill i:nil="true"/>
                <IsLearningPath>false</IsLearningPath>
                <CourseCreatedDate>2020-10-15T11:04:33.297</CourseCreatedDate>
                <CourseCreator i:nil="true"/>
                <OriginalId></OriginalId>
                <ResultId></ResultId>
                <AccessTillDate i:nil="true"/>
                <UserId></UserId>
            </Course>
        </Courses>
    </User>
    <User>
        <Id></Id>
        <Courses>
            <Course>
                <Id></Id>
                <Code/>
                <Name></Name>
                <Active>true</Active>
                <Complete>false</Complete>
                <PercentageComplete>0.00</PercentageComplete>
                <AssignedDate>2020-04-07T11:22:40.327</AssignedDate>
                <StartDate i:nil="true"/>
                <DateCompleted i:nil="true"/>
                <UpToDate>true</UpToDate>
                <Overdue>false</Overdue>
                <CompliantTill i:nil="true"/>
                <IsLearningPath>false</IsLearningPath>
                <CourseCreatedDate>2020-04-07T11:04:33.297</CourseCreatedDate>
                <CourseCreator i:nil="true"/>
                <OriginalId></OriginalId>
                <ResultId></ResultId>
                <AccessTillDate i:nil="true"/>
                <UserId></UserId>
            </Course>
            <Course>
                <Id></Id>
                <Code></Code>
                <Name></Name>
                <Active></Active>
                <Complete></Complete>
                <PercentageComplete>0.00</PercentageComplete>
                <AssignedDate>2020-04-07T11:22:40.327</AssignedDate>
                <StartDate>2020-04-12T08:45:40.824</StartDate>
                <DateCompleted i:nil="true"/>
                <UpToDate></UpToDate>
                <Overdue></Overdue>
                <ComplaintTill i:nil="true"/>
                <IsLearningPath></IsLearningPath>
                <CourseCreateDate></CourseCreateDate>
                <CourseCreator i:nil="true"/>
                <OriginalId></OriginalId>
                <ResultId></ResultId>
                <ResultId></ResultId>
                <AccessTillDate i:nil="true"/>
            </Course>
        </Courses>
    </User>
</Users>"""

VENDOR_BULK_JSON = b"""[
  {
    "Id": "AbC123eFg456HiJ789",
    "Courses": [
      {
        "Id": "",
        "Code": "Code 123",
        "Name": "Example Course Name",
        "Active": true,
        "Complete": false,
        "PercentageComplete": 0.00,
        "AssignedDate": "/Date(1234567891011-0000)/",
        "StartDate": null,
        "DateCompleted": null,
        "UpToDate": true,
        "Overdue": false,
        "CompliantTill": null,
        "IsLearningPath": false,
        "CourseCreatedDate": "/Date(1234567891011-0000)/",
        "CourseCreator": null,
        "OriginalId": 1234567,
        "ResultId": 123456789,
        "AccessTillDate": null,
        "UserId": "AbCDeFg123456HiJ789"
      },
      {
        "Id": "AbC123456eFgHiJ789",
        "Code": "Code 123",
        "Name": "Example LP Name",
        "Active": true,
        "Complete": false,
        "PercentageComplete": 0.00,
        "AssignedDate": "/Date(1234567891011-0000)/",
        "StartDate": null,
        "DateCompleted": null,
        "UpToDate": true,
        "Overdue": false,
        "CompliantTill": null,
        "IsLearningPath": true,
        "CourseCreatedDate": "/Date(1234567891011-0000)/",
        "CourseCreator": null,
        "OriginalId": 1234566,
        "ResultId": 123456788,
        "AccessTillDate": null,
        "UserId": "AbCDeFg123456789HiJ"
      }
    ]
  }
]"""

# Verbatim: the template of "Get Courses Assigned to a User", placeholders as values.
VENDOR_USER_COURSES_XML = b"""<Courses>
    <Course>
        <Id>string [max length 50]</Id>
        <Code>string [max length 20]</Code>
        <Name>string [max length 255]</Name>
        <Active>true/false</Active>
        <Complete>true/false</Complete>
        <PercentageComplete>decimal</PercentageComplete>
        <AssignedDate>YYYY-MM-DDTHH:MM:SS.SSS</AssignedDate>
        <StartDate>YYYY-MM-DDTHH:MM:SS.SSS</StartDate>
        <DateCompleted>YYYY-MM-DDTHH:MM:SSS</DateCompleted>
        <UpToDate>true/false</UpToDate>
        <Overdue>true/false</Overdue>
        <CompliantTill>YYYY-MM-DDTHH:MM:SS.SSS</CompliantTill>
        <IsLearningPath>true/false</IsLearningPath>
        <CourseCreatedDate>YYYY-MM-DDTHH:MM:SS.SSS</CourseCreatedDate>
        <CourseCreator>string [max length 50]</CourseCreator>
        <OriginalId>integer</OriginalId>
        <ResultId>string [max length 50]</ResultId>
        <AccessTillDate>YYYY-MM-DDTHH:MM:SS.SSS</AccessTillDate>
    </Course>
    <Course>
        ...
    </Course>
</Courses>"""


def test_vendor_bulk_xml_sample_parses_without_error() -> None:
    records = records_from_xml(VENDOR_BULK_XML, BULK_RESULTS)
    assert len(records) == 2
    # ids are empty in the sample: rows without an id are skipped rather than invented
    assert parse_bulk_results(records) == []
    second_user_courses = records[1]["Courses"]
    assert isinstance(second_user_courses, list) and len(second_user_courses) == 2
    assert second_user_courses[1]["StartDate"] == "2020-04-12T08:45:40.824"
    assert second_user_courses[1]["DateCompleted"] is None  # i:nil


def test_vendor_bulk_json_sample_parses_into_enrollments() -> None:
    enrollments = parse_bulk_results(records_from_json(VENDOR_BULK_JSON, BULK_RESULTS))
    # the first course has an empty Id in the sample, so only the learning path is an enrollment
    assert [(e.user_id, e.item_id, e.item_kind) for e in enrollments] == [
        ("AbC123eFg456HiJ789", "AbC123456eFgHiJ789", ItemKind.LEARNING_PATH)
    ]
    only = enrollments[0]
    assert only.completion is Completion.NOT_STARTED and only.progress == 0.0
    assert only.due_is_default


def test_vendor_user_courses_template_parses_without_error() -> None:
    rows = records_from_xml(VENDOR_USER_COURSES_XML, COURSES)
    [enrollment] = parse_user_items(rows, ItemKind.COURSE, "U1")
    assert enrollment.item_id == "string [max length 50]"
    # the template's placeholders are present but unreadable: the enrollment is unknown, never "not started"
    assert "PercentageComplete 'decimal' is not a number" in enrollment.unknown
    assert "Complete 'true/false' is not true or false" in enrollment.unknown
    assert "DateCompleted 'YYYY-MM-DDTHH:MM:SSS' is not a date" in enrollment.unknown
    assert enrollment.started


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1234567891011-0000)/", dt.datetime(2009, 2, 13, 23, 31, 31, 11000, tzinfo=dt.UTC)),
        ("/Date(1234567891011+0200)/", dt.datetime(2009, 2, 13, 23, 31, 31, 11000, tzinfo=dt.UTC)),
        ("/Date(1234567891011)/", dt.datetime(2009, 2, 13, 23, 31, 31, 11000, tzinfo=dt.UTC)),
        ("2016-12-09T07:54:27Z", dt.datetime(2016, 12, 9, 7, 54, 27, tzinfo=dt.UTC)),
        ("2020-12-12T09:18:00.647", dt.datetime(2020, 12, 12, 9, 18, 0, 647000, tzinfo=dt.UTC)),
        ("2020-12-12T09:18:00.6470000", dt.datetime(2020, 12, 12, 9, 18, 0, 647000, tzinfo=dt.UTC)),
        ("2020-12-12T11:18:00+02:00", dt.datetime(2020, 12, 12, 9, 18, tzinfo=dt.UTC)),
        ("", None),
        (None, None),
        ("YYYY-MM-DDTHH:MM:SSS", None),
    ],
)
def test_all_three_date_forms_read_as_utc(text: str | None, expected: dt.datetime | None) -> None:
    assert as_datetime(text) == expected


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_json_and_xml_date_forms_agree(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=dt.UTC)
    millis = (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    xml_form = moment.replace(tzinfo=None).isoformat(timespec="milliseconds")
    assert as_datetime(f"/Date({millis}-0000)/") == as_datetime(xml_form) == moment


def test_empty_lists_in_the_documented_forms_are_empty() -> None:
    for body, content_type in [
        (b"[]", "application/json"),
        (b'{"Items": []}', "application/json"),
        (b'<Users xmlns:i="http://www.w3.org/2001/XMLSchema-instance"/>', "application/xml"),
        (b"<Users></Users>", "application/xml"),
        (b"<UserCollection><Pagination/><Items/></UserCollection>", "application/xml"),
    ]:
        assert records_from_body(body, content_type, USERS) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"null", "application/json"), (b"", "application/json"), (b"", "application/xml")],
)
def test_an_undocumented_empty_answer_is_not_an_empty_list(body: bytes, content_type: str) -> None:
    with pytest.raises(ProtocolError, match="expected a list of User"):
        records_from_body(body, content_type, USERS)


def test_single_row_xml_list_is_a_list_not_a_record() -> None:
    body = b"<Teams><Team><Id>T1</Id><Name>Sales</Name><ParentTeamId i:nil='true' xmlns:i='http://www.w3.org/2001/XMLSchema-instance'/></Team></Teams>"
    [team] = [parse_team(r) for r in records_from_body(body, "application/xml", TEAMS)]
    assert (team.id, team.name, team.parent_id) == ("T1", "Sales", None)


def test_json_and_xml_users_parse_to_the_same_users() -> None:
    json_body = (
        b'[{"Id":"u1","UserName":"h@acme.example","FirstName":"Ren&#233;e","LastName":"O&#39;Neil",'
        b'"Active":true,"Email":"h@acme.example","AccessLevel":"Learner"},'
        b'{"Id":"u2","UserName":"k@acme.example","FirstName":"Kevin","LastName":"Smith &amp; Co",'
        b'"Active":false,"Email":"","AccessLevel":"Learner"}]'
    )
    xml_body = (
        b'<Users xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        b"<User><Id>u1</Id><UserName>h@acme.example</UserName><FirstName>Ren&amp;#233;e</FirstName>"
        b"<LastName>O&apos;Neil</LastName><Active>true</Active><Email>h@acme.example</Email>"
        b"<AccessLevel>Learner</AccessLevel><Brand/></User>"
        b"<User><Id>u2</Id><UserName>k@acme.example</UserName><FirstName>Kevin</FirstName>"
        b"<LastName>Smith &amp; Co</LastName><Active>false</Active><Email i:nil='true'/>"
        b"<AccessLevel>Learner</AccessLevel></User></Users>"
    )
    from_json = [
        parse_user(r) for r in records_from_body(json_body, "application/json; charset=utf-8", USERS)
    ]
    from_xml = [parse_user(r) for r in records_from_body(xml_body, "application/xml", USERS)]
    assert from_json == from_xml
    assert from_json[0].first_name == "Renée" and from_json[0].last_name == "O'Neil"
    assert from_json[1].status is UserStatus.INACTIVE and from_json[1].email == "k@acme.example"


def test_completion_comes_from_complete_percentage_and_date_completed() -> None:
    body = (
        b'[{"Id":"u1","Courses":['
        b'{"Id":"c1","Complete":true,"PercentageComplete":100.0,"DateCompleted":"/Date(1600000000000-0000)/"},'
        b'{"Id":"c2","Complete":false,"PercentageComplete":40.5,"DateCompleted":null},'
        b'{"Id":"c3","Complete":false,"PercentageComplete":0.00,"DateCompleted":null},'
        b'{"Id":"c4","Complete":false,"PercentageComplete":0,"DateCompleted":"2020-01-01T00:00:00"}]}]'
    )
    found = {e.item_id: e for e in parse_bulk_results(records_from_json(body, BULK_RESULTS))}
    assert found["c1"].completion is Completion.COMPLETED
    assert found["c2"].completion is Completion.IN_PROGRESS and found["c2"].progress == 40.5
    assert found["c3"].completion is Completion.NOT_STARTED and not found["c3"].started
    assert found["c4"].completion is Completion.COMPLETED


def test_duplicate_rows_are_read_once() -> None:
    body = b'[{"Id":"u1","Courses":[{"Id":"c1"},{"Id":"c1"}]},{"Id":"u1","Courses":[]}]'
    assert [e.key for e in parse_bulk_results(records_from_json(body, BULK_RESULTS))] == [("u1", "c1")]


def test_html_error_page_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        records_from_body(b"Service Unavailable", "text/html", USERS)
    with pytest.raises(ProtocolError):
        records_from_body(b"<html><body>oops", "text/html", USERS)


def test_xml_with_entity_declarations_is_refused() -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE Users [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<Users><User><Id>u1</Id><UserName>&x;</UserName></User></Users>"
    )
    with pytest.raises(ProtocolError, match="DOCTYPE"):
        records_from_body(hostile, "application/xml", USERS)

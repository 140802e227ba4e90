"""GetDepartments, GetGroups and ListContent: REST v3 field names inside the SOAP conventions."""

from __future__ import annotations

from lxml import etree

from reconciler.sandbox.org.load import department_uuid, item_uuid
from tests.support.ispring_sandbox import NS, ids, local_names, make_sandbox


def test_departments_form_a_tree_through_parent_department_id():
    reply = make_sandbox().call("GetDepartments")
    result = reply.root[0][0]
    assert etree.QName(result) == etree.QName(NS, "GetDepartmentsResult")
    rows = {d.findtext(f"{{{NS}}}name"): d for d in reply.all("department")}
    assert local_names(rows["EMEA"]) == ["departmentId", "name", "parentDepartmentId"]
    assert rows["EMEA"].findtext(f"{{{NS}}}parentDepartmentId") == department_uuid("Acme/Sales")
    assert rows["Acme"].find(f"{{{NS}}}parentDepartmentId") is None  # the root has no parent


def test_groups_have_id_and_name():
    reply = make_sandbox().call("GetGroups")
    assert [local_names(g) for g in reply.all("group")] == [["groupId", "name"]] * 2
    assert reply.texts("name") == ["New hires", "Managers"]


def test_content_lists_courses_and_learning_tracks_with_their_courses():
    reply = make_sandbox().call("ListContent")
    items = {i.findtext(f"{{{NS}}}title"): i for i in reply.all("contentItem")}
    assert items["Security Awareness"].findtext(f"{{{NS}}}contentItemType") == "Course"
    track = items["Onboarding"]
    assert track.findtext(f"{{{NS}}}contentItemType") == "LearningTrack"
    assert track.findtext(f"{{{NS}}}contentItemId") == item_uuid("Onboarding", "learning_path")
    courses = [e.text for e in track.iterfind(f"{{{NS}}}courseIds/{{{NS}}}id")]
    assert courses == [item_uuid("Security Awareness"), item_uuid("Anti-Bribery")]


def test_content_filters_and_pages():
    sandbox = make_sandbox()
    tracks = sandbox.call("ListContent", "<contentTypes><value>LearningTrack</value></contentTypes>")
    assert tracks.texts("title") == ["Onboarding"]
    one = sandbox.call("ListContent", f"<contentItemIds>{ids(item_uuid('Anti-Bribery'))}</contentItemIds>")
    assert one.texts("title") == ["Anti-Bribery"]
    first = sandbox.call("ListContent", "<pageSize>3</pageSize>")
    token = first.one("nextPageToken")
    rest = sandbox.call("ListContent", f"<pageSize>3</pageSize><pageToken>{token}</pageToken>")
    assert (
        len(first.texts("title")) == 3 and len(rest.texts("title")) == 1 and rest.one("nextPageToken") is None
    )


def test_a_token_from_another_method_is_wrong_parameters():
    sandbox = make_sandbox()
    token = sandbox.call("ListContent", "<pageSize>1</pageSize>").one("nextPageToken")
    reply = sandbox.call("ListLearnersResults", f"<pageToken>{token}</pageToken>")
    assert reply.fault == "Wrong parameters"


def test_get_on_the_soap_endpoint_is_not_allowed():
    response = make_sandbox().http.get("/api/v2/soap/2.0")
    assert response.status_code == 405

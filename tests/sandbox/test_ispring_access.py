"""Tokens, SOAPAction forms, namespaces, user status versions and department-administrator scope."""

from __future__ import annotations

from reconciler.sandbox.ispring.app import HANDLERS
from reconciler.sandbox.org.load import department_uuid, item_uuid, user_uuid
from tests.support.ispring_sandbox import CREDS, ENV_STD, NS, ids, make_sandbox

FORKLIFT = item_uuid("Forklift Safety")


def test_token_endpoint_answers_like_the_vendor():
    sandbox = make_sandbox()
    response = sandbox.http.post(
        "/api/v3/token",
        data={
            "client_id": CREDS["client_id"],
            "client_secret": CREDS["client_secret"],
            "grant_type": "client_credentials",
        },
    )
    body = response.json()
    assert response.status_code == 200 and body["expires_in"] == 1800 and body["token_type"] == "bearer"
    assert body["access_token"]


def test_wrong_client_secret_is_refused():
    sandbox = make_sandbox()
    response = sandbox.http.post(
        "/api/v3/token",
        data={"client_id": CREDS["client_id"], "client_secret": "x", "grant_type": "client_credentials"},
    )
    assert response.status_code == 401 and response.json()["message"] == "Authorization failed"
    assert CREDS["client_secret"] not in str(sandbox.store.request_log())


def test_expired_token_is_authorization_failed():
    sandbox = make_sandbox()
    token = sandbox.token()
    assert sandbox.call("GetGroups", token=token).fault is None
    sandbox.clock.advance(1801)
    assert sandbox.call("GetGroups", token=token).fault == "Authorization failed"


def test_unknown_or_missing_token_is_authorization_failed():
    sandbox = make_sandbox()
    assert sandbox.call("GetGroups", token="forged").fault == "Authorization failed"
    assert sandbox.call("GetGroups", token="").fault == "Authorization failed"


def test_static_sandbox_token_never_expires():
    sandbox = make_sandbox()
    sandbox.clock.advance(10**6)
    assert sandbox.call("GetGroups", token=CREDS["token"]).fault is None


def test_soap_action_in_any_case_quoted_or_not_and_the_legacy_path():
    sandbox = make_sandbox()
    token = sandbox.token()
    body = (
        f'<e:Envelope xmlns:e="{ENV_STD}" xmlns="http://ispringlearn.com/go/services/api/soap"><e:Body>'
        f"<GetGroupsRequest><credentials><token>{token}</token></credentials></GetGroupsRequest></e:Body></e:Envelope>"
    )
    for action in ("GetGroups", '"getGroups"', "GETGROUPS", None):
        headers = {"SOAPAction": action} if action else {}
        for path in ("/api/v2/soap/2.0", "/index.php/api/v2/soap/2.0"):
            response = sandbox.http.post(path, content=body, headers=headers)
            assert response.status_code == 200, (action, path, response.text)
            assert f'xmlns:SOAP-ENV="{ENV_STD}"' in response.text  # the envelope namespace of the request
            assert 'xmlns="http://ispringlearn.com/go/services/api/soap"' in response.text


def test_unknown_method_and_garbage_are_faults_not_crashes():
    sandbox = make_sandbox()
    assert sandbox.call("MakeCoffee").fault == "Wrong parameters"
    reply = sandbox.post(b"this is not xml", "GetUsers")
    assert reply.fault == "Wrong parameters"
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>'
        b"<GetGroupsRequest><credentials><token>&b;</token></credentials></GetGroupsRequest></SOAP-ENV:Body>"
        b"</SOAP-ENV:Envelope>"
    )
    assert sandbox.post(billion_laughs, "GetGroups").fault == "Authorization failed"  # entities not expanded


def statuses(version_params: str, action: str = "GetUsers") -> dict[str, str]:
    sandbox = make_sandbox()
    reply = sandbox.call(action, version_params)
    result = {}
    for profile in reply.all("userProfile"):
        login = next(
            f.findtext(f"{{{NS}}}value")
            for f in profile.iter(f"{{{NS}}}field")
            if f.findtext(f"{{{NS}}}name") == "LOGIN"
        )
        result[login] = profile.findtext(f"{{{NS}}}status")
    return result


def test_get_users_v1_merges_inactive_and_employment_ended_into_3():
    found = statuses("")
    assert found["helen@acme.example"] == "1"
    assert found["ed@acme.example"] == found["ina@acme.example"] == found["olga@acme.example"] == "3"


def test_get_users_v2_reports_employment_ended_as_5():
    for params, action in (("", "GetUsersV2"), ("<version>2</version>", "GetUsers"), ("", "GetUsers/v2")):
        found = statuses(params, action)
        assert found["ed@acme.example"] == "5" and found["ina@acme.example"] == "3"


def test_get_users_filters_by_group_and_department():
    sandbox = make_sandbox()
    group = sandbox.store.get_group("Managers", by="name")
    assert group is not None
    in_group = sandbox.call("GetUsers", f"<groupId>{group.uuid}</groupId>").texts("userId")
    assert in_group == [user_uuid("helen@acme.example")]
    in_department = sandbox.call(
        "GetUsers", f"<departmentId>{department_uuid('Acme/Engineering')}</departmentId>"
    )
    assert set(in_department.texts("userId")) == {user_uuid("ed@acme.example"), user_uuid("ina@acme.example")}


# --- department administrators ------------------------------------------------------------------------------


def test_department_admin_sees_only_their_departments_and_sub_departments():
    sandbox = make_sandbox()
    token = sandbox.admin_token()  # Kevin's key: manages Acme/Sales
    users = set(sandbox.call("GetUsers", token=token).texts("userId"))
    sales = {user_uuid(u) for u in ("helen@acme.example", "kevin@acme.example", "olga@acme.example")}
    assert users == sales
    departments = set(sandbox.call("GetDepartments", token=token).texts("departmentId"))
    assert departments == {
        department_uuid(p) for p in ("Acme/Sales", "Acme/Sales/EMEA", "Acme/Sales/Americas")
    }
    learners = set(sandbox.call("ListLearnersResults", token=token).texts("userId"))
    assert learners == {user_uuid("helen@acme.example")}
    enrolled = set(sandbox.call("ListEnrollments", token=token).texts("learnerId"))
    assert enrolled <= sales and enrolled


def test_department_admin_reading_another_department_is_permission_denied():
    sandbox = make_sandbox()
    token = sandbox.admin_token()
    engineering = department_uuid("Acme/Engineering")
    assert (
        sandbox.call("GetUsers", f"<departmentId>{engineering}</departmentId>", token).fault
        == "Permission denied"
    )
    reply = sandbox.call("ListLearnersResults", f"<departmentIds>{ids(engineering)}</departmentIds>", token)
    assert reply.fault == "Permission denied"
    paul = ids(user_uuid("paul@acme.example"))
    assert (
        sandbox.call("ListLearnersResults", f"<userIds>{paul}</userIds>", token).fault == "Permission denied"
    )
    assert (
        sandbox.call("ListEnrollments", f"<learnerIds>{paul}</learnerIds>", token).fault
        == "Permission denied"
    )
    helen = ids(user_uuid("helen@acme.example"))
    assert sandbox.call("ListLearnersResults", f"<userIds>{helen}</userIds>", token).fault is None


def test_department_admin_cannot_enroll_or_unenroll_outside_their_departments():
    sandbox = make_sandbox()
    token = sandbox.admin_token()
    course = f"<courseIds>{ids(FORKLIFT)}</courseIds>"
    outside = f"{course}<learnerIds>{ids(user_uuid('paul@acme.example'))}</learnerIds>"
    reply = sandbox.call("EnrollLearnersInCourses", outside + "<dueDateType>unlimited</dueDateType>", token)
    assert reply.fault == "Permission denied"
    inside = f"{course}<learnerIds>{ids(user_uuid('helen@acme.example'))}</learnerIds>"
    assert (
        sandbox.call("EnrollLearnersInCourses", inside + "<dueDateType>unlimited</dueDateType>", token).fault
        is None
    )
    pauls = sandbox.store.find_enrollment(user_uuid("paul@acme.example"), item_uuid("Security Awareness"))
    assert pauls is not None
    assert (
        sandbox.call("Unenroll", f"<enrollmentId>{pauls.uuid}</enrollmentId>", token).fault
        == "Permission denied"
    )


def test_token_endpoint_takes_json_too_and_never_crashes_on_odd_secrets():
    sandbox = make_sandbox()
    fields = {"client_id": CREDS["client_id"], "client_secret": CREDS["client_secret"]}
    as_json = sandbox.http.post("/api/v3/token", json={**fields, "grant_type": "client_credentials"})
    assert as_json.status_code == 200
    odd = {"client_id": CREDS["client_id"], "client_secret": "sécret", "grant_type": "client_credentials"}
    assert sandbox.http.post("/api/v3/token", data=odd).status_code == 401


def test_an_internal_error_is_a_server_fault_not_a_crash(monkeypatch):
    def broken(ctx: object) -> bytes:
        raise RuntimeError("bug")

    monkeypatch.setitem(HANDLERS, "getgroups", broken)
    sandbox = make_sandbox()
    response = sandbox.call("GetGroups").response
    assert response.status_code == 500 and "Internal error" in response.text
    assert sandbox.store.request_log()[-1].detail == "internal error: RuntimeError"

"""What the schemathesis run (test_ispring_rest_schemathesis.py) found wrong in the iSpring REST emulator,
each pinned as a plain case and judged by openapi-core: XML request bodies the spec documents, a malformed
enrollment id, the token before the parameters, `Allow` on 405, values XML cannot carry, deepObject dates.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.serve import build_app
from reconciler.sandbox.store.database import Store
from tests.providers.test_ispring_provider import ACME, CREDS
from tests.support.openapi_conformance import violations


@pytest.fixture
def client() -> httpx.Client:
    store = Store.open(":memory:")
    seed_store(store, ACME)
    app = build_app("ispring", store, None, None)
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.ispring.invalid")


@pytest.fixture
def auth(client: httpx.Client) -> dict[str, str]:
    form = {**{k: CREDS[k] for k in ("client_id", "client_secret")}, "grant_type": "client_credentials"}
    token = client.post("/api/v3/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def conforming(response: httpx.Response) -> httpx.Response:
    """`response`, after checking it is an answer the spec documents (some requests here are invalid)."""
    assert [v for v in violations(response.request, response) if v.startswith("response")] == []
    return response


def enrollment_ids(client: httpx.Client, auth: dict[str, str]) -> list[str]:
    rows = client.get("/enrollments", headers=auth, params={"pageSize": 1000}).json()["enrollments"]
    return [row["enrollmentId"] for row in rows]


def test_a_removal_in_the_documented_xml_body_removes(client: httpx.Client, auth: dict[str, str]) -> None:
    first, *rest = enrollment_ids(client, auth)
    body = f"<request><enrollmentIds><id>{first}</id></enrollmentIds></request>".encode()
    headers = {**auth, "Content-Type": "application/xml"}
    assert conforming(client.post("/enrollment/delete", content=body, headers=headers)).status_code == 204
    assert enrollment_ids(client, auth) == rest


def test_an_empty_removal_list_removes_nothing(client: httpx.Client, auth: dict[str, str]) -> None:
    before = enrollment_ids(client, auth)
    response = client.post("/enrollment/delete", json={"enrollmentIds": []}, headers=auth)
    assert conforming(response).status_code == 204 and enrollment_ids(client, auth) == before


@pytest.mark.parametrize("ids", [["0"], [""], ["not-a-uuid"]])
def test_a_removal_id_that_is_no_uuid_is_a_400(
    client: httpx.Client, auth: dict[str, str], ids: list[str]
) -> None:
    response = client.post("/enrollment/delete", json={"enrollmentIds": ids}, headers=auth)
    assert response.status_code == 400 and set(response.json()) == {"code", "message"}


@pytest.mark.parametrize("path", ["/enrollment/0", "/enrollment/0/reenroll"])
def test_a_malformed_enrollment_id_in_the_path_is_a_documented_400(
    client: httpx.Client, auth: dict[str, str], path: str
) -> None:
    body = {"dueDateType": "unlimited", "accessDate": "2026-01-01"}
    response = client.post(path, json=body, headers=auth)
    assert conforming(response).status_code == 400


def test_without_a_token_a_bad_body_is_still_a_401(client: httpx.Client) -> None:
    response = client.post("/enrollment/delete", json={"enrollmentIds": []})
    assert conforming(response).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "allow"), [("TRACE", "/users", "GET"), ("GET", "/enrollment", "POST")]
)
def test_a_405_names_the_method_allowed(client: httpx.Client, method: str, path: str, allow: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == allow


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/enrollments", {"courseIds[]": "\x01"}),
        ("/users", {"emails[]": "a\x1fb"}),
        ("/learners/results", {"accessDate[startDate][x]": "1"}),
        ("/learners/results", {"accessDate[startDate]": "\u00df"}),
    ],
)
def test_unreadable_parameters_are_a_400_not_a_server_error(
    client: httpx.Client, auth: dict[str, str], path: str, params: dict[str, Any]
) -> None:
    response = client.get(path, params=params, headers=auth)
    assert response.status_code == 400 and set(response.json()) == {"code", "message"}


def test_deep_object_date_ranges_filter_results(client: httpx.Client, auth: dict[str, str]) -> None:
    def results(**dates: str) -> list[Any]:
        params = {"pageSize": 1000, **dates}
        return list(
            conforming(client.get("/learners/results", params=params, headers=auth)).json()["results"]
        )

    everything = results()
    assert everything and results(**{"accessDate[startDate]": "2000-01-01T00:00:00+00:00"}) == everything
    assert results(**{"accessDate[startDate]": "2099-01-01T00:00:00+00:00"}) == []


def _logins(client: httpx.Client, auth: dict[str, str], params: dict[str, Any]) -> set[str]:
    response = conforming(client.get("/users", headers=auth, params={"pageSize": 100, **params}))
    assert response.status_code == 200, response.text
    return {row["fields"]["login"] for row in response.json()["userProfiles"]}


def _ids(client: httpx.Client, auth: dict[str, str], path: str, key: str, id_key: str) -> dict[str, str]:
    rows = client.get(path, headers=auth, params={"pageSize": 100}).json()[key]
    return {row["name"]: row[id_key] for row in rows}


def test_the_user_list_filters_by_department_group_login_and_email(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    departments = _ids(client, auth, "/departments", "departments", "departmentId")
    groups = _ids(client, auth, "/groups", "groups", "groupId")
    everyone = _logins(client, auth, {})
    assert len(everyone) == 5
    # a department selects its own members, not its sub-departments' (inferred, as GetUsers')
    assert _logins(client, auth, {"departments[]": [departments["Sales"]]}) == {
        "helen@acme.example",
        "kevin@acme.example",
    }
    both = [departments["EMEA"], departments["Ops"]]
    assert _logins(client, auth, {"departments[]": both}) == {
        "ivan@acme.example",
        "olga@acme.example",
        "gone@acme.example",
    }
    assert _logins(client, auth, {"groups[]": [groups["New hires"]]}) == {"helen@acme.example"}
    assert _logins(client, auth, {"logins[]": ["OLGA@acme.example", "nobody"]}) == {"olga@acme.example"}
    assert _logins(client, auth, {"emails[]": ["ivan@acme.example"]}) == {"ivan@acme.example"}
    # the filters together: all of them
    assert _logins(
        client, auth, {"departments[]": [departments["Sales"]], "groups[]": [groups["New hires"]]}
    ) == {"helen@acme.example"}

"""Each REST operation enrollctl uses, walked with valid and invalid inputs, judged by the vendor's spec.

Valid requests must conform and get a documented answer that conforms. Invalid ones (a wrong type, a
missing required field, no token) must be flagged by the checker and refused by the emulator with a
status and body the spec documents for that operation. The last test shows the checker can fail.
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

BASE_URL = "http://sandbox.ispring.invalid"


@pytest.fixture(scope="module")
def client() -> httpx.Client:
    store = Store.open(":memory:")
    seed_store(store, ACME)
    return httpx.Client(
        transport=httpx.WSGITransport(app=build_app("ispring", store, None, None)), base_url=BASE_URL
    )


@pytest.fixture(scope="module")
def auth(client: httpx.Client) -> dict[str, str]:
    form = {
        "client_id": CREDS["client_id"],
        "client_secret": CREDS["client_secret"],
        "grant_type": "client_credentials",
    }
    response = client.post("/api/v3/token", data=form, headers={"Accept": "application/json"})
    assert not violations(response.request, response)
    return {"Authorization": f"Bearer {response.json()['access_token']}", "Accept": "application/json"}


@pytest.fixture(scope="module")
def ids(client: httpx.Client, auth: dict[str, str]) -> dict[str, str]:
    users = client.get("/users", headers=auth).json()["userProfiles"]
    items = client.get("/contents", headers=auth).json()["contentItems"]
    enrollments = client.get("/enrollments", headers=auth).json()["enrollments"]
    return {
        "user": users[0]["userId"],
        "course": next(i["contentItemId"] for i in items if i["contentItemType"] == "Course"),
        "enrollment": enrollments[0]["enrollmentId"],
    }


def send(client: httpx.Client, auth: dict[str, str], method: str, path: str, **kwargs: Any) -> httpx.Response:
    return client.request(method, path, headers=auth, **kwargs)


PAGED_READS = [
    ("/users", {"pageSize": 2}),
    ("/departments", {"pageSize": 2}),
    ("/contents", {"pageSize": 1}),
    ("/enrollments", {"pageSize": 1}),
    ("/learners/results", {"pageSize": 1, "userStatuses": [1, 3]}),
]


@pytest.mark.parametrize(("path", "params"), PAGED_READS)
def test_valid_paged_reads_and_their_continuations_conform(
    client: httpx.Client, auth: dict[str, str], path: str, params: dict[str, Any]
) -> None:
    response = send(client, auth, "GET", path, params=params)
    assert response.status_code == 200 and violations(response.request, response) == []
    token = response.json()["nextPageToken"]  # a page smaller than the sandbox's list: there is more
    more = send(client, auth, "GET", path, params={**params, "pageToken": token})
    assert more.status_code == 200 and violations(more.request, more) == []


def test_a_valid_unpaged_read_conforms(client: httpx.Client, auth: dict[str, str]) -> None:
    response = send(client, auth, "GET", "/groups")
    assert response.status_code == 200 and violations(response.request, response) == []


def test_valid_writes_conform(client: httpx.Client, auth: dict[str, str], ids: dict[str, str]) -> None:
    body = {
        "courseIds": [ids["course"]],
        "learnerIds": [ids["user"]],
        "dueDateType": "due_period",
        "duePeriod": 48,
    }
    enrolled = send(client, auth, "POST", "/enrollment", json=body)
    assert enrolled.status_code == 201 and violations(enrolled.request, enrolled) == []
    change = {"accessDate": "2026-01-01 00:00:00", "dueDateType": "unlimited", "lockAfterDueDate": False}
    changed = send(client, auth, "POST", f"/enrollment/{ids['enrollment']}", json=change)
    assert changed.status_code == 200 and violations(changed.request, changed) == []
    deleted = send(client, auth, "POST", "/enrollment/delete", json={"enrollmentIds": [ids["enrollment"]]})
    assert deleted.status_code == 204 and violations(deleted.request, deleted) == []


INVALID = [
    ("GET", "/enrollments", {"params": {"pageSize": "many"}}, 400),
    ("POST", "/enrollment", {"json": {"courseIds": [], "learnerIds": []}}, 400),  # no dueDateType
    ("POST", "/enrollment/delete", {"json": {}}, 400),  # no enrollmentIds
    ("POST", "/enrollment/00000000-0000-4000-8000-000000000000", {"json": {"dueDateType": "never"}}, 400),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), INVALID)
def test_invalid_requests_are_flagged_and_refused_as_documented(
    client: httpx.Client, auth: dict[str, str], method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = send(client, auth, method, path, **kwargs)
    found = violations(response.request, response)
    assert response.status_code == status
    assert any(v.startswith("request") for v in found), found
    assert not [v for v in found if v.startswith("response")], found
    assert set(response.json()) == {"code", "message"}


def test_a_forged_page_token_conforms_but_is_refused_as_documented(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    # a forged page token is a valid string: only the emulator can refuse it, with a documented 400
    response = send(client, auth, "GET", "/users", params={"pageToken": "forged"})
    assert response.status_code == 400
    assert violations(response.request, response) == []
    assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize("path", ["/users", "/enrollments", "/learners/results"])
def test_no_token_is_a_documented_401(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert [v for v in violations(response.request, response) if v.startswith("response")] == []


def test_the_checker_flags_undocumented_statuses_and_shapes(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    request = client.build_request("GET", "/users", headers=auth)
    teapot = httpx.Response(418, json={"code": 418, "message": "no"}, request=request)
    renamed = httpx.Response(200, json={"users": []}, request=request)
    html = httpx.Response(
        500, text="<html>oops</html>", headers={"content-type": "text/html"}, request=request
    )
    for response in (teapot, renamed, html):
        assert [v for v in violations(request, response) if v.startswith("response")]

"""The REST emulator's `POST /enrollment/{id}/reenroll`: a new attempt from the same store, the earlier result
kept as history, every exchange judged by the vendor's OpenAPI spec (openapi-core)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from reconciler.sandbox.org.load import item_uuid, parse_org, seed_store, user_uuid
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app
from reconciler.sandbox.store import compliance
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import EnrollmentRow
from tests.support.openapi_conformance import violations

ORG = """
departments: [{name: Acme, children: [{name: Sales}, {name: Ops}]}]
users:
  - {login: ann@acme.example, department: Acme/Sales}
  - {login: bob@acme.example, department: Acme/Ops}
  - {login: kim@acme.example, department: Acme/Sales, role: department_administrator, manages: [Acme/Sales]}
courses: [{title: Security}]
enrollments:
  - {user: ann@acme.example, course: Security, status: passed, completed: 2025-10-01, score: 91}
  - {user: bob@acme.example, course: Security, status: complete, completed: 2025-09-01}
"""
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
CREDS = SANDBOX_CREDENTIALS["ispring"]
A_YEAR_DUE = {"accessDate": "2026-11-25", "dueDateType": "due_period", "duePeriod": 720}


@pytest.fixture
def store() -> Store:
    store = Store.open(":memory:")
    seed_store(store, parse_org(ORG))
    return store


@pytest.fixture
def client(store: Store) -> httpx.Client:
    app = build_app("ispring", store, None, lambda: NOW)
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.ispring.invalid")


def _headers(client: httpx.Client, *, department_admin: bool = False) -> dict[str, str]:
    prefix = "department_admin_" if department_admin else ""
    form = {
        "client_id": CREDS[f"{prefix}client_id"],
        "client_secret": CREDS[f"{prefix}client_secret"],
        "grant_type": "client_credentials",
    }
    token = client.post("/api/v3/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _enrollment(store: Store, login: str) -> EnrollmentRow:
    found = store.find_enrollment(user_uuid(login), item_uuid("Security"))
    assert found is not None
    return found


def _reenroll(client: httpx.Client, enrollment_id: str, body: Any, **headers: str) -> httpx.Response:
    sent = headers or _headers(client)
    return client.post(f"/enrollment/{enrollment_id}/reenroll", json=body, headers=sent)


def test_reenroll_starts_a_new_attempt_and_keeps_the_earlier_result_as_history(
    store: Store, client: httpx.Client
) -> None:
    before = _enrollment(store, "ann@acme.example")
    response = _reenroll(client, before.uuid, {**A_YEAR_DUE, "lockAfterDueDate": True})
    assert (response.status_code, response.content) == (200, b"")
    assert violations(response.request, response) == []
    after = _enrollment(store, "ann@acme.example")
    assert after.uuid == before.uuid  # the same enrollment, started over
    assert (after.progress.status, after.progress.progress, after.progress.completion_date) == (
        "not_started",
        0.0,
        None,
    )
    assert after.terms.access_date == dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    assert (after.terms.due_type, after.terms.due_period_hours, after.terms.lock_after_due) == (
        "due_period",
        720,
        True,
    )
    assert after.terms.due_date == dt.datetime(2026, 12, 25, tzinfo=dt.UTC)
    assert after.assigned_date == NOW
    (earlier,) = compliance.history(store, before.uuid)
    assert (earlier.progress.status, earlier.progress.score) == ("passed", 91)
    assert earlier.progress.completion_date == dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    assert (earlier.access_date, earlier.ended_at) == (before.terms.access_date, NOW)
    assert [n.kind for n in store.notifications("ispring")] == ["reenrolled"]
    (logged,) = [e for e in store.request_log() if e.action == "Reenroll"]
    assert "earlier one (passed 2025-10-01) kept in the history" in logged.detail
    assert compliance.history(store, _enrollment(store, "bob@acme.example").uuid) == []  # only ann's


def test_the_learner_results_show_the_new_attempt(store: Store, client: httpx.Client) -> None:
    headers = _headers(client)
    ann = _enrollment(store, "ann@acme.example")
    assert _reenroll(client, ann.uuid, A_YEAR_DUE, **headers).status_code == 200
    response = client.get("/learners/results", params={"userIds": ann.user_uuid}, headers=headers)
    assert violations(response.request, response) == []
    (result,) = response.json()["results"]
    assert (result["completionStatus"], result["progress"]) == ("not_started", 0)
    assert "completionDate" not in result


def test_each_reenroll_is_one_more_attempt_in_the_history(store: Store, client: httpx.Client) -> None:
    headers = _headers(client)
    ann = _enrollment(store, "ann@acme.example")
    for _ in range(2):
        assert _reenroll(client, ann.uuid, A_YEAR_DUE, **headers).status_code == 200
    assert [a.progress.status for a in compliance.history(store, ann.uuid)] == ["passed", "not_started"]


INVALID = [
    ({"dueDateType": "unlimited"}, "accessDate is required"),  # the spec requires accessDate
    ({"accessDate": "2026-11-25"}, "dueDateType"),  # ... and dueDateType
    ({"accessDate": "2026-11-25", "dueDateType": "never"}, "dueDateType"),
    ({"accessDate": "2026-11-25", "dueDateType": "due_period", "duePeriod": "soon"}, ""),
]


@pytest.mark.parametrize(("body", "why"), INVALID)
def test_a_body_the_spec_refuses_is_a_documented_400_and_changes_nothing(
    store: Store, client: httpx.Client, body: dict[str, Any], why: str
) -> None:
    ann = _enrollment(store, "ann@acme.example")
    response = _reenroll(client, ann.uuid, body)
    assert response.status_code == 400
    found = violations(response.request, response)
    assert any(v.startswith("request") for v in found), found  # the checker refuses the request too
    assert not [v for v in found if v.startswith("response")], found
    assert set(response.json()) == {"code", "message"}
    (logged,) = [e for e in store.request_log() if e.action == "Reenroll"]
    assert why in logged.detail
    assert _enrollment(store, "ann@acme.example") == ann
    assert compliance.history(store, ann.uuid) == []


def test_an_unknown_enrollment_is_a_400_the_spec_documents(client: httpx.Client) -> None:
    response = _reenroll(client, "00000000-0000-4000-8000-000000000000", A_YEAR_DUE)
    assert response.status_code == 400
    assert response.json()["message"] == "Unknown Enrollment"
    assert violations(response.request, response) == []


def test_a_department_administrator_cannot_reenroll_outside_their_departments(
    store: Store, client: httpx.Client
) -> None:
    headers = _headers(client, department_admin=True)
    bob = _enrollment(store, "bob@acme.example")  # in Ops; the administrator manages Sales
    response = _reenroll(client, bob.uuid, A_YEAR_DUE, **headers)
    assert response.status_code == 403 and violations(response.request, response) == []
    assert _enrollment(store, "bob@acme.example") == bob
    ann = _enrollment(store, "ann@acme.example")
    assert _reenroll(client, ann.uuid, A_YEAR_DUE, **headers).status_code == 200


def test_no_token_is_a_documented_401(store: Store, client: httpx.Client) -> None:
    ann = _enrollment(store, "ann@acme.example")
    response = client.post(f"/enrollment/{ann.uuid}/reenroll", json=A_YEAR_DUE)
    assert response.status_code == 401
    assert [v for v in violations(response.request, response) if v.startswith("response")] == []


def test_litmos_reset_keeps_the_earlier_attempt_too(store: Store) -> None:
    bob = _enrollment(store, "bob@acme.example")
    assert compliance.reset(store, bob.uuid, NOW)  # what the Litmos emulator's PUT .../reset calls
    after = _enrollment(store, "bob@acme.example")
    assert (after.progress.status, after.terms.access_date, after.terms.due_type) == (
        "not_started",
        NOW,
        bob.terms.due_type,
    )
    (earlier,) = compliance.history(store, bob.uuid)
    assert earlier.progress.completion_date == dt.datetime(2025, 9, 1, tzinfo=dt.UTC)

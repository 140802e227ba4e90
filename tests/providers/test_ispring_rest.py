"""The iSpring provider over REST v3 against the sandbox, every exchange validated against the vendor's spec.

Each client here sends through `ConformanceTransport`: a request the provider makes, or an answer the
emulator gives, that the published OpenAPI spec does not document fails the test (openapi-core judges).
"""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from reconciler.core.model import Completion, ItemKind, Origin
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.errors import AuthError, ProtocolError, ProviderError
from reconciler.providers.base import Credentials
from reconciler.providers.ispring.provider import IspringOptions, IspringProvider
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.org.spec import OrgSpec
from reconciler.sandbox.serve import build_app
from reconciler.sandbox.store.database import Store
from tests.providers.test_ispring_provider import (
    ACME,
    ADMIN,
    BY_NEW_YEAR,
    DEPARTMENT_ADMIN,
    IN_30_DAYS,
    add,
    provider,
)
from tests.support.openapi_conformance import ConformanceTransport
from tests.support.rewrite import BodyRewriter, Rewrite, rename_key, replace_text

BASE_URL = "http://sandbox.ispring.invalid/"


def rest_sandbox(
    org: OrgSpec = ACME, rules: tuple[tuple[str, Rewrite], ...] = ()
) -> tuple[Store, httpx.Client]:
    """The emulator behind the spec check (and, if given, answers rewritten into wrong shapes)."""
    store = Store.open(":memory:")
    seed_store(store, org)
    app = BodyRewriter(build_app("ispring", store, None, None), rules=list(rules))
    checked = ConformanceTransport(httpx.WSGITransport(app=app), strict=not rules)
    return store, httpx.Client(transport=checked, base_url=BASE_URL)


def rest(client: httpx.Client, credentials: Credentials = ADMIN) -> IspringProvider:
    return provider(client, credentials, api="rest")


def soap_twin(org: OrgSpec) -> IspringProvider:
    store = Store.open(":memory:")
    seed_store(store, org)
    app = build_app("ispring", store, None, None)
    return provider(httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL))


def all_enrollments(p: IspringProvider) -> dict[tuple[str, str], object]:
    directory = p.read_directory()
    return {e.key: e for e in p.read_enrollments(directory, frozenset(i.id for i in directory.items))}


# --- reads -----------------------------------------------------------------------------------------------


def test_rest_reads_the_same_directory_and_enrollments_as_soap() -> None:
    org = generate_org(60, departments=8, groups=4, courses=6, learning_paths=2, seed=5)
    _, client = rest_sandbox(org)
    over_rest, over_soap = rest(client), soap_twin(org)
    assert over_rest.read_directory() == over_soap.read_directory()
    assert all_enrollments(over_rest) == all_enrollments(over_soap)
    assert client._transport.checked  # type: ignore[attr-defined]


def test_rest_pages_follow_next_page_token_to_the_end() -> None:
    org = generate_org(40, departments=3, groups=2, courses=9, learning_paths=0, seed=2)
    _, client = rest_sandbox(org)
    p = provider(client, api="rest", options=IspringOptions(page_size=7))
    directory = p.read_directory()
    assert len(directory.users) == 40
    enrolled = p.read_enrollments(directory, frozenset(i.id for i in directory.items))
    assert {e.key: e for e in enrolled} == all_enrollments(soap_twin(org))
    assert p.http.stats.calls["ListUsers"] == 6 and p.http.stats.calls["ListContent"] == 2
    assert p.http.stats.calls["ListEnrollments"] > 1 and p.http.stats.calls["ListLearnerResults"] > 1


def test_rest_reads_origin_progress_and_status() -> None:
    _, client = rest_sandbox()
    p = rest(client)
    users = {u.login: u for u in p.read_directory().users}
    assert users["gone@acme.example"].status.value == "employment_ended"
    found = list(all_enrollments(p).values())
    catalog = [e for e in found if e.origin is Origin.CATALOG]  # type: ignore[attr-defined]
    assert len(catalog) == 1
    assert {e.completion for e in found} >= {Completion.COMPLETED, Completion.IN_PROGRESS}  # type: ignore[attr-defined]


# --- fail closed -----------------------------------------------------------------------------------------

REST_READS = [
    ("GET /users", "ListUsers", rename_key("userProfiles", "users")),
    ("GET /departments", "ListDepartments", rename_key("departments", "items")),
    ("GET /groups", "ListGroups", rename_key("groups", "teams")),
    ("GET /contents", "ListContent", rename_key("contentItems", "items")),
    ("GET /enrollments", "ListEnrollments", rename_key("enrollments", "data")),
    ("GET /learners/results", "ListLearnerResults", rename_key("results", "learnerResults")),
    ("GET /users", "ListUsers", rename_key("userId", "id")),
    ("GET /enrollments", "ListEnrollments", rename_key("enrollmentId", "id")),
    ("GET /contents", "ListContent", replace_text('{"contentItems": [', '{"contentItems": [[], ')),
]


@pytest.mark.parametrize(("path", "call", "rewrite"), REST_READS)
def test_rest_listing_without_its_records_is_refused_naming_the_call(
    path: str, call: str, rewrite: Rewrite
) -> None:
    _, client = rest_sandbox(rules=((path, rewrite),))
    p = rest(client)
    with pytest.raises(ProtocolError) as caught:
        all_enrollments(p)
    assert caught.value.call == call


def test_rest_html_error_page_is_an_error_naming_the_call_never_an_empty_list() -> None:
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    _, client = rest_sandbox(rules=(("GET /groups", lambda _: html),))
    with pytest.raises(ProtocolError) as caught:
        rest(client).read_directory()
    assert caught.value.call == "ListGroups" and "not JSON" in str(caught.value)


def test_rest_unreadable_progress_and_dates_make_the_enrollment_unknown() -> None:
    rules = (
        ("GET /learners/results", replace_text('"progress": 40.0', '"progress": "40,00"')),
        ("GET /enrollments", replace_text('"enrollmentTypeGroup": 1', '"enrollmentTypeGroup": 7')),
    )
    _, client = rest_sandbox(rules=rules)
    found = list(all_enrollments(rest(client)).values())
    unknown = {e.user_id: e.unknown for e in found if e.unknown}  # type: ignore[attr-defined]
    assert len(unknown) == 2
    assert any("40,00" in reason for reason in unknown.values())
    assert any("enrollmentTypeGroup" in reason for reason in unknown.values())


def test_rest_bad_credentials_are_an_auth_error_at_the_token_call() -> None:
    _, client = rest_sandbox()
    with pytest.raises(AuthError) as caught:
        rest(client, Credentials(client_id="nobody", client_secret="wrong")).read_directory()
    assert caught.value.call == "token"


def test_rest_static_token_refused_is_an_auth_error_naming_the_call() -> None:
    _, client = rest_sandbox()
    with pytest.raises(AuthError) as caught:
        rest(client, Credentials(token="not-a-token")).read_directory()
    assert caught.value.call == "ListDepartments" and "401" in str(caught.value)


# --- writes ----------------------------------------------------------------------------------------------


def test_rest_enroll_change_and_batched_removal_round_trip() -> None:
    _, client = rest_sandbox()
    p = rest(client)
    directory = p.read_directory()
    users = {u.login: u.id for u in directory.users}
    items = {i.title: i.id for i in directory.items}
    learners = [users["helen@acme.example"], users["ivan@acme.example"], users["olga@acme.example"]]
    adds = [add(u, items["Forklift Safety"]) for u in learners]
    assert set(write_all(p, adds).values()) == {OutcomeStatus.DONE}
    assert p.http.stats.calls["EnrollLearnersInCourses"] == 1  # one rectangle, one call

    before = all_enrollments(p)
    helen = before[(learners[0], items["Forklift Safety"])]
    update = Action(
        ActionKind.UPDATE,
        learners[0],
        "helen",
        items["Forklift Safety"],
        ItemKind.COURSE,
        "F",
        terms=BY_NEW_YEAR,
        before=helen,
    )  # type: ignore[arg-type]
    assert write_all(p, [update]) == {update.id: OutcomeStatus.DONE}
    changed = all_enrollments(p)[helen.key]  # type: ignore[attr-defined]
    assert changed.due.date() == dt.date(2027, 1, 1) and changed.lock_after_due  # type: ignore[attr-defined]
    assert changed.access == helen.access  # type: ignore[attr-defined]  # the full replace re-sent it

    now = all_enrollments(p)
    removals = [
        Action(
            ActionKind.REMOVE,
            u,
            u,
            items["Forklift Safety"],
            ItemKind.COURSE,
            "F",
            before=now[(u, items["Forklift Safety"])],
        )  # type: ignore[arg-type]
        for u in learners
    ]
    assert [b.kind for b in p.batches(removals)] == [ActionKind.REMOVE]  # one batch, one call
    assert set(write_all(p, removals).values()) == {OutcomeStatus.DONE}
    assert p.http.stats.calls["Unenroll"] == 1
    assert not any(key[1] == items["Forklift Safety"] for key in all_enrollments(p))
    # re-applying: the ids are gone; the call succeeds and changes nothing
    assert set(write_all(p, removals).values()) == {OutcomeStatus.DONE}


def test_rest_write_outside_the_department_scope_fails_with_the_scope_hint() -> None:
    _, client = rest_sandbox()
    admin = rest(client)
    directory = admin.read_directory()
    olga = next(u.id for u in directory.users if u.login == "olga@acme.example")  # in Ops, not Sales
    course = next(i.id for i in directory.items if i.title == "Forklift Safety")
    scoped = rest(client, DEPARTMENT_ADMIN)
    action = add(olga, course, IN_30_DAYS)
    [outcome] = [o for b in scoped.batches([action]) for o in scoped.write(b)]
    assert outcome.status is OutcomeStatus.FAILED and "403" in outcome.detail
    assert "department administrator" in outcome.detail


def test_rest_refused_write_is_failed_not_resent() -> None:
    _, client = rest_sandbox()
    p = rest(client)
    directory = p.read_directory()
    helen = next(u.id for u in directory.users if u.login == "helen@acme.example")
    action = add(helen, "00000000-0000-4000-8000-000000000000")
    [outcome] = [o for b in p.batches([action]) for o in p.write(b)]
    assert outcome.status is OutcomeStatus.FAILED and "400" in outcome.detail
    assert p.http.stats.calls["EnrollLearnersInCourses"] == 1


def write_all(p: IspringProvider, actions: list[Action]) -> dict[str, OutcomeStatus]:
    return {o.action_id: o.status for b in p.batches(actions) for o in p.write(b)}


def test_rest_server_error_is_a_provider_error() -> None:
    def fail(_: bytes) -> bytes:
        return json.dumps({"code": 500, "message": "boom"}).encode()

    _, client = rest_sandbox(rules=(("GET /departments", fail),))
    # the body is an object without `departments`: refused as a protocol error, naming the call
    with pytest.raises(ProviderError) as caught:
        rest(client).read_directory()
    assert caught.value.call == "ListDepartments"

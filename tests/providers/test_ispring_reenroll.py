"""Re-enrolling on iSpring (`recur:`): REST's `POST /enrollment/{id}/reenroll` sent by the provider, checked
against the vendor's OpenAPI spec; a lost answer is unknown, never sent again; SOAP cannot and says so."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import httpx

from reconciler.core.model import Completion, Enrollment, ItemKind, Terms
from reconciler.core.period import Recurrence
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.providers.ispring.provider import IspringProvider
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.serve import build_app
from reconciler.sandbox.store import compliance
from reconciler.sandbox.store.database import Store
from tests.providers.test_ispring_provider import ACME, IN_30_DAYS, provider
from tests.providers.test_ispring_rest import BASE_URL, rest, rest_sandbox
from tests.support.openapi_conformance import ConformanceTransport

TODAY = dt.date(2026, 11, 25)
YEARLY = dataclasses.replace(IN_30_DAYS, recur=Recurrence(months=12))


def _reenroll(p: IspringProvider, login: str, title: str, terms: Terms = YEARLY) -> Action:
    directory = p.read_directory()
    user = next(u for u in directory.users if u.login == login)
    item = next(i for i in directory.items if i.title == title)
    (held,) = p.read_enrollments(directory, frozenset({item.id}), frozenset({user.id}))
    return Action(
        ActionKind.REENROLL, user.id, login, item.id, item.kind, title, terms=terms, before=held,
        changes=("completed 2025-10-01; every 12 months from completion",),
    )  # fmt: skip


def _held(p: IspringProvider, action: Action) -> Enrollment:
    directory = p.read_directory()
    (held,) = p.read_enrollments(directory, frozenset({action.item_id}), frozenset({action.user_id}))
    return held


def _write(p: IspringProvider, action: Action) -> list[tuple[str, OutcomeStatus]]:
    return [(o.action_id, o.status) for b in p.batches([action]) for o in p.write(b)]


def test_the_rest_provider_reenrolls_courses_and_learning_tracks_soap_neither() -> None:
    _, client = rest_sandbox()
    assert rest(client).capabilities.reenroll == {ItemKind.COURSE, ItemKind.LEARNING_PATH}
    assert provider(client, api="soap").capabilities.reenroll == frozenset()


def test_reenroll_over_rest_starts_the_completed_enrollment_over_with_the_wanted_terms() -> None:
    store, client = rest_sandbox()
    p = rest(client)
    p.api.today = lambda: TODAY  # type: ignore[attr-defined]
    action = _reenroll(p, "helen@acme.example", "Security Awareness")
    assert action.before is not None and action.before.completion is Completion.COMPLETED
    assert _write(p, action) == [(action.id, OutcomeStatus.DONE)]
    assert p.http.stats.calls["Reenroll"] == 1
    transport = client._transport
    assert isinstance(transport, ConformanceTransport)
    sent = f"POST /enrollment/{action.before.id}/reenroll 200"
    assert sent in transport.checked and transport.violations == []  # openapi-core found the call valid
    held = _held(p, action)
    assert held.id == action.before.id  # the same enrollment, a new attempt
    assert (held.completion, held.progress, held.completed_at) == (Completion.NOT_STARTED, 0.0, None)
    assert held.access is not None and held.access.date() == TODAY  # no `access:` in the policy: today
    assert held.due is not None and held.due.date() == TODAY + dt.timedelta(days=30)  # duePeriod: 720 h
    (earlier,) = compliance.history(store, action.before.id)  # the vendor keeps the earlier result
    assert earlier.progress.status == "complete"


def test_the_policys_access_date_is_sent_as_the_new_attempts_access_date() -> None:
    _, client = rest_sandbox()
    bodies: list[dict[str, object]] = []
    inner = client._transport

    def spy(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/reenroll"):
            bodies.append(json.loads(request.content))
        return inner.handle_request(request)

    client._transport = httpx.MockTransport(spy)
    p = rest(client)
    terms = dataclasses.replace(YEARLY, access=dt.date(2026, 12, 1), lock_after_due=True)
    action = _reenroll(p, "helen@acme.example", "Security Awareness", terms)
    assert _write(p, action) == [(action.id, OutcomeStatus.DONE)]
    assert bodies == [
        {"accessDate": "2026-12-01", "dueDateType": "due_period", "duePeriod": 720, "lockAfterDueDate": True}
    ]


def test_a_lost_answer_is_unknown_and_the_call_is_not_sent_again() -> None:
    store = Store.open(":memory:")
    seed_store(store, ACME)
    faults = Faults(drop_after_commit_rates={"Reenroll": 1.0})
    app = build_app("ispring", store, faults, None)
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL)
    p = rest(client)
    action = _reenroll(p, "helen@acme.example", "Security Awareness")
    assert _write(p, action) == [(action.id, OutcomeStatus.UNKNOWN)]
    assert p.http.stats.calls["Reenroll"] == 1  # not resent: apply settles it by reading back
    assert action.before is not None and len(compliance.history(store, action.before.id)) == 1  # one attempt


def test_a_refused_reenroll_is_failed_with_the_vendors_message() -> None:
    store, client = rest_sandbox()
    p = rest(client)
    action = _reenroll(p, "helen@acme.example", "Security Awareness")
    assert action.before is not None
    store.delete_enrollment(action.before.id)  # gone since the plan: the vendor refuses the id
    [outcome] = [o for b in p.batches([action]) for o in p.write(b)]
    assert outcome.status is OutcomeStatus.FAILED and "Unknown Enrollment" in outcome.detail


def test_over_soap_nothing_is_sent_and_the_outcome_says_why() -> None:
    store = Store.open(":memory:")
    seed_store(store, ACME)
    app = build_app("ispring", store, None, None)
    p = provider(httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL), api="soap")
    action = _reenroll(p, "helen@acme.example", "Security Awareness")
    calls = p.call_count()
    [outcome] = [o for b in p.batches([action]) for o in p.write(b)]
    assert outcome.status is OutcomeStatus.FAILED and "api: rest" in outcome.detail
    assert p.call_count() == calls

"""The Litmos emulator as the sandbox builds and serves it: test credentials, fault switches, real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from lxml import etree

from reconciler.sandbox.faults import Burst, Faults
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app, open_sandbox, serve
from reconciler.sandbox.store.database import Store
from tests.support.litmos_org import FakeClock, acme, params

CREDS = SANDBOX_CREDENTIALS["litmos"]
BASE = "http://sandbox.test/v1.svc"


def litmos_client(
    store: Store, faults: Faults | None = None, clock: FakeClock | None = None, key: str = CREDS["api_key"]
) -> httpx.Client:
    app = build_app("litmos", store, faults, clock or FakeClock())
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE, headers={"apikey": key})


@pytest.fixture
def store() -> Store:
    return acme().store()


def test_both_sandbox_keys_are_accepted_and_others_refused(store: Store) -> None:
    for key in (CREDS["api_key"], CREDS["second_api_key"]):
        with litmos_client(store, key=key) as api:
            assert api.get("/users", params={"source": CREDS["source"]}).status_code == 200
    with litmos_client(store, key="not-a-key") as api:
        assert api.get("/users", params=params()).status_code == 403


def test_the_default_limit_is_100_per_minute_with_503(store: Store) -> None:
    with litmos_client(store) as api:
        statuses = [api.get("/courses", params=params()).status_code for _ in range(101)]
    assert statuses[:100] == [200] * 100
    assert statuses[100] == 503


def test_fault_switches_set_the_rate_limit_and_the_429_status(store: Store) -> None:
    faults = Faults(rate_limit_per_minute=3, rate_limit_status=429)
    clock = FakeClock()
    with litmos_client(store, faults, clock) as api:
        statuses = [api.get("/courses", params=params()).status_code for _ in range(4)]
        refused = api.get("/courses", params=params(format="json"))
        clock.advance(60)
        again = api.get("/courses", params=params())
    assert statuses == [200, 200, 200, 429]
    assert refused.headers["Retry-After"] == "60" and "3 requests" in refused.json()["Detail"]
    assert again.status_code == 200


def test_each_key_has_its_own_budget(store: Store) -> None:
    app = build_app("litmos", store, Faults(rate_limit_per_minute=1), FakeClock())
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE) as api:
        first = {"apikey": CREDS["api_key"]}
        second = {"apikey": CREDS["second_api_key"]}
        assert api.get("/courses", params=params(), headers=first).status_code == 200
        assert api.get("/courses", params=params(), headers=first).status_code == 503
        assert api.get("/courses", params=params(), headers=second).status_code == 200


def test_error_rate_switch_answers_500_for_the_matching_calls(store: Store) -> None:
    with litmos_client(store, Faults(error_rates={"GET /users*": 1.0})) as api:
        assert api.get("/users", params=params()).status_code == 500
        assert api.get("/courses", params=params()).status_code == 200


def test_burst_switch_refuses_with_retry_after(store: Store) -> None:
    with litmos_client(store, Faults(burst=Burst(every=3, length=1, status=503, retry_after=7))) as api:
        answers = [api.get("/courses", params=params()) for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 503, 200, 200, 503]
    assert answers[2].headers["Retry-After"] == "7"


def test_truncated_bodies_do_not_parse(store: Store) -> None:
    with litmos_client(store, Faults(truncate_rate=1.0)) as api:
        response = api.get("/courses", params=params())
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)


def test_dropped_connections_reach_the_client_as_protocol_errors(store: Store) -> None:
    with litmos_client(store, Faults(drop_rate=1.0)) as api, pytest.raises(httpx.RemoteProtocolError):
        api.get("/courses", params=params())


def test_refused_and_answered_calls_are_all_in_the_request_log(store: Store) -> None:
    with litmos_client(store, Faults(error_rates={"GET /users": 1.0})) as api:
        api.get("/users", params=params())
        api.get("/courses", params=params())
    assert [(e.status, e.vendor) for e in store.request_log()] == [(500, "litmos"), (200, "litmos")]


def test_served_over_loopback_answers_and_stops_within_two_seconds(tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text("departments: [{name: Acme}]\nusers: [{login: a@acme.example, department: Acme}]\n")
    store = open_sandbox(str(org))
    server, url = serve(build_app("litmos", store))
    try:
        response = httpx.get(
            f"{url}/v1.svc/users",
            params={"source": CREDS["source"], "format": "json"},
            headers={"apikey": CREDS["api_key"]},
            timeout=5,
        )
        assert response.status_code == 200
        assert [u["UserName"] for u in response.json()] == ["a@acme.example"]
    finally:
        started = time.monotonic()
        server.close()
        assert time.monotonic() - started < 2
        store.close()

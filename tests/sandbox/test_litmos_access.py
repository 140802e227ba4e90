"""Litmos credentials (`apikey`, `source`), the 100-per-minute rate limit, and the request log."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from reconciler.sandbox.faults import Faults
from reconciler.sandbox.litmos.app import make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.store.database import Store
from tests.support.litmos_org import KEY, FakeClock, acme, client, params, xml


@pytest.fixture
def store() -> Store:
    return acme().store()


# --- credentials -------------------------------------------------------------------------------------


def test_missing_source_is_403_with_an_error_body(store: Store) -> None:
    with client(store) as api:
        response = api.get("/users", params={"format": "json"})
    assert response.status_code == 403
    assert "source" in response.json()["Detail"]


def test_missing_or_wrong_key_is_403(store: Store) -> None:
    with client(store, key="wrong") as api:
        wrong = api.get("/users", params=params())
    assert wrong.status_code == 403 and xml(wrong).tag == "Error"
    with client(store, key="") as api:
        missing = api.get("/users", params=params(format="json"))
    assert missing.status_code == 403 and "apikey" in missing.json()["Detail"]


def test_key_in_the_query_is_accepted_as_older_docs_send_it(store: Store) -> None:
    with client(store, key="") as api:
        response = api.get("/users", params=params(apikey=KEY))
    assert response.status_code == 200


def test_paths_outside_the_api_are_404(store: Store) -> None:
    with client(store) as api:
        assert api.get("https://api.litmos.com/v2/users", params=params()).status_code == 404
        assert api.get("/nothing", params=params()).status_code == 404


def test_wrong_method_is_405(store: Store) -> None:
    with client(store) as api:
        assert api.patch("/users", params=params()).status_code == 405


# --- rate limit --------------------------------------------------------------------------------------


def burst(api: httpx.Client, count: int) -> list[httpx.Response]:
    return [api.get("/courses", params=params()) for _ in range(count)]


def test_the_101st_request_in_a_minute_is_503_with_retry_after(store: Store) -> None:
    clock = FakeClock()
    with client(store, clock, RateLimit()) as api:
        assert {r.status_code for r in burst(api, 100)} == {200}
        clock.advance(20)
        refused = api.get("/courses", params=params(format="json"))
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "40"
    assert "100" in refused.json()["Detail"]


def test_the_throttle_status_can_be_429(store: Store) -> None:
    with client(store, FakeClock(), RateLimit(status=429)) as api:
        burst(api, 100)
        refused = api.get("/courses", params=params())
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_requests_are_allowed_again_after_the_window(store: Store) -> None:
    clock = FakeClock()
    with client(store, clock, RateLimit(requests_per_minute=5)) as api:
        burst(api, 5)
        assert api.get("/courses", params=params()).status_code == 503
        clock.advance(60)
        assert api.get("/courses", params=params()).status_code == 200


def test_the_limit_is_per_key(store: Store) -> None:
    clock = FakeClock()
    keys = ("key-one", "key-two")
    limit = RateLimit(requests_per_minute=3)
    with (
        client(store, clock, limit, "key-one", keys) as one,
        client(store, clock, limit, "key-two", keys) as two,
    ):
        burst(one, 3)
        assert one.get("/courses", params=params()).status_code == 503
        assert two.get("/courses", params=params()).status_code == 200


def test_refused_requests_do_not_extend_the_wait(store: Store) -> None:
    clock = FakeClock()
    with client(store, clock, RateLimit(requests_per_minute=2)) as api:
        burst(api, 2)
        burst(api, 10)
        clock.advance(60)
        assert api.get("/courses", params=params()).status_code == 200


# --- request log -------------------------------------------------------------------------------------


def test_every_request_is_logged_with_its_route_and_status(store: Store) -> None:
    with client(store, FakeClock(), RateLimit(requests_per_minute=2)) as api:
        api.get("/users", params=params())
        api.get("/users", params={})
        api.get("/users/nobody", params=params())
        api.get("/users", params=params())
    log = store.request_log("litmos")
    assert [(e.method, e.action, e.status) for e in log] == [
        ("GET", "GET /users", 200),
        ("GET", "GET /users", 403),
        ("GET", "GET /users/{user}", 404),
        ("GET", "GET /users", 503),
    ]
    assert all(e.path.startswith("/v1.svc/") for e in log)
    assert all(KEY not in e.client and KEY not in e.detail for e in log)


def test_fault_switches_given_directly_set_the_limit(store: Store) -> None:
    clock = FakeClock()
    app = make_litmos_app(store, Faults(rate_limit_per_minute=1, rate_limit_status=429), clock)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://x/v1.svc") as api:
        assert api.get("/courses", params=params(), headers={"apikey": KEY}).status_code == 200
        assert api.get("/courses", params=params(), headers={"apikey": KEY}).status_code == 429


# --- robustness --------------------------------------------------------------------------------------

_SEGMENTS = st.sampled_from(
    ["users", "teams", "courses", "learningpaths", "reset", "x", "helen@acme.example", "", "%00", "Users"]
)
_BODIES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"[]", b"{}", b'[{"Id": 1}]', b'[{"Id": {"a": 1}}]', b"<a/>", b"<a><b><Id/></b></a>"]),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    segments=st.lists(_SEGMENTS, max_size=5),
    query=st.dictionaries(
        st.sampled_from(["limit", "start", "search", "format", "showInactive"]), st.text(max_size=6)
    ),
    body=_BODIES,
)
def test_no_request_makes_the_emulator_fail(
    store: Store, method: str, segments: list[str], query: dict[str, str], body: bytes
) -> None:
    with client(store) as api:
        url = "https://api.litmos.com/v1.svc/" + "/".join(segments)
        response = api.request(method, url, params=params(**query), content=body)
    assert response.status_code in (200, 201, 400, 403, 404, 405)
    # the body is what its Content-Type says: JSON or XML that parses, or none at all without the header
    declared = response.headers.get("content-type", "").split(";")[0]
    assert declared in _DECODERS, declared
    _DECODERS[declared](response.content)


def _no_body(content: bytes) -> None:
    assert content == b"", "a body without a Content-Type"


_DECODERS = {"application/json": json.loads, "application/xml": etree.fromstring, "": _no_body}

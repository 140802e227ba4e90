"""The fault switches the reliability suite relies on do what they say (in-process, Litmos emulator)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from reconciler.errors import ConfigError
from reconciler.sandbox.faults import Burst, FaultInjector, Faults, faults_from_dict
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app, open_sandbox
from reconciler.sandbox.store.database import Store
from tests.support.paths import ROOT

ORG = ROOT / "examples" / "litmos" / "sandbox.yaml"
CREDS = SANDBOX_CREDENTIALS["litmos"]
ASSIGN = "POST /users/*/courses"


@pytest.fixture
def store() -> Iterator[Store]:
    store = open_sandbox(str(ORG))
    try:
        yield store
    finally:
        store.close()


def _client(app: object) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://sandbox.test/v1.svc",
        headers={"apikey": CREDS["api_key"]},
        params={"source": "test", "format": "json"},
    )


def _unassigned(store: Store) -> tuple[str, str, str, str]:
    """A user and a course they do not have: (litmos user id, litmos course id, user uuid, course uuid)."""
    held = {(e.user_uuid, e.item_uuid) for e in store.enrollments()}
    for user in store.users():
        for course in store.items("course"):
            if (user.uuid, course.uuid) not in held and user.status == "active" and course.active:
                return user.litmos_id, course.litmos_id, user.uuid, course.uuid
    raise AssertionError("the example org has no free (user, course) pair")


def _assign(api: httpx.Client, user: str, course: str) -> httpx.Response:
    return api.post(f"/users/{user}/courses", json=[{"Id": course}])


def test_drop_after_commit_loses_the_answer_but_the_write_is_made(store: Store) -> None:
    app = build_app("litmos", store, Faults(drop_after_commit_rates={ASSIGN: 1.0}))
    user, course, user_uuid, course_uuid = _unassigned(store)
    with _client(app) as api, pytest.raises(httpx.RemoteProtocolError):
        _assign(api, user, course)
    assert store.find_enrollment(user_uuid, course_uuid) is not None
    assert isinstance(app, FaultInjector) and app.injected["dropped after the app"] == 1
    assert [e.detail for e in store.request_log() if e.status == 0] == [
        "fault: dropped connection after the app answered"
    ]


def test_drop_before_the_app_loses_the_write(store: Store) -> None:
    app = build_app("litmos", store, Faults(drop_rates={ASSIGN: 1.0}))
    user, course, user_uuid, course_uuid = _unassigned(store)
    with _client(app) as api, pytest.raises(httpx.RemoteProtocolError):
        _assign(api, user, course)
    assert store.find_enrollment(user_uuid, course_uuid) is None


def test_per_method_switches_leave_other_methods_alone(store: Store) -> None:
    app = build_app("litmos", store, Faults(drop_rates={ASSIGN: 1.0}, malformed_rates={ASSIGN: 1.0}))
    with _client(app) as api:
        assert api.get("/courses").status_code == 200
        json.loads(api.get("/courses").content)


def test_a_slow_answer_is_held_back_after_the_write_is_made(store: Store) -> None:
    app = build_app("litmos", store, Faults(slow_rates={ASSIGN: 1.0}, slow_ms=700))
    assert isinstance(app, FaultInjector)
    user, course, user_uuid, course_uuid = _unassigned(store)
    seen: list[tuple[float, bool]] = []
    app.sleep = lambda seconds: seen.append(
        (seconds, store.find_enrollment(user_uuid, course_uuid) is not None)
    )
    with _client(app) as api:
        assert _assign(api, user, course).status_code < 300
    assert seen == [(0.7, True)]


def test_a_malformed_answer_keeps_its_length_and_does_not_parse(store: Store) -> None:
    clean = build_app("litmos", store, None)
    with _client(clean) as api:
        good = api.get("/courses").content
    app = build_app("litmos", store, Faults(malformed_rates={"GET *": 1.0}))
    with _client(app) as api:
        bad = api.get("/courses").content
    assert len(bad) == len(good) and bad != good
    with pytest.raises(ValueError):
        json.loads(bad)


def test_a_malformed_streak_garbles_each_request_n_times_in_a_row_then_answers_it_whole(store: Store) -> None:
    app = build_app("litmos", store, Faults(malformed_streaks={"GET *": 2}))
    with _client(app) as api:
        courses = [api.get("/courses").content for _ in range(6)]
        users = [api.get("/users").content for _ in range(3)]  # another request, its own streak
    assert [_parses(body) for body in courses] == [False, False, True, False, False, True]
    assert [_parses(body) for body in users] == [False, False, True]
    assert len({len(body) for body in courses}) == 1, "a garbled answer keeps its length"
    assert isinstance(app, FaultInjector) and app.injected["malformed body"] == 6


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def test_a_burst_without_retry_after_sends_no_header(store: Store) -> None:
    app = build_app("litmos", store, Faults(burst=Burst(every=1, length=1, status=429, retry_after=None)))
    with _client(app) as api:
        refused = api.get("/courses")
    assert refused.status_code == 429 and "Retry-After" not in refused.headers


def test_fault_files_take_the_new_switches_and_check_their_rates() -> None:
    faults = faults_from_dict(
        {"drop_after_commit_rates": {"Unenroll": 0.5}, "slow_rates": {"*": 1}, "burst": {"retry_after": None}}
    )
    assert faults.drop_after_commit_rates == {"Unenroll": 0.5} and faults.slow_rates == {"*": 1.0}
    assert faults.burst is not None and faults.burst.retry_after is None
    with pytest.raises(ConfigError):
        faults_from_dict({"malformed_rates": {"*": 1.5}})
    assert faults_from_dict({"malformed_streaks": {"GET *": 3}}).malformed_streaks == {"GET *": 3}
    with pytest.raises(ConfigError):
        faults_from_dict({"malformed_streaks": {"GET *": 0}})

"""The Litmos provider against the Litmos emulator over real HTTP (httpx.WSGITransport), in-process."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import AuthError, ConfigError
from reconciler.model import Directory, ItemKind, ProviderConfig, ProviderKind, UserStatus
from reconciler.plan import Action, ActionKind
from reconciler.providers import litmos_api
from reconciler.providers.base import Credentials, OutcomeStatus
from reconciler.providers.litmos import LitmosProvider, create
from reconciler.providers.litmos_read import ReadStrategy, plan_read
from reconciler.sandbox.faults import Burst, Faults
from reconciler.sandbox.litmos import DEFAULT_API_KEYS, make_litmos_app
from reconciler.sandbox.litmos_limits import RateLimit
from reconciler.sandbox.orgs import parse_org, seed_store
from reconciler.sandbox.serve import build_app
from reconciler.sandbox.store import Store

KEY = DEFAULT_API_KEYS[0]
BASE_URL = "http://litmos.sandbox/v1.svc"

ORG = """
departments:
  - name: Acme
    children:
      - name: Engineering
        children: [{name: Platform}, {name: Contractors}]
      - {name: Sales, children: [{name: EMEA}, {name: Americas}]}
groups: [New hires, Managers]
users:
  - {login: helen@acme.example, first_name: Helen, last_name: Jones, department: Acme/Sales/EMEA,
     groups: [Managers]}
  - {login: kevin@acme.example, department: Acme/Engineering/Platform, groups: [New hires]}
  - {login: ann@acme.example, department: Acme}
  - {login: ina@acme.example, department: Acme/Engineering, status: inactive}
courses: [{title: Security Awareness 2026}, {title: Anti-Bribery}]
learning_paths:
  - {title: Onboarding, courses: [Security Awareness 2026]}
enrollments:
  - {user: helen@acme.example, course: Anti-Bribery, status: complete, progress: 100, due: 2026-01-31}
  - {user: helen@acme.example, learning_path: Onboarding, status: not_started}
  - {user: ina@acme.example, course: Anti-Bribery, status: in_progress, progress: 30}
"""


def generated_org(users: int) -> str:
    """The small org plus a synthetic one of `users` users with a few enrollments each."""
    return ORG + (
        f"generate: {{users: {users}, departments: 12, groups: 4, courses: 6, learning_paths: 2,"
        " enrollments_per_user: 3, seed: 7}\n"
    )


@dataclass
class FakeClock:
    """One clock for the emulator and the client; sleeping advances it instantly."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def ticking(self, seconds: float) -> Callable[[], float]:
        """A monotonic clock that moves `seconds` on every reading (a slow vendor)."""

        def read() -> float:
            self.now += seconds
            return self.now

        return read

    def wall(self) -> dt.datetime:
        return dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=self.now)


class Recorder(httpx.BaseTransport):
    """Passes requests to the emulator, keeping each one; `rewrite` may change a request on the way."""

    def __init__(self, app: object, rewrite: Callable[[httpx.Request], httpx.Request] | None = None) -> None:
        self.inner = httpx.WSGITransport(app=app)  # type: ignore[arg-type]
        self.rewrite = rewrite
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(self.rewrite(request) if self.rewrite else request)

    def bodies(self, method: str, path: str) -> list[object]:
        return [json.loads(r.content) for r in self.requests if r.method == method and r.url.path == path]


@dataclass
class Sandbox:
    store: Store
    recorder: Recorder
    provider: LitmosProvider

    def directory(self) -> Directory:
        return self.provider.read_directory()


def sandbox(
    org: str = ORG,
    *,
    rewrite: Callable[[httpx.Request], httpx.Request] | None = None,
    clock: FakeClock | None = None,
    emulator_limit: int = 100_000,
    client_limit: int | None = 100_000,
    faults: Faults | None = None,
) -> Sandbox:
    store = Store.open(":memory:")
    seed_store(store, parse_org(org))
    if faults is not None:
        app = build_app("litmos", store, faults, clock.wall if clock else None)
    else:
        limit = RateLimit(requests_per_minute=emulator_limit)
        app = make_litmos_app(store, clock=clock.wall if clock else None, rate_limit=limit)
    recorder = Recorder(app, rewrite)
    client = httpx.Client(transport=recorder, base_url=BASE_URL)
    config = ProviderConfig(name="academy", kind=ProviderKind.LITMOS, requests_per_minute=client_limit)
    fake = clock or FakeClock()
    provider = create(config, client, Credentials(api_key=KEY), clock=fake.monotonic, sleep=fake.sleep)
    return Sandbox(store, recorder, provider)


def add(user_id: str, item_id: str, kind: ItemKind = ItemKind.COURSE, notify: bool = True) -> Action:
    return Action(ActionKind.ADD, user_id, user_id, item_id, kind, item_id, notify=notify)


def remove(user_id: str, item_id: str, kind: ItemKind = ItemKind.COURSE) -> Action:
    return Action(ActionKind.REMOVE, user_id, user_id, item_id, kind, item_id)


def by_login(directory: Directory) -> dict[str, str]:
    return {u.login: u.id for u in directory.users}


def by_title(directory: Directory) -> dict[str, str]:
    return {i.title: i.id for i in directory.items}


# --- directory -----------------------------------------------------------------------------------------


def test_directory_presents_teams_as_department_tree_and_as_groups() -> None:
    directory = sandbox().directory()
    teams = {d.id: d for d in directory.departments}
    paths = {}
    for team_id in teams:
        names, current = [], teams.get(team_id)
        while current:
            names.append(current.name)
            current = teams.get(current.parent_id or "")
        paths[team_id] = "/".join(reversed(names))
    users = {u.login: u for u in directory.users}
    helen = users["helen@acme.example"]
    # Helen is in EMEA and in the flat Managers team: the deeper team is her department, both her groups
    assert paths[helen.department_id or ""] == "Acme/Sales/EMEA"
    assert {paths[g] for g in helen.group_ids} == {"Acme/Sales/EMEA", "Managers"}
    assert paths[users["ann@acme.example"].department_id or ""] == "Acme"
    assert {g.id for g in directory.groups} == set(teams)


def test_inactive_users_have_no_known_team() -> None:
    users = {u.login: u for u in sandbox().directory().users}
    ina = users["ina@acme.example"]
    assert ina.status is UserStatus.INACTIVE
    assert ina.department_id is None and ina.group_ids == frozenset()


def test_catalog_holds_courses_and_learning_paths() -> None:
    items = {(i.kind, i.title) for i in sandbox().directory().items}
    assert items == {
        (ItemKind.COURSE, "Security Awareness 2026"),
        (ItemKind.COURSE, "Anti-Bribery"),
        (ItemKind.LEARNING_PATH, "Onboarding"),
    }


def test_every_call_has_source_and_json_and_the_key_only_in_a_header() -> None:
    box = sandbox()
    directory = box.directory()
    box.provider.read_enrollments(directory, frozenset(i.id for i in directory.items))
    for request in box.recorder.requests:
        assert request.headers["apikey"] == KEY
        assert "apikey" not in request.url.params and KEY not in str(request.url)
        assert request.url.params["source"] == "enrollctl"
        assert request.url.params["format"] == "json"
        if request.method == "GET":
            assert request.url.params["limit"] == "1000" and "start" in request.url.params


def test_a_missing_api_key_is_a_config_error_naming_the_variable() -> None:
    config = ProviderConfig(name="academy", kind=ProviderKind.LITMOS, api_key_env="LITMOS_API_KEY")
    with pytest.raises(ConfigError, match="LITMOS_API_KEY"):
        create(config, httpx.Client(base_url=BASE_URL), Credentials())


def test_a_refused_key_is_an_auth_error_that_never_shows_the_key() -> None:
    store = Store.open(":memory:")
    seed_store(store, parse_org(ORG))
    transport = httpx.WSGITransport(app=make_litmos_app(store))  # type: ignore[arg-type]
    client = httpx.Client(transport=transport, base_url=BASE_URL)
    config = ProviderConfig(name="academy", kind=ProviderKind.LITMOS)
    wrong = "wrong-key-0123456789"
    provider = create(config, client, Credentials(api_key=wrong))
    with pytest.raises(AuthError) as refused:
        provider.read_directory()
    assert refused.value.status == 403 and "api_key_env" in refused.value.hint
    assert wrong not in str(refused.value)


def test_paging_reads_every_user_once_and_stops_on_a_short_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litmos_api, "PAGE_LIMIT", 7)
    box = sandbox(generated_org(30))
    users = box.directory().users
    assert len(users) == len({u.id for u in users}) == 34
    starts = [
        r.url.params["start"]
        for r in box.recorder.requests
        if r.url.path.endswith("/users") and r.url.path == "/v1.svc/users"
    ]
    assert starts == ["0", "7", "14", "21", "28"]  # 34 users: the page at 28 holds 6, which ends the read


@settings(max_examples=15, deadline=None)
@given(users=st.integers(min_value=0, max_value=40), limit=st.integers(min_value=1, max_value=12))
def test_paging_reads_every_row_once_in_the_fewest_calls(users: int, limit: int) -> None:
    with mock.patch.object(litmos_api, "PAGE_LIMIT", limit):
        box = sandbox(generated_org(users))
        read = box.provider.api.pages("/users", call="GET /users")
    expected = 4 + users
    assert len(read) == len({r["Id"] for r in read}) == expected
    assert len(box.recorder.requests) == expected // limit + 1  # a full last page needs one more call


def test_rows_beyond_what_was_asked_for_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litmos_api, "PAGE_LIMIT", 5)

    def ask_for_more(request: httpx.Request) -> httpx.Request:
        # a server that "sometimes returns more items than requested": every page overlaps the next
        if request.url.path == "/v1.svc/users":
            url = request.url.copy_set_param("limit", "8")
            return httpx.Request(request.method, url, headers=request.headers)
        return request

    users = sandbox(generated_org(20), rewrite=ask_for_more).directory().users
    assert len(users) == len({u.id for u in users}) == 24


# --- enrollment reads ------------------------------------------------------------------------------------


def test_both_read_strategies_give_identical_enrollments() -> None:
    box = sandbox(generated_org(60))
    directory = box.directory()
    items = frozenset(i.id for i in directory.items)
    box.provider.strategy = ReadStrategy.BULK
    bulk = box.provider.read_enrollments(directory, items)
    box.provider.strategy = ReadStrategy.ROSTERS
    rosters = box.provider.read_enrollments(directory, items)
    assert bulk == rosters
    assert len(bulk) > 60
    assert {e.item_kind for e in bulk} == {ItemKind.COURSE, ItemKind.LEARNING_PATH}
    assert any(e.started for e in bulk) and any(not e.started for e in bulk)


def test_both_read_strategies_agree_for_a_subset_of_users_and_items() -> None:
    box = sandbox(generated_org(40))
    directory = box.directory()
    items = frozenset(i.id for i in directory.items[:4])
    users = frozenset(u.id for u in directory.users[::3])
    results = []
    for strategy in ReadStrategy:
        box.provider.strategy = strategy
        results.append(box.provider.read_enrollments(directory, items, users))
    assert results[0] == results[1]
    assert all(e.user_id in users and e.item_id in items for e in results[0])


def test_bulk_reads_never_carry_more_than_25_users() -> None:
    box = sandbox(generated_org(96))  # 100 users: 25 + 25 + 25 + 25
    directory = box.directory()
    box.provider.strategy = ReadStrategy.BULK
    box.provider.read_enrollments(directory, frozenset(i.id for i in directory.items))
    bodies = box.recorder.bodies("POST", "/v1.svc/users/courses")
    assert len(bodies) == math.ceil(len(directory.users) / 25) == 4
    assert all(isinstance(b, list) and 0 < len(b) <= 25 for b in bodies)
    assert sum(len(b) for b in bodies if isinstance(b, list)) == len(directory.users)


def test_the_cheaper_strategy_is_chosen_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    box = sandbox(generated_org(96))
    directory = box.directory()
    one_course = frozenset({directory.items[0].id})
    with caplog.at_level(logging.INFO, logger="enrollctl.litmos"):
        box.provider.read_enrollments(directory, one_course)
    assert box.provider.read_strategy is ReadStrategy.ROSTERS  # 1 roster call instead of 4 bulk calls
    assert "per item (rosters): 1 calls (per user: 4, per item: 1)" in caplog.text
    few_users = frozenset(u.id for u in directory.users[:10])
    box.provider.read_enrollments(directory, frozenset(i.id for i in directory.items), few_users)
    assert box.provider.read_strategy is ReadStrategy.BULK  # 1 bulk call instead of 8 rosters


def test_read_plan_prefers_fewer_calls() -> None:
    assert plan_read(users=2000, items=3, directory_users=2000).strategy is ReadStrategy.ROSTERS
    assert plan_read(users=2000, items=3, directory_users=2000).roster_calls == 9
    assert plan_read(users=50, items=10, directory_users=2000).strategy is ReadStrategy.BULK
    assert plan_read(users=0, items=10, directory_users=2000).calls == 0


def test_xml_and_json_responses_give_the_same_snapshot() -> None:
    def ask_for_xml(request: httpx.Request) -> httpx.Request:
        params = [(k, v) for k, v in request.url.params.multi_items() if k != "format"]
        headers = {k: v for k, v in request.headers.items() if k.lower() != "accept"}
        url = request.url.copy_with(params=params)
        return httpx.Request(request.method, url, headers=headers, content=request.content)

    org = generated_org(30)
    as_json, as_xml = sandbox(org), sandbox(org, rewrite=ask_for_xml)
    snapshots = []
    for box in (as_json, as_xml):
        directory = box.directory()
        items = frozenset(i.id for i in directory.items)
        enrollments = []
        for strategy in ReadStrategy:
            box.provider.strategy = strategy
            enrollments.append(box.provider.read_enrollments(directory, items))
        snapshots.append((directory, enrollments))
    assert snapshots[0] == snapshots[1]
    xml_answers = [r for r in as_xml.recorder.requests if "format" not in r.url.params]
    assert not xml_answers  # the client asked for JSON; the rewrite made the emulator answer XML


# --- writes --------------------------------------------------------------------------------------------


def test_adds_are_one_call_per_user_kind_and_notify_setting() -> None:
    box = sandbox()
    actions = [
        add("u1", "c1"),
        add("u1", "c2"),
        add("u1", "c3", notify=False),
        add("u1", "lp1", ItemKind.LEARNING_PATH),
        add("u2", "c1"),
        remove("u1", "c9"),
        remove("u1", "c8"),
        Action(ActionKind.UPDATE, "u2", "u2", "c2", ItemKind.COURSE, "c2"),
    ]
    batches = box.provider.batches(actions)
    shapes = [(b.kind, [a.item_id for a in b.actions], b.calls) for b in batches]
    assert shapes == [
        (ActionKind.ADD, ["c1", "c2"], 2),
        (ActionKind.ADD, ["c3"], 2),
        (ActionKind.ADD, ["lp1"], 2),
        (ActionKind.ADD, ["c1"], 2),
        (ActionKind.REMOVE, ["c9"], 1),
        (ActionKind.REMOVE, ["c8"], 1),
        (ActionKind.UPDATE, ["c2"], 0),
    ]
    box.provider.verify_adds = False  # no read-back: one call per assign
    assert [b.calls for b in box.provider.batches(actions)] == [1, 1, 1, 1, 1, 1, 0]


def test_a_user_with_very_many_new_items_gets_several_assign_calls() -> None:
    box = sandbox()
    batches = box.provider.batches([add("u1", f"c{n}") for n in range(150)])
    assert [len(b.actions) for b in batches] == [100, 50]


def test_without_verification_an_assign_is_one_call_and_reported_done() -> None:
    box = sandbox()
    box.provider.verify_adds = False
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    box.recorder.requests.clear()
    [batch] = box.provider.batches([add(ann, course)])
    assert [o.status for o in box.provider.write(batch)] == [OutcomeStatus.DONE]
    assert [r.method for r in box.recorder.requests] == ["POST"]


def test_enroll_and_remove_round_trip_including_learning_paths() -> None:
    box = sandbox()
    directory = box.directory()
    users, items = by_login(directory), by_title(directory)
    kevin = users["kevin@acme.example"]
    wanted = [
        add(kevin, items["Security Awareness 2026"], notify=False),
        add(kevin, items["Anti-Bribery"], notify=False),
        add(kevin, items["Onboarding"], ItemKind.LEARNING_PATH, notify=False),
    ]
    notes_before = len(box.store.notifications())
    outcomes = [o for b in box.provider.batches(wanted) for o in box.provider.write(b)]
    assert [o.status for o in outcomes] == [OutcomeStatus.DONE] * 3
    assert len(box.store.notifications()) == notes_before  # sendmessage=false: no e-mail
    posts = [r for r in box.recorder.requests if r.method == "POST"]
    assert len(posts) == 2 and all(r.url.params["sendmessage"] == "false" for r in posts)

    managed = frozenset(items.values())
    held = {e.item_id for e in box.provider.read_enrollments(directory, managed, frozenset({kevin}))}
    assert held == set(items.values())

    gone = [remove(kevin, items["Anti-Bribery"]), remove(kevin, items["Onboarding"], ItemKind.LEARNING_PATH)]
    outcomes = [o for b in box.provider.batches(gone) for o in box.provider.write(b)]
    assert [o.status for o in outcomes] == [OutcomeStatus.DONE] * 2
    held = {e.item_id for e in box.provider.read_enrollments(directory, managed, frozenset({kevin}))}
    assert held == {items["Security Awareness 2026"]}


def test_notified_adds_send_no_sendmessage_switch() -> None:
    box = sandbox()
    directory = box.directory()
    ann = by_login(directory)["ann@acme.example"]
    batch = box.provider.batches([add(ann, by_title(directory)["Anti-Bribery"])])[0]
    assert box.provider.write(batch)[0].status is OutcomeStatus.DONE
    [post] = [r for r in box.recorder.requests if r.method == "POST"]
    assert "sendmessage" not in post.url.params


def test_unknown_ids_silently_dropped_by_litmos_are_reported_failed() -> None:
    box = sandbox()
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    batch = box.provider.batches([add(ann, course), add(ann, "NoSuchCourse1")])[0]
    done, dropped = box.provider.write(batch)
    assert done.status is OutcomeStatus.DONE
    assert dropped.status is OutcomeStatus.FAILED
    assert "does not have" in dropped.detail and "unknown or inactive course id" in dropped.detail


def test_removing_what_is_not_assigned_does_not_fail() -> None:
    box = sandbox()
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    [outcome] = box.provider.write(box.provider.batches([remove(ann, course)])[0])
    assert outcome.status in (OutcomeStatus.DONE, OutcomeStatus.ALREADY)


def test_updates_are_refused_with_the_vendor_limit() -> None:
    box = sandbox()
    update = Action(ActionKind.UPDATE, "u1", "u1", "c1", ItemKind.COURSE, "c1", changes=("due",))
    [outcome] = box.provider.write(box.provider.batches([update])[0])
    assert outcome.status is OutcomeStatus.FAILED
    assert "cannot change the terms" in outcome.detail
    assert not box.recorder.requests


def test_capabilities_say_what_litmos_cannot_do() -> None:
    caps = sandbox().provider.capabilities
    assert not (caps.due_dates or caps.due_periods or caps.lock_after_due or caps.access_dates)
    assert not caps.update_terms and caps.remove and caps.notify_switch
    assert caps.read_batch_users == 25 and caps.enroll_batch_users == 1 and caps.enroll_batch_items > 1
    assert caps.requests_per_minute == 100_000  # from config; 100 when the config says nothing


# --- throttling ----------------------------------------------------------------------------------------


def throttled_apply(client_limit: int) -> tuple[Sandbox, FakeClock, list[OutcomeStatus]]:
    clock = FakeClock()
    box = sandbox(generated_org(146), clock=clock, emulator_limit=100, client_limit=client_limit)
    directory = box.provider.read_directory()
    course = by_title(directory)["Security Awareness 2026"]
    actions = [add(u.id, course, notify=False) for u in directory.users]  # 150 users: 150 posts + 150 reads
    box.recorder.requests.clear()
    statuses = [o.status for b in box.provider.batches(actions) for o in box.provider.write(b)]
    return box, clock, statuses


def test_a_300_call_apply_under_a_100_per_minute_limit_fails_no_call() -> None:
    box, clock, statuses = throttled_apply(client_limit=100)
    assert len(box.recorder.requests) == 300
    assert statuses == [OutcomeStatus.DONE] * 150
    assert all(entry.status < 400 for entry in box.store.request_log())  # the limiter kept under the limit
    assert clock.now >= 120  # 300 calls at 100 a minute take at least two minutes (of fake time)


def test_a_client_faster_than_the_server_is_throttled_and_retries_after_the_wait() -> None:
    box, _, statuses = throttled_apply(client_limit=1000)
    assert statuses == [OutcomeStatus.DONE] * 150
    refused = [e for e in box.store.request_log() if e.status == 503]
    assert refused  # the emulator said 503 with Retry-After, and every refused call was sent again
    assert len(box.recorder.requests) == 300 + len(refused)


# --- faults --------------------------------------------------------------------------------------------


def test_an_assign_answered_with_500_is_read_back_and_never_sent_twice() -> None:
    box = sandbox(faults=Faults(error_rates={"POST /users/*/courses": 1.0}))
    directory = box.directory()
    ann, course = by_login(directory)["ann@acme.example"], by_title(directory)["Anti-Bribery"]
    box.recorder.requests.clear()
    [outcome] = box.provider.write(box.provider.batches([add(ann, course)])[0])
    assert outcome.status is OutcomeStatus.FAILED
    assert "reading back shows it was not made" in outcome.detail
    assert [r.method for r in box.recorder.requests] == ["POST", "GET"]


def test_bursts_of_503_with_retry_after_are_waited_out() -> None:
    clock = FakeClock()
    box = sandbox(
        generated_org(30), clock=clock, faults=Faults(burst=Burst(every=4, length=1, retry_after=7))
    )
    directory = box.directory()
    assert len(directory.users) == 34
    refused = [e for e in box.store.request_log() if e.status == 503]
    assert refused and clock.slept.count(7) == len(refused)


def test_a_long_read_logs_progress_with_an_eta(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    box = sandbox(generated_org(96), clock=clock)
    directory = box.directory()
    box.provider.strategy = ReadStrategy.BULK
    box.provider.api.clock = clock.ticking(6)
    with caplog.at_level(logging.INFO, logger="enrollctl.litmos"):
        box.provider.read_enrollments(directory, frozenset(i.id for i in directory.items))
    assert "users' enrollments read 50/100, about" in caplog.text

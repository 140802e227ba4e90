"""The Litmos provider reading the Litmos emulator over real HTTP (httpx.WSGITransport), in-process."""

from __future__ import annotations

import logging
import math
from unittest import mock

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.model import ItemKind, ProviderConfig, ProviderKind, UserStatus
from reconciler.errors import AuthError, ConfigError
from reconciler.providers.base import Credentials
from reconciler.providers.litmos import api as litmos_api
from reconciler.providers.litmos.body import USERS
from reconciler.providers.litmos.provider import create
from reconciler.providers.litmos.read import ReadStrategy, plan_read
from reconciler.sandbox.litmos.app import make_litmos_app
from reconciler.sandbox.org.load import parse_org, seed_store
from reconciler.sandbox.store.database import Store
from tests.support.litmos_provider import BASE_URL, KEY, ORG, generated_org, sandbox

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


def test_a_source_litmos_would_refuse_is_a_config_error() -> None:
    config = ProviderConfig(name="academy", kind=ProviderKind.LITMOS, source="x" * 51)
    with pytest.raises(ConfigError, match="1 to 50 characters"):
        create(config, httpx.Client(base_url=BASE_URL), Credentials(api_key=KEY))


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
        read = box.provider.api.pages("/users", call="GET /users", shape=USERS)
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

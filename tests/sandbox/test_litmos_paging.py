"""Litmos `limit`/`start` paging over 2,500 users: each row exactly once; 100 rows when `limit` is missing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.sandbox.store.ids import litmos_id
from tests.support.litmos_org import Org, client, department, enrollment, item, paged, params, user

USERS = 2500


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    logins = [f"user{n:04d}@big.example" for n in range(USERS)]
    org = Org(
        departments=[department("Big")],
        users=[
            user(login, "Big", status="inactive" if n % 10 == 0 else "active")
            for n, login in enumerate(logins)
        ],
        items=[item("Course A")],
        enrollments=[enrollment(login, "Course A") for login in logins],
    )
    with client(org.store()) as http:
        yield http


@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_users_pages_return_every_row_exactly_once(api: httpx.Client, limit: int) -> None:
    names = [u["UserName"] for u in paged(api, "/users", limit)]
    assert len(names) == USERS
    assert len(set(names)) == USERS


def test_users_without_limit_stop_at_100(api: httpx.Client) -> None:
    page = api.get("/users", params=params(format="json")).json()
    assert len(page) == 100
    assert [u["UserName"] for u in page] == [f"user{n:04d}@big.example" for n in range(100)]


def test_limit_above_1000_returns_1000(api: httpx.Client) -> None:
    assert len(api.get("/users", params=params(format="json", limit=5000)).json()) == 1000


def test_start_past_the_end_is_an_empty_page(api: httpx.Client) -> None:
    assert api.get("/users", params=params(format="json", limit=10, start=USERS)).json() == []


def test_team_users_page_over_active_members_only(api: httpx.Client) -> None:
    team = litmos_id("department", "Big")
    names = [u["UserName"] for u in paged(api, f"/teams/{team}/users", 7)]
    assert len(names) == len(set(names)) == USERS - USERS // 10


def test_course_roster_pages_cover_every_enrollment(api: httpx.Client) -> None:
    course = litmos_id("course", "Course A")
    names = [u["UserName"] for u in paged(api, f"/courses/{course}/users", 1000)]
    assert len(names) == len(set(names)) == USERS


@pytest.fixture(scope="module")
def everyone(api: httpx.Client) -> list[str]:
    return [u["Id"] for u in paged(api, "/users", 1000)]


@settings(max_examples=25, deadline=None)
@given(limit=st.integers(min_value=1, max_value=1000), start=st.integers(min_value=0, max_value=USERS + 10))
def test_any_page_is_the_matching_slice_of_the_full_list(
    api: httpx.Client, everyone: list[str], limit: int, start: int
) -> None:
    page = api.get("/users", params=params(format="json", limit=limit, start=start)).json()
    assert [u["Id"] for u in page] == everyone[start : start + limit]

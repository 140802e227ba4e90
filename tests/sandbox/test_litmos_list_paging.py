"""Every list the Litmos emulator serves honours `limit` and `start` (recorded clients page every list, and
read until an empty page), `/users/{id}/courses` and `/learningpaths` included.

The list endpoints are found, not listed by hand: every GET route of the app whose JSON answer is an array.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.sandbox.litmos.app import ROUTES
from reconciler.sandbox.store.ids import litmos_id
from tests.support.litmos_org import Org, client, department, enrollment, group, item, params, user

COURSES = [f"Course {n}" for n in range(5)]
PATHS = ["Path A", "Path B", "Path C"]
ORG = Org(
    departments=[department(p) for p in ("Acme", "Acme/One", "Acme/Two", "Acme/Three")],
    groups=[group("Managers")],
    users=[user(f"u{n}@acme.example", "Acme", groups=("Managers",)) for n in range(4)],
    items=[item(t) for t in COURSES] + [item(t, "learning_path", tuple(COURSES)) for t in PATHS],
    enrollments=[enrollment(f"u{n}@acme.example", t) for n in range(4) for t in COURSES]
    + [enrollment(f"u{n}@acme.example", t, "learning_path") for n in range(4) for t in PATHS],
)
IDS = {
    "user": litmos_id("user", "u0@acme.example"),
    "team": litmos_id("department", "Acme"),
    "course": litmos_id("course", "Course 0"),
    "path": litmos_id("learning_path", "Path A"),
}
# one result wrapped as a list, as the vendor page shows it: not a list to page through
NOT_LISTS = {"users/{user}/courses/{course}"}


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with client(ORG.store()) as http:
        yield http


def get(api: httpx.Client, path: str, **query: Any) -> Any:
    response = api.get(path, params=params(format="json", **query))
    assert response.status_code == 200, response.text
    return response.json()


def list_paths(api: httpx.Client) -> list[str]:
    """Every GET route (ids filled in) that answers a JSON array."""
    patterns = [pattern for method, pattern, _ in ROUTES if method == "GET" and pattern not in NOT_LISTS]
    paths = [f"/{pattern.format(**IDS)}" for pattern in patterns]
    return [path for path in paths if isinstance(get(api, path, limit=1000), list)]


def test_the_lists_are_found(api: httpx.Client) -> None:
    found = list_paths(api)
    for path in ("/users", "/teams", f"/users/{IDS['user']}/courses", "/learningpaths"):
        assert path in found
    assert len(found) == 12, found


def test_every_list_pages_by_limit_and_start_to_an_empty_page(api: httpx.Client) -> None:
    for path in list_paths(api):
        whole = get(api, path, limit=1000)
        assert len(whole) >= 1, f"{path}: nothing to page through"
        for limit in (1, 2):
            rows: list[Any] = []
            while page := get(api, path, limit=limit, start=len(rows)):
                assert len(page) <= limit, path
                rows += page
            assert rows == whole, f"{path} paged by {limit}"
        assert get(api, path, limit=1, start=len(whole)) == [], path


def test_a_users_courses_and_learning_paths_page(api: httpx.Client) -> None:
    courses = get(api, f"/users/{IDS['user']}/courses", limit=1000)
    assert len(courses) == len(COURSES) + len(PATHS)  # learning paths show with IsLearningPath
    assert get(api, f"/users/{IDS['user']}/courses", limit=2, start=3) == courses[3:5]
    paths = get(api, f"/users/{IDS['user']}/learningpaths", limit=1000)
    assert [p["Name"] for p in paths] == PATHS
    assert get(api, f"/users/{IDS['user']}/learningpaths", limit=1, start=2) == paths[2:]
    assert len(get(api, f"/users/{IDS['user']}/courses")) == len(courses)  # no limit: up to 100 rows

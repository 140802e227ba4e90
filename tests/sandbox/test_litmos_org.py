"""The organisation file of MANIFEST.md, as the Litmos emulator presents it (teams, users, results)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.sandbox.org.load import parse_org, seed_store
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import litmos_id
from tests.support.litmos_org import client, paged, params

# The sample organisation of MANIFEST.md ("Sandbox organisation file"), with a small `generate:` block.
ORG = """
departments:
  - name: Acme
    children:
      - name: Engineering
        children: [{name: Platform}, {name: Contractors}]
      - {name: Sales, children: [{name: EMEA}, {name: Americas}]}
groups: [New hires, Managers]
users:
  - login: helen@acme.example
    first_name: Helen
    last_name: Jones
    department: Acme/Sales/EMEA
    groups: [Managers]
    status: active
courses: [{title: Security Awareness 2026}, {title: Anti-Bribery}]
learning_paths:
  - {title: Onboarding, courses: [Security Awareness 2026]}
enrollments:
  - {user: helen@acme.example, course: Anti-Bribery, status: complete, progress: 100, due: 2026-01-31}
  - {user: helen@acme.example, learning_path: Onboarding, status: not_started}
generate:
  {users: 120, departments: 6, groups: 3, courses: 4, learning_paths: 1, enrollments_per_user: 2, seed: 1}
"""


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    store = Store.open(":memory:")
    seed_store(store, parse_org(ORG))
    with client(store) as http:
        yield http


def team_id(path: str) -> str:
    return litmos_id("department", path)


def json_get(api: httpx.Client, path: str) -> object:
    response = api.get(path, params=params(format="json", limit=1000))
    assert response.status_code == 200, response.text
    return response.json()


def test_departments_are_teams_with_sub_teams(api: httpx.Client) -> None:
    # JSON team rows carry no ParentTeamId (as recorded): the tree is in each team's sub-team list
    by_id = {t["Id"]: t for t in paged(api, "/teams", 1000)}
    parents = {child["Id"]: team for team in by_id for child in paged(api, f"/teams/{team}/teams", 1000)}
    emea = team_id("Acme/Sales/EMEA")
    assert by_id[parents[emea]]["Name"] == "Sales"
    assert by_id[parents[parents[emea]]]["Name"] == "Acme"
    sub_teams = json_get(api, f"/teams/{team_id('Acme/Sales')}/teams")
    assert isinstance(sub_teams, list)
    assert sorted(t["Name"] for t in sub_teams) == ["Americas", "EMEA"]
    assert litmos_id("group", "Managers") in by_id and litmos_id("group", "Managers") not in parents
    assert team_id("Acme") not in parents and "ParentTeamId" not in by_id[emea]


def test_a_user_belongs_to_their_department_team_and_group_teams_only(api: httpx.Client) -> None:
    teams = {
        team_id("Acme/Sales/EMEA"): True,
        litmos_id("group", "Managers"): True,
        team_id("Acme/Sales"): False,
        team_id("Acme"): False,
    }
    for team, expected in teams.items():
        members = [u["UserName"] for u in paged(api, f"/teams/{team}/users", 1000)]
        assert ("helen@acme.example" in members) is expected, team


def test_users_include_the_generated_ones(api: httpx.Client) -> None:
    users = list(paged(api, "/users", 50))
    assert len(users) == 121
    assert len({u["Id"] for u in users}) == 121
    assert all(len(u["Id"]) == 12 for u in users)


def test_helens_results_come_from_the_org_file(api: httpx.Client) -> None:
    courses = json_get(api, "/users/helen@acme.example/courses")
    assert isinstance(courses, list)
    rows = {c["Name"]: c for c in courses}
    assert rows["Anti-Bribery"]["Complete"] is True
    assert rows["Anti-Bribery"]["PercentageComplete"] == 100
    assert rows["Onboarding"]["IsLearningPath"] is True
    detail = json_get(api, f"/users/helen@acme.example/courses/{rows['Anti-Bribery']['Id']}")
    assert isinstance(detail, list)
    assert detail[0]["CourseDueDate"] == "/Date(1769817600000-0000)/"  # 2026-01-31T00:00Z

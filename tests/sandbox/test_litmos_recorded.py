"""Every recorded Litmos GET (tests/data/vendor/litmos-recorded) replayed against the emulator: the answers
must match the real ones in status, content type, JSON kind, emptiness of each page and key sets.

The sandbox organisation is built from the recordings (their users, teams with sub-teams and members, the
course) plus generated filler, so the paged lists run as long as the recorded ones: `/users` has rows up to
`start=800` and `[]` at 1000, `/teams` has rows up to `start=200` and `[]` at 400. Recorded ids become the
sandbox ids of the same login, team or course title. Key sets that differ for a reason are in `JUSTIFIED`
(and in docs/VENDORS.md); any other difference, or a justified one that no longer occurs, fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from reconciler.sandbox.litmos.app import DEFAULT_API_KEYS, make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.org.load import parse_org, seed_store
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import litmos_id
from tests.support.litmos_recorded import Exchange, exchanges

FILLER = {"users": 900, "departments": 300, "groups": 0, "courses": 0, "learning_paths": 0}
NEWER_PROFILE = "ManagerId and ExternalEmployeeId come from newer recorded traffic (vendor-apis.md 2.2)"


@dataclass(frozen=True)
class Difference:
    """Keys the emulator adds to a recorded answer (`extra`) or leaves out (`missing`), and why."""

    reason: str
    extra: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()


JUSTIFIED = {
    "find-user.yml#0": Difference(
        "Brand is in the 2017 recording of the same call (module_complete.yml); " + NEWER_PROFILE,
        extra=frozenset({"Brand", "ManagerId", "ExternalEmployeeId"}),
    ),
    "module_complete.yml#2": Difference(NEWER_PROFILE, extra=frozenset({"ManagerId", "ExternalEmployeeId"})),
}


def json_rows(e: Exchange) -> list[dict[str, Any]]:
    data = json.loads(e.body) if e.status == 200 else []
    return data if isinstance(data, list) else [data]


@dataclass
class RecordedOrg:
    """What the recordings show about the account, gathered from every recorded answer."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # login → row
    teams: dict[str, str] = field(default_factory=dict)  # recorded id → name
    parents: dict[str, str] = field(default_factory=dict)  # team name → parent team name
    member_of: dict[str, str] = field(default_factory=dict)  # login → team name
    courses: dict[str, dict[str, Any]] = field(default_factory=dict)  # recorded id → row

    @classmethod
    def gather(cls) -> RecordedOrg:
        org = cls()
        for e in exchanges():
            rows = json_rows(e)
            for row in rows:
                if "UserName" in row:
                    org.users.setdefault(row["UserName"], row)
                elif e.path.startswith("/teams"):
                    org.teams[row["Id"]] = row["Name"]
                elif e.path.startswith("/courses/") and e.path.count("/") == 2:
                    org.courses[row["Id"]] = row
        for e in exchanges():
            parts = e.path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "teams" and parts[2] == "teams":
                org.parents.update({row["Name"]: org.teams[parts[1]] for row in json_rows(e)})
            if len(parts) == 3 and parts[0] == "teams" and parts[2] == "users":
                org.member_of.update({row["UserName"]: org.teams[parts[1]] for row in json_rows(e)})
        return org

    def path(self, name: str) -> str:
        parent = self.parents.get(name)
        return f"{self.path(parent)}/{name}" if parent else name

    def departments(self, parent: str | None = None) -> list[dict[str, Any]]:
        names = sorted({n for n in self.teams.values() if self.parents.get(n) == parent})
        return [{"name": n, "children": self.departments(n)} for n in names]

    def org_file(self) -> dict[str, Any]:
        first = self.departments()[0]["name"]
        users = [
            {
                "login": login,
                "first_name": row["FirstName"],
                "last_name": row["LastName"],
                "department": self.path(self.member_of.get(login, first)),
            }
            for login, row in self.users.items()
        ]
        courses = [{"title": row["Name"], "code": row["Code"]} for row in self.courses.values()]
        return {
            "departments": self.departments(),
            "users": users,
            "courses": courses,
            "generate": {**FILLER, "enrollments_per_user": 0, "seed": 1},
        }

    def sandbox_ids(self) -> dict[str, str]:
        """Recorded id → the sandbox id of the same login, team or course."""
        ids = {row["Id"]: litmos_id("user", login) for login, row in self.users.items()}
        ids |= {ident: litmos_id("department", self.path(name)) for ident, name in self.teams.items()}
        return ids | {ident: litmos_id("course", row["Name"]) for ident, row in self.courses.items()}


@pytest.fixture(scope="module")
def replay() -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    recorded = RecordedOrg.gather()
    store = Store.open(":memory:")
    seed_store(store, parse_org(json.dumps(recorded.org_file())))
    app = make_litmos_app(store, rate_limit=RateLimit(requests_per_minute=10**9))
    headers = {"apikey": DEFAULT_API_KEYS[0]}
    with httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="https://api.litmos.com/v1.svc"
    ) as http:
        http.headers.update(headers)
        yield http, recorded.sandbox_ids()


@dataclass(frozen=True)
class Answer:
    """What is compared: status, content type, JSON kind, whether a list is empty, the keys of its rows."""

    status: int
    content_type: str
    kind: str
    empty: bool
    keys: frozenset[str]

    @classmethod
    def of(cls, status: int, content_type: str, body: bytes) -> Answer:
        data = json.loads(body)
        rows = data if isinstance(data, list) else [data]
        keys = frozenset(key for row in rows for key in row)
        return cls(status, content_type, type(data).__name__, not rows, keys)


GETS = [e for e in exchanges() if e.method == "GET"]


@pytest.mark.parametrize("recorded", GETS, ids=[e.name for e in GETS])
def test_a_recorded_get_replayed_on_the_emulator_answers_alike(
    replay: tuple[httpx.Client, dict[str, str]], recorded: Exchange
) -> None:
    http, ids = replay
    path = "/".join(ids.get(part, part) for part in recorded.path.split("/"))
    assert path != recorded.path or "/" not in recorded.path.strip("/"), "ids are translated"
    query = dict(recorded.query)
    response = http.get(path, params={**query, "source": "enrollctl-replay"})
    real = Answer.of(recorded.status, recorded.content_type, recorded.body)
    ours = Answer.of(response.status_code, response.headers["content-type"], response.content)
    assert (ours.status, ours.content_type, ours.kind, ours.empty) == (
        real.status,
        real.content_type,
        real.kind,
        real.empty,
    )
    justified = JUSTIFIED.get(recorded.name, Difference("identical"))
    assert (ours.keys - real.keys, real.keys - ours.keys) == (justified.extra, justified.missing)


def test_every_justified_difference_names_a_recorded_get() -> None:
    assert set(JUSTIFIED) <= {e.name for e in GETS}
    assert all(d.reason and (d.extra or d.missing) for d in JUSTIFIED.values())


def test_the_replay_covers_every_recorded_get_and_only_writes_are_left_out() -> None:
    left_out = sorted(f"{e.method} {e.path}" for e in exchanges() if e.method != "GET")
    assert left_out == ["POST /users", "PUT /results/modules/EGXsBUoDOYk1"]  # not emulated: no GET to replay
    assert len(GETS) == 21

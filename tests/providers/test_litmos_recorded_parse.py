"""Every recorded Litmos answer (tests/data/vendor/litmos-recorded) read by the production parsers, with the
values the real server sent: list bodies through `records_from_body` and the record parsers, error bodies
through `error_text`. The last test checks that no recorded answer is left without a fixture here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.core.model import ItemKind
from reconciler.providers.litmos.api import error_text
from reconciler.providers.litmos.body import TEAMS, USERS, Shape, records_from_body
from reconciler.providers.litmos.parse import Team, as_datetime, as_text, parse_item, parse_team, parse_user
from tests.support.litmos_recorded import Exchange, exchange, exchanges

MODULES = Shape("Modules", "Module")  # no provider call reads modules; the list shape is the same kind
UTC = dt.UTC


def users(e: Exchange) -> list[tuple[str, str, str, str, str]]:
    rows = records_from_body(e.body, e.content_type, USERS)
    return [(u.id, u.login, u.first_name, u.last_name, u.status.value) for u in map(parse_user, rows)]


def teams(e: Exchange) -> list[Team]:
    return [parse_team(row) for row in records_from_body(e.body, e.content_type, TEAMS)]


def team(e: Exchange) -> Team:
    return parse_team(json.loads(e.body))


def user(e: Exchange) -> tuple[Any, ...]:
    record = json.loads(e.body)
    u = parse_user(record)
    profile = {k: as_text(record[k]) for k in ("AccessLevel", "TimeZone", "Culture", "CustomField1")}
    dates = (as_datetime(record["CreatedDate"]), as_datetime(record["LastLogin"]))
    return (u.id, u.login, u.email, u.first_name, u.last_name, u.status.value, profile, *dates)


def course(e: Exchange) -> tuple[str, str, ItemKind, str]:
    record = json.loads(e.body)
    item = parse_item(record, ItemKind.COURSE)
    return item.id, item.title, item.kind, as_text(record["Code"])


def modules(e: Exchange) -> list[tuple[str, str]]:
    return [
        (as_text(r["Id"]), as_text(r["Name"])) for r in records_from_body(e.body, e.content_type, MODULES)
    ]


def error(e: Exchange) -> tuple[int, str]:
    return e.status, error_text(e.body, e.content_type)


ACTIVE = "active"
MAX_CHANDLER = Team("JyLa085jwVs1", "Max Chandler", None)
TEAM_PAGE = [
    Team("y5phW-Iw2lE1", "John Smith", None),
    Team("Yo8Lln12xPo1", "Patti Finnegan", None),
    Team("XdsSQGcD6-Q1", "Tsukasa Nakamura", None),
    Team("GdaRqCDoIbY1", "Valerie James", None),
]
STUARTS = [
    ("mVN_K4Q4quQ1", "stuart.hirst@pieshop.net", "Stuart", "Hirst", ACTIVE),
    ("Kod1a6lLptM1", "stuart.kelvin@pieshop.net", "Stuart", "Kelvin", ACTIVE),
]
HTML_500 = (
    "an HTML page (text/html): Request Error Error Status Code: 'InternalServerError' Details: The server "
    "encountered an error processing the request. Please see the server logs for more details."
)

FIXTURES: dict[str, tuple[Callable[[Exchange], Any], Any]] = {
    "create-user-already-exists.yml#0": (error, (409, "UserName already exists")),
    "find-user.yml#0": (
        user,
        (
            *(
                "rnjx2WaQOEY1",
                "janine.butcher@pieshop.net",
                "janine.butcher@pieshop.net",
                "Janine",
                "Butcher",
                ACTIVE,
            ),
            {
                "AccessLevel": "Learner",
                "TimeZone": "UTC",
                "Culture": "en-US",
                "CustomField1": "Janine Butcher",
            },
            dt.datetime(2016, 11, 10, 13, 50, 11, tzinfo=UTC),
            dt.datetime(2016, 12, 9, 7, 54, 27, tzinfo=UTC),
        ),
    ),
    "get-sub-teams.yml#0": (team, MAX_CHANDLER),
    "get-sub-teams.yml#1": (
        teams,
        [Team("rUxaeaSvSBg1", "Caroline Ross", None), Team("4RotCpfMKEY1", "Kathleen Smith", None)],
    ),
    "get-sub-teams.yml#2": (teams, []),
    "get-team-users.yml#0": (team, Team("JyLa015jwVs1", "Max Chandler", None)),
    "get-team-users.yml#1": (
        users,
        [
            ("zjWTVhcqs981", "caroline.ross@pieshop.net", "Caroline", "Ross", ACTIVE),
            ("fS3A7u1I1-41", "chris.williams@pieshop.net", "Chris", "Williams", ACTIVE),
            ("wtMQOFamSas1", "max.chandler@pieshop.net", "Max", "Chandler", ACTIVE),
        ],
    ),
    "get-team-users.yml#2": (users, []),
    "module_complete.yml#0": (course, ("HvO-gG4n_BI1", "Why bother testing?", ItemKind.COURSE, "WBT001")),
    "module_complete.yml#1": (
        modules,
        [("-Lr_Nmvk8fo1", "TEST"), ("hK4oCBAod5M1", "TEST1"), ("EGXsBUoDOYk1", "TEST2")],
    ),
    "module_complete.yml#2": (
        user,
        (
            *(
                "CCzIpPA8OWo1",
                "charlie.quinn@skyscanner.net",
                "charlie.quinn@skyscanner.net",
                "Charlie",
                "Quinn",
                ACTIVE,
            ),
            {"AccessLevel": "Account_Owner", "TimeZone": "GMT Standard Time", "Culture": "en-US"}
            | {"CustomField1": "1378"},
            dt.datetime(2016, 12, 5, 17, 39, 15, tzinfo=UTC),
            dt.datetime(2017, 6, 6, 13, 21, 16, tzinfo=UTC),
        ),
    ),
    "module_complete.yml#3": (error, (500, HTML_500)),
    "search-users-not-found.yml#0": (users, []),
    "search-users.yml#0": (
        users,
        [("CCzIpPA13Wo1", "charlie.smith@pieshop.net", "Charlie", "Smith", ACTIVE)],
    ),
    "teams-all-paginated.yml#0": (teams, TEAM_PAGE),
    "teams-all-paginated.yml#1": (teams, TEAM_PAGE),
    "teams-all-paginated.yml#2": (teams, []),
    "users-all-paginated.yml#0": (
        users,
        [
            ("mVN_K4Q9yuQ1", "paul.hirst@pieshop.net", "Paul", "Hirst", ACTIVE),
            ("Kod1a6lLq1M1", "laura.kelvin@pieshop.net", "Laura", "Kelvin", ACTIVE),
        ],
    ),
    "users-all-paginated.yml#1": (
        users,
        [
            ("mVN_K4Q4awA1", "james.smith@pieshop.net", "James", "Smith", ACTIVE),
            ("Kol1aq1ptM1", "pat.bonner@pieshop.net", "Stuart", "Kelvin", ACTIVE),
        ],
    ),
    "users-all-paginated.yml#2": (
        users,
        [
            ("mVN_YTd4quQ1", "mary.lou@pieshop.net", "Mary", "Lou", ACTIVE),
            ("Kod1a1PpqtM1", "mark.lin@pieshop.net", "Mark", "Lin", ACTIVE),
        ],
    ),
    "users-all-paginated.yml#3": (users, STUARTS),
    "users-all-paginated.yml#4": (users, STUARTS),
    "users-all-paginated.yml#5": (users, []),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_a_recorded_answer_parses_to_the_values_the_server_sent(name: str) -> None:
    parser, expected = FIXTURES[name]
    assert parser(exchange(name)) == expected


def test_every_recorded_answer_is_a_fixture() -> None:
    assert sorted(e.name for e in exchanges()) == sorted(FIXTURES)

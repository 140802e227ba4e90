"""Reading a Litmos account: the directory (users, teams, catalog) and the enrollments policies manage.

Litmos teams serve twice: as departments (a tree) and as groups (flat). The tree comes from `ParentTeamId`
where the rows carry it (the documented XML shape); recorded JSON from `/teams` has no such field, and then
the tree is read from each team's `/teams/{id}/teams` (its direct sub-teams). Litmos does not
inherit membership, so every user's department is a team they are themselves a member of, and a recursive
department target (the union of a team's and its sub-teams' members) falls out of the tree.

Enrollments are read one of two ways, whichever costs fewer calls for the plan at hand: `POST /users/courses`
(25 users a call, every item of theirs) or the roster of each managed item (`/courses/{id}/users`,
`/learningpaths/{id}/users`). Both give the same enrollments.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from reconciler.core.due import DueFact
from reconciler.core.model import Directory, Enrollment, Item, ItemKind, User, UserStatus
from reconciler.providers.litmos.api import PAGE_LIMIT, LitmosApi, Progress, chunked, collection_of, segment
from reconciler.providers.litmos.body import BULK_RESULTS, COURSES, LEARNING_PATHS, TEAMS, USERS
from reconciler.providers.litmos.parse import (
    Team,
    as_text,
    parse_bulk_dues,
    parse_bulk_results,
    parse_item,
    parse_roster,
    parse_roster_dues,
    parse_team,
    parse_user,
)

log = logging.getLogger("enrollctl.litmos")

BULK_READ_USERS = 25  # documented maximum of POST /users/courses: "no greater than a list of 25 users"


# --- directory -----------------------------------------------------------------------------------------


def read_directory(api: LitmosApi) -> Directory:
    """Users, teams (as departments and as groups), courses and learning paths."""
    users = [parse_user(r) for r in api.pages("/users", call="GET /users", shape=USERS)]
    rows = api.pages("/teams", call="GET /teams", shape=TEAMS)
    teams = [parse_team(r) for r in rows]
    if rows and not any("ParentTeamId" in r for r in rows):
        teams = read_team_tree(api, teams)
    members = read_team_members(api, teams)
    courses = [
        parse_item(r, ItemKind.COURSE) for r in api.pages("/courses", call="GET /courses", shape=COURSES)
    ]
    paths = [
        parse_item(r, ItemKind.LEARNING_PATH)
        for r in api.pages("/learningpaths", call="GET /learningpaths", shape=LEARNING_PATHS)
    ]
    inactive = sum(1 for u in users if u.status is not UserStatus.ACTIVE)
    if inactive:
        log.info(
            "%s: %d inactive users: Litmos lists only active team members, so team targets do not match them",
            api.provider,
            inactive,
        )
    return Directory(
        users=tuple(place_users(users, teams, members)),
        departments=tuple(t.department() for t in teams),
        groups=tuple(t.group() for t in teams),
        items=tuple(courses + paths),
    )


def read_team_tree(api: LitmosApi, teams: list[Team]) -> list[Team]:
    """The teams with their parents, from each team's `/teams/{id}/teams` (rows without `ParentTeamId`)."""
    parents: dict[str, str] = {}
    known = {team.id for team in teams}
    for team in teams:
        path = f"/teams/{segment(team.id)}/teams"
        for row in api.pages(path, call="GET /teams/{id}/teams", shape=TEAMS):
            child = as_text(row.get("Id"))
            if child in known and child != team.id:
                parents.setdefault(child, team.id)
    return [replace(team, parent_id=parents.get(team.id)) for team in teams]


def read_team_members(api: LitmosApi, teams: list[Team]) -> dict[str, list[str]]:
    """User id → ids of the teams listing them. `/teams/{id}/users` lists only active users."""
    members: defaultdict[str, list[str]] = defaultdict(list)
    progress = Progress(api, "team rosters read", len(teams))
    for done, team in enumerate(teams, 1):
        path = f"/teams/{segment(team.id)}/users"
        for row in api.pages(path, call="GET /teams/{id}/users", shape=USERS):
            members[as_text(row.get("Id"))].append(team.id)
        progress.step(done)
    return dict(members)


def place_users(users: Iterable[User], teams: list[Team], members: Mapping[str, list[str]]) -> list[User]:
    """Set each user's department (their most specific team) and groups (every team they are in).

    A user in several teams gets the deepest one as department; ties go to a team that is part of a tree
    (has sub-teams), then by name. Every team they are in is also one of their groups, so `groups:` targets
    reach all memberships. Inactive users are on no roster: their department and groups stay unknown (None).
    """
    by_id = {t.id: t for t in teams}
    parents = {t.parent_id for t in teams if t.parent_id}
    depth = {t.id: team_depth(t.id, by_id) for t in teams}

    def rank(team_id: str) -> tuple[int, bool, str, str]:
        return (-depth[team_id], team_id not in parents, by_id[team_id].name, team_id)

    placed: list[User] = []
    for user in users:
        team_ids = sorted({t for t in members.get(user.id, ()) if t in by_id}, key=rank)
        department = team_ids[0] if team_ids else None
        placed.append(replace(user, department_id=department, group_ids=frozenset(team_ids)))
    return placed


def team_depth(team_id: str, by_id: Mapping[str, Team]) -> int:
    """How many ancestors a team has (cycle-safe; a parent outside the list ends the chain)."""
    seen = {team_id}
    parent = by_id[team_id].parent_id
    depth = 0
    while parent is not None and parent in by_id and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = by_id[parent].parent_id
    return depth


# --- enrollments ---------------------------------------------------------------------------------------


class ReadStrategy(StrEnum):
    BULK = "bulk"  # POST /users/courses, 25 users a call
    ROSTERS = "rosters"  # GET /courses/{id}/users and /learningpaths/{id}/users, per managed item


@dataclass(frozen=True)
class ReadPlan:
    """Which way enrollments are read, and what each way would cost in calls."""

    strategy: ReadStrategy
    bulk_calls: int
    roster_calls: int

    @property
    def calls(self) -> int:
        return self.bulk_calls if self.strategy is ReadStrategy.BULK else self.roster_calls

    def describe(self) -> str:
        """One line for `--verbose`: the choice and both costs."""
        way = "per user (POST /users/courses)" if self.strategy is ReadStrategy.BULK else "per item (rosters)"
        return (
            f"reading enrollments {way}: {self.calls} calls "
            f"(per user: {self.bulk_calls}, per item: {self.roster_calls})"
        )


def plan_read(users: int, items: int, directory_users: int, forced: ReadStrategy | None = None) -> ReadPlan:
    """Choose the cheaper way to read `items` managed items for `users` users.

    A roster lists every assigned user of the account, so its size is bounded by the directory, not by the
    users in scope; the estimate assumes the worst case (everyone assigned). Ties go to rosters, which carry
    only the managed items.
    """
    bulk = math.ceil(users / BULK_READ_USERS) if items else 0
    rosters = items * (directory_users // PAGE_LIMIT + 1) if users else 0
    strategy = forced or (ReadStrategy.ROSTERS if rosters <= bulk else ReadStrategy.BULK)
    return ReadPlan(strategy, bulk, rosters)


def read_bulk(
    api: LitmosApi, user_ids: list[str], items: Mapping[str, Item], dues: list[DueFact] | None = None
) -> list[Enrollment]:
    """Enrollments in `items` of `user_ids`, 25 users per `POST /users/courses` (never more).

    `dues`, when given, collects the same rows' due facts (overdue flags only: this read has no due dates).
    """
    found: list[Enrollment] = []
    progress = Progress(api, "users' enrollments read", len(user_ids))
    done = 0
    for chunk in chunked(user_ids, BULK_READ_USERS):
        wanted = set(chunk)
        body = [{"Id": user_id} for user_id in chunk]
        rows = api.records(
            "POST", "/users/courses", call="POST /users/courses", shape=BULK_RESULTS, body=body
        )
        found.extend(e for e in parse_bulk_results(rows) if e.item_id in items and e.user_id in wanted)
        if dues is not None:
            dues.extend(f for f in parse_bulk_dues(rows) if f.item_id in items and f.user_id in wanted)
        done += len(chunk)
        progress.step(done)
    # the bulk answer flags learning paths itself; the catalog's kind is the authority
    return [replace(e, item_kind=items[e.item_id].kind) for e in found]


def read_rosters(
    api: LitmosApi, user_ids: set[str], items: Iterable[Item], dues: list[DueFact] | None = None
) -> list[Enrollment]:
    """Enrollments of `user_ids` in `items`, from each item's roster; `dues` collects their due dates."""
    found: list[Enrollment] = []
    ordered = sorted(items, key=lambda i: (i.kind, i.id))
    progress = Progress(api, "item rosters read", len(ordered))
    for done, item in enumerate(ordered, 1):
        kind = collection_of(item.kind)
        path = f"/{kind}/{segment(item.id)}/users"
        rows = api.pages(path, call=f"GET /{kind}/{{id}}/users", shape=USERS)
        found.extend(e for e in parse_roster(rows, item) if e.user_id in user_ids)
        if dues is not None:
            dues.extend(f for f in parse_roster_dues(rows, item) if f.user_id in user_ids)
        progress.step(done)
    return found


def read_enrollments(
    api: LitmosApi,
    directory: Directory,
    item_ids: frozenset[str],
    user_ids: frozenset[str] | None,
    forced: ReadStrategy | None = None,
    dues: list[DueFact] | None = None,
) -> tuple[ReadPlan, tuple[Enrollment, ...]]:
    """Enrollments in the managed items (of `user_ids`, or of every known user), the cheaper way.

    `dues`, when given, collects the due facts the chosen read carries (see `parse_due`).
    """
    items = {i.id: i for i in directory.items if i.id in item_ids}
    scope = sorted(user_ids if user_ids is not None else {u.id for u in directory.users})
    plan = plan_read(len(scope), len(items), len(directory.users), forced)
    log.info("%s: %s", api.provider, plan.describe())
    if not items or not scope:
        return plan, ()
    if plan.strategy is ReadStrategy.BULK:
        found = read_bulk(api, scope, items, dues)
    else:
        found = read_rosters(api, set(scope), items.values(), dues)
    unique = {e.key: e for e in found}
    return plan, tuple(unique[k] for k in sorted(unique))

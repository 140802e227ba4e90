"""Reading a Litmos account: the directory (users, teams, catalog) and the enrollments policies manage.

Litmos teams serve twice: as departments (a tree) and as groups (flat). The tree comes from `ParentTeamId`
where the rows carry it (the documented XML shape); recorded JSON from `/teams` has no such field, and then
the tree is read from each team's `/teams/{id}/teams` (its direct sub-teams). Litmos does not
inherit membership, so every user's department is a team they are themselves a member of, and a recursive
department target (the union of a team's and its sub-teams' members) falls out of the tree.

Enrollments are read in `enrollments.py` (re-exported here): per user or per item roster, whichever costs
fewer calls.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from reconciler.core.model import Directory, ItemKind, User, UserStatus
from reconciler.providers.litmos.api import LitmosApi, Progress, segment
from reconciler.providers.litmos.body import COURSES, LEARNING_PATHS, TEAMS, USERS
from reconciler.providers.litmos.enrollments import (
    BULK_READ_USERS,
    ReadPlan,
    ReadStrategy,
    plan_read,
    read_bulk,
    read_enrollments,
)
from reconciler.providers.litmos.parse import Team, as_text, parse_item, parse_team, parse_user
from reconciler.providers.litmos.profiles import LISTED_FIELDS, listed_fields

__all__ = [
    "BULK_READ_USERS",
    "ReadPlan",
    "ReadStrategy",
    "plan_read",
    "read_bulk",
    "read_directory",
    "read_enrollments",
]

log = logging.getLogger("enrollctl.litmos")


# --- directory -----------------------------------------------------------------------------------------


def read_directory(api: LitmosApi) -> Directory:
    """Users, teams (as departments and as groups), courses and learning paths."""
    # the listing's own fields (UserName, Email, AccessLevel ...) serve `where` without a profile read
    users = [parse_user(r, listed_fields(r)) for r in api.pages("/users", call="GET /users", shape=USERS)]
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
        user_fields=LISTED_FIELDS,  # the rest (and CreatedDate) only from `profiles.read_profiles`
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

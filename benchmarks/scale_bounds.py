"""Lower bounds of vendor calls for `scale_bench.py`, from the vendors' rules and the emulator's data.

Never from the provider code: a paged list of n rows costs ⌊n / 1,000⌋ + 1 calls on Litmos (only a short
page ends a list) and ⌈n / 1,000⌉ (at least 1) on iSpring; Litmos reads enrollments either 25 users per
`POST /users/courses` or one roster per item, whichever is fewer for the data as it is.
"""

from __future__ import annotations

import math
from collections import Counter

from reconciler.sandbox.store.database import Store

PAGE = 1000  # Litmos's largest page and iSpring's default page
BULK_USERS = 25  # users per Litmos POST /users/courses


def litmos_list(rows: int) -> int:
    return rows // PAGE + 1  # only a short page ends a Litmos list


def ispring_list(rows: int) -> int:
    return max(1, math.ceil(rows / PAGE))


def enrollment_read_bound(vendor: str, store: Store, item_uuids: set[str], users: int) -> int:
    """Fewest calls that read every enrollment of `users` users in the items (Litmos: the cheaper way)."""
    held = Counter(e.item_uuid for e in store.enrollments() if e.item_uuid in item_uuids)
    if vendor == "litmos":
        return min(math.ceil(users / BULK_USERS), sum(litmos_list(held[i]) for i in item_uuids))
    return 2 * ispring_list(sum(held.values()))  # ListEnrollments and ListLearnersResults


def directory_bound(vendor: str, store: Store) -> int:
    if vendor == "ispring":
        return 3 + ispring_list(len(store.items()))  # GetDepartments, GetGroups, GetUsers, ListContent
    teams = store.departments(), store.groups()
    rosters = sum(litmos_list(n) for n in team_sizes(store))
    users = litmos_list(len(store.users()))
    courses, paths = len(store.items("course")), len(store.items("learning_path"))
    return (
        users
        + litmos_list(len(teams[0]) + len(teams[1]))
        + rosters
        + litmos_list(courses)
        + litmos_list(paths)
    )


def team_sizes(store: Store) -> list[int]:
    members: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    for user in store.users():
        if user.status == "active":
            members[user.department_uuid or ""] += 1
            groups.update(user.group_uuids)
    return [members[d.uuid] for d in store.departments()] + [groups[g.uuid] for g in store.groups()]


def write_bound(vendor: str, adds: list[tuple[str, str]], removes: int) -> int:
    """Litmos: one assign call per user and item kind. iSpring: every add has the same terms, so one enroll
    call per item at enrollctl's split of 1,000 learners a call; one call per removal on both."""
    if vendor == "litmos":
        return len(set(adds)) + removes
    learners = Counter(item for _, item in adds)
    return sum(math.ceil(n / PAGE) for n in learners.values()) + removes

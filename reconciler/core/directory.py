"""Lookups over a `Directory`, built once per run: users, departments by path, groups and items by name.

Pure: no I/O. `core.desired` resolves manifest references through it and `core.diff` uses it to
name users and departments in plans. Logins and emails match case-insensitively; department paths, group
names and item titles match exactly (MANIFEST.md: "by exact name").
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from reconciler.core.model import Department, Directory, Group, Item, ItemKind, User

PATH_SEPARATOR = "/"
MAX_CANDIDATES = 5

K = TypeVar("K")
V = TypeVar("V")


def normalize_path(path: str) -> str:
    """`/Acme / Sales/` → `Acme/Sales`: tolerate stray separators and spaces around segments."""
    return PATH_SEPARATOR.join(s.strip() for s in path.strip().strip(PATH_SEPARATOR).split(PATH_SEPARATOR))


def closest(name: str, candidates: Iterable[str], limit: int = MAX_CANDIDATES) -> list[str]:
    """The candidates most like `name` (case-insensitive), best first, at most `limit`."""
    by_folded: dict[str, str] = {}
    for candidate in sorted(set(candidates)):
        by_folded.setdefault(candidate.casefold(), candidate)
    matches = difflib.get_close_matches(name.casefold(), list(by_folded), n=limit, cutoff=0.5)
    return [by_folded[m] for m in matches]


def _group_by(pairs: Iterable[tuple[K, V]]) -> dict[K, tuple[V, ...]]:
    grouped: defaultdict[K, list[V]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return {k: tuple(v) for k, v in grouped.items()}


def _department_paths(departments: Mapping[str, Department]) -> dict[str, str]:
    """Path of every department; a parent that is unknown (outside a scoped read) or a cycle ends the path."""
    paths: dict[str, str] = {}
    for dept_id in departments:
        names: list[str] = []
        seen: set[str] = set()
        current: str | None = dept_id
        while current is not None and current in departments and current not in seen:
            seen.add(current)
            names.append(departments[current].name)
            current = departments[current].parent_id
        paths[dept_id] = PATH_SEPARATOR.join(reversed(names))
    return paths


def _orphan_rooted(departments: Mapping[str, Department]) -> frozenset[str]:
    """Departments whose topmost visible ancestor has a parent outside the directory (a partial tree)."""
    orphan_roots = {
        d.id for d in departments.values() if d.parent_id is not None and d.parent_id not in departments
    }
    found: set[str] = set()
    for dept_id in departments:
        seen: set[str] = set()
        current = dept_id
        while departments[current].parent_id in departments and current not in seen:
            seen.add(current)
            current = departments[current].parent_id or ""
        if current in orphan_roots and current not in seen:  # a cycle has no root
            found.add(dept_id)
    return frozenset(found)


@dataclass(frozen=True)
class DirectoryIndex:
    """Every lookup resolution and planning need, keyed the way manifests name things."""

    directory: Directory
    users_by_id: Mapping[str, User]
    users_by_login: Mapping[str, tuple[User, ...]]  # casefolded login
    users_by_email: Mapping[str, tuple[User, ...]]  # casefolded email
    departments_by_id: Mapping[str, Department]
    department_paths: Mapping[str, str]  # id -> "Acme/Sales/EMEA"
    departments_by_path: Mapping[str, tuple[Department, ...]]
    children: Mapping[str, tuple[str, ...]]  # department id -> child department ids
    department_members: Mapping[str, tuple[str, ...]]  # department id -> user ids (direct members)
    groups_by_id: Mapping[str, Group]
    groups_by_name: Mapping[str, tuple[Group, ...]]
    group_members: Mapping[str, tuple[str, ...]]  # group id -> user ids
    items_by_id: Mapping[str, Item]
    items_by_title: Mapping[tuple[ItemKind, str], tuple[Item, ...]]
    # departments below a visible root whose own parent is invisible (a department administrator's view)
    orphan_rooted: frozenset[str] = frozenset()

    @classmethod
    def build(cls, directory: Directory) -> DirectoryIndex:
        """Index a directory; linear in its size."""
        departments = {d.id: d for d in directory.departments}
        paths = _department_paths(departments)
        return cls(
            directory=directory,
            users_by_id={u.id: u for u in directory.users},
            users_by_login=_group_by((u.login.casefold(), u) for u in directory.users if u.login),
            users_by_email=_group_by((u.email.casefold(), u) for u in directory.users if u.email),
            departments_by_id=departments,
            department_paths=paths,
            departments_by_path=_group_by((paths[d.id], d) for d in directory.departments),
            children=_group_by((d.parent_id, d.id) for d in directory.departments if d.parent_id is not None),
            department_members=_group_by(
                (u.department_id, u.id) for u in directory.users if u.department_id is not None
            ),
            groups_by_id={g.id: g for g in directory.groups},
            groups_by_name=_group_by((g.name, g) for g in directory.groups),
            group_members=_group_by((g, u.id) for u in directory.users for g in sorted(u.group_ids)),
            items_by_id={i.id: i for i in directory.items},
            items_by_title=_group_by(((i.kind, i.title), i) for i in directory.items),
            orphan_rooted=_orphan_rooted(departments),
        )

    def departments_at(self, path: str) -> tuple[Department, ...]:
        """Departments a manifest path names: its exact matches, else the one it names below a hidden root.

        A department administrator sees only the departments they manage, so the visible tree starts at e.g.
        `Engineering` (its parent `Acme` is not in the directory) while manifests, written by people who know
        the whole organisation, say `Acme/Engineering/Platform`. When nothing matches exactly, the path is
        matched against orphan-rooted paths (those whose topmost visible department has an invisible parent)
        by dropping leading components: `Engineering/Platform`, then `Platform`. It resolves only when
        exactly one orphan-rooted department matches over all such suffixes. Why this is safe: the dropped
        components are precisely the part of the tree the caller cannot see, so no visible department
        contradicts them; a suffix of a full tree (no orphan) is never matched, so a typo in a visible
        path is still an error; and two candidates (e.g. `Engineering/Platform` and an orphan `Platform`)
        are not guessed between, the reference stays unknown and both are offered as candidates.
        """
        exact = self.departments_by_path.get(path, ())
        if exact:
            return exact
        below = self.below_hidden_root(path)
        return below if len(below) == 1 else ()

    def below_hidden_root(self, path: str) -> tuple[Department, ...]:
        """Orphan-rooted departments whose path is `path` with one or more leading components dropped."""
        parts = path.split(PATH_SEPARATOR)
        found: list[Department] = []
        for start in range(1, len(parts)):
            suffix = PATH_SEPARATOR.join(parts[start:])
            found.extend(d for d in self.departments_by_path.get(suffix, ()) if d.id in self.orphan_rooted)
        return tuple(found)

    def department_path(self, department_id: str | None) -> str:
        """The department's path, or "" for no or an unknown department."""
        if department_id is None:
            return ""
        return self.department_paths.get(department_id, "")

    def user_department(self, user_id: str) -> str:
        """The path of a user's department, for plan summaries."""
        user = self.users_by_id.get(user_id)
        return self.department_path(user.department_id) if user else ""

    def subtree(self, department_id: str) -> list[str]:
        """The department and all its descendants (cycle-safe)."""
        found: list[str] = []
        seen: set[str] = set()
        stack = [department_id]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            found.append(current)
            stack.extend(self.children.get(current, ()))
        return found

    def department_users(self, department_id: str, *, recursive: bool) -> set[str]:
        """Ids of the users in a department, and in its sub-departments when `recursive`."""
        ids = self.subtree(department_id) if recursive else [department_id]
        return {u for d in ids for u in self.department_members.get(d, ())}

    def users_named(self, name: str) -> tuple[User, ...]:
        """Users whose login, or failing that whose email, is `name` (case-insensitive)."""
        folded = name.strip().casefold()
        return self.users_by_login.get(folded) or self.users_by_email.get(folded, ())

    def items_of_kind(self, kind: ItemKind) -> list[Item]:
        """Every catalog item of one kind."""
        return [i for i in self.directory.items if i.kind is kind]

"""Synthetic organisations of any size, the same for the same arguments (a seeded random generator)."""

from __future__ import annotations

import datetime as dt
import random

from reconciler.sandbox.org.spec import (
    ORG_EPOCH,
    CourseSpec,
    DepartmentSpec,
    EnrollmentSpec,
    LearningPathSpec,
    OrgSpec,
    UserSpec,
)

ROOT_NAME = "Example Corp"
_AREAS = ("Sales", "Engineering", "Finance", "Support", "Operations", "Marketing", "Legal", "Warehouse", "HR")
_GROUPS = ("New hires", "Managers", "Contractors", "Remote", "First aiders", "Drivers", "Mentors")
_TOPICS = (
    "Security Awareness",
    "Anti-Bribery",
    "Forklift Safety",
    "Data Protection",
    "Code of Conduct",
    "Fire Safety",
    "Harassment Prevention",
    "Export Controls",
)
_FIRST = (
    "Helen",
    "Kevin",
    "Olga",
    "Ahmed",
    "Mei",
    "Lucas",
    "Sofia",
    "Noah",
    "Amara",
    "Jonas",
    "Priya",
    "Leo",
)
_LAST = ("Jones", "Klein", "Ivanova", "Haddad", "Chen", "Silva", "Rossi", "Smith", "Okafor", "Berg", "Rao")
_USER_STATUSES = (("active", 90), ("blocked", 4), ("inactive", 3), ("employment_ended", 3))
_COMPLETION = (("not_started", 40), ("in_progress", 25), ("complete", 25), ("passed", 5), ("failed", 5))


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


def _numbered(words: tuple[str, ...], n: int) -> str:
    """Names that read like real ones and stay unique: `Sales`, ..., then `Sales 2`, ..."""
    word, round_ = words[n % len(words)], n // len(words)
    return word if round_ == 0 else f"{word} {round_ + 1}"


def _department_tree(count: int, rng: random.Random) -> tuple[DepartmentSpec, list[str]]:
    """A root and `count - 1` departments below it, each under a random earlier one."""
    names = [ROOT_NAME] + [_numbered(_AREAS, n) for n in range(count - 1)]
    # Parents come from the first few departments, so the tree is a few levels deep, like a real company.
    parents = [-1] + [rng.randrange(0, min(n, 1 + int(n**0.5))) for n in range(1, count)]
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(parents[1:], start=1):
        children.setdefault(parent, []).append(index)
    paths = [""] * count

    def build(index: int, prefix: str) -> DepartmentSpec:
        path = f"{prefix}/{names[index]}" if prefix else names[index]
        paths[index] = path
        return DepartmentSpec(names[index], tuple(build(c, path) for c in children.get(index, [])))

    return build(0, ""), paths


def _users(count: int, paths: list[str], groups: tuple[str, ...], rng: random.Random) -> list[UserSpec]:
    users = []
    leaves = paths[1:] or paths
    for n in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        department = rng.choice(leaves)
        admin = n % 1000 == 999  # a few department administrators, each managing their own department
        users.append(
            UserSpec(
                login=f"{first}.{last}.{n}@example.com".lower(),
                first_name=first,
                last_name=last,
                department=department,
                groups=tuple(sorted(set(rng.sample(groups, min(len(groups), rng.randrange(0, 3)))))),
                status=_weighted(rng, _USER_STATUSES),
                role="department_administrator" if admin else "learner",
                manages=(department,) if admin else (),
            )
        )
    return users


def _enrollment(user: str, item: str, kind: str, rng: random.Random) -> EnrollmentSpec:
    access = ORG_EPOCH - dt.timedelta(days=rng.randrange(0, 365))
    status = _weighted(rng, _COMPLETION)
    finished = status in ("complete", "passed")
    due_roll = rng.random()
    due_type = "due_date" if due_roll < 0.5 else "due_period" if due_roll < 0.7 else "default"
    return EnrollmentSpec(
        user=user,
        item=item,
        kind=kind,
        status=status,
        progress=None if finished or status == "not_started" else float(rng.randrange(5, 95)),
        origin="catalog" if rng.random() < 0.1 else "admin",
        access=access,
        due_type=due_type,
        due_date=access + dt.timedelta(days=rng.randrange(14, 120)) if due_type == "due_date" else None,
        due_period_hours=24 * 30 if due_type == "due_period" else None,
        lock_after_due=rng.random() < 0.1,
        completed=access + dt.timedelta(days=rng.randrange(1, 60)) if finished else None,
        score=float(rng.randrange(40, 101)) if status in ("passed", "failed") else None,
    )


def generate_org(
    users: int,
    departments: int = 10,
    groups: int = 5,
    courses: int = 20,
    learning_paths: int = 3,
    enrollments_per_user: int = 4,
    seed: int = 1,
) -> OrgSpec:
    """A synthetic organisation; the same arguments always give the same organisation."""
    rng = random.Random(seed)
    root, paths = _department_tree(max(1, departments), rng)
    group_names = tuple(_numbered(_GROUPS, n) for n in range(groups))
    course_specs = tuple(CourseSpec(_numbered(_TOPICS, n)) for n in range(courses))
    titles = [c.title for c in course_specs]
    path_specs = tuple(
        LearningPathSpec(f"Path {n + 1}", tuple(rng.sample(titles, min(len(titles), rng.randrange(2, 6)))))
        for n in range(learning_paths if titles else 0)
    )
    user_specs = _users(users, paths, group_names, rng)
    items = [(t, "course") for t in titles] + [(p.title, "learning_path") for p in path_specs]
    enrollments = [
        _enrollment(user.login, *items[i], rng)
        for user in user_specs
        for i in sorted(rng.sample(range(len(items)), min(len(items), enrollments_per_user)))
    ]
    return OrgSpec(
        departments=(root,),
        groups=group_names,
        users=tuple(user_specs),
        courses=course_specs,
        learning_paths=path_specs,
        enrollments=tuple(enrollments),
    )

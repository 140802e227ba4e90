"""The sandbox organisation, as read from its YAML file (MANIFEST.md, "Sandbox organisation file")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Dates the file leaves out (access, assignment) default to this fixed moment, not to "now", so seeding
# the same file twice gives the same store.
ORG_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class DepartmentSpec:
    """A department and its sub-departments."""

    name: str
    children: tuple[DepartmentSpec, ...] = ()


@dataclass(frozen=True)
class UserSpec:
    """A user; `department` is a path like `Acme/Sales/EMEA`; `manages` (extension) lists department paths."""

    login: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""  # empty: same as login
    department: str | None = None
    groups: tuple[str, ...] = ()
    status: str = "active"
    role: str = "learner"  # extension: learner | administrator | department_administrator
    manages: tuple[str, ...] = ()  # extension: departments a department administrator manages
    job_title: str = ""  # extension
    added: dt.datetime | None = None  # extension: when the account was created (joined); None: ORG_EPOCH


@dataclass(frozen=True)
class CourseSpec:
    """A course."""

    title: str
    code: str = ""
    default_due_days: int | None = None  # extension: the item's own default due period
    valid_days: int | None = None  # extension: how long a completion stays compliant (Litmos CompliantTill)


@dataclass(frozen=True)
class LearningPathSpec:
    """A learning path (iSpring learning track) and its courses, by title."""

    title: str
    courses: tuple[str, ...] = ()
    code: str = ""
    default_due_days: int | None = None


@dataclass(frozen=True)
class EnrollmentSpec:
    """One enrollment the LMS already holds; `kind` is `course` or `learning_path`."""

    user: str
    item: str
    kind: str = "course"
    status: str = "not_started"  # iSpring completion status vocabulary
    progress: float | None = None  # None: 100 for finished statuses, else 0
    origin: str = "admin"  # extension: admin | catalog
    access: dt.datetime | None = None  # extension; None: ORG_EPOCH
    due_type: str = "default"  # from `due`: a date | unlimited | default | {within: 30d}
    due_date: dt.datetime | None = None
    due_period_hours: int | None = None
    lock_after_due: bool = False  # extension
    completed: dt.datetime | None = None  # extension: completion date
    score: float | None = None  # extension


@dataclass(frozen=True)
class CompletionSpec:
    """A completion scripted at a date (extension): the learner finishes the item then, if enrolled."""

    user: str
    item: str
    at: dt.datetime
    kind: str = "course"
    status: str = "complete"  # complete | passed | accepted
    score: float | None = None


@dataclass(frozen=True)
class GenerateSpec:
    """The `generate:` block: a synthetic organisation of this size, added to what the file lists."""

    users: int = 0
    departments: int = 1
    groups: int = 0
    courses: int = 0
    learning_paths: int = 0
    enrollments_per_user: int = 0
    seed: int = 1


@dataclass(frozen=True)
class OrgSpec:
    """A whole sandbox organisation."""

    departments: tuple[DepartmentSpec, ...] = ()
    groups: tuple[str, ...] = ()
    users: tuple[UserSpec, ...] = ()
    courses: tuple[CourseSpec, ...] = ()
    learning_paths: tuple[LearningPathSpec, ...] = ()
    enrollments: tuple[EnrollmentSpec, ...] = ()
    generate: GenerateSpec | None = None
    completions: tuple[CompletionSpec, ...] = ()  # extension: completions scripted at dates


def department_paths(departments: tuple[DepartmentSpec, ...], prefix: str = "") -> list[str]:
    """Every department path in the tree, parents before children."""
    paths: list[str] = []
    for department in departments:
        path = f"{prefix}/{department.name}" if prefix else department.name
        paths.append(path)
        paths.extend(department_paths(department.children, path))
    return paths

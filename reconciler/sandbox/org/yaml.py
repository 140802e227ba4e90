"""Reading and writing the sandbox organisation file (YAML)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import yaml

from reconciler.errors import ConfigError
from reconciler.sandbox.org.dump import dump_org_json, dump_org_yaml, org_data
from reconciler.sandbox.org.spec import (
    CompletionSpec,
    CourseSpec,
    DepartmentSpec,
    EnrollmentSpec,
    GenerateSpec,
    LearningPathSpec,
    OrgSpec,
    UserSpec,
    department_paths,
)
from reconciler.sandbox.store.records import COMPLETION_STATUSES, ORIGINS, ROLES, USER_STATUSES

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PERIOD = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_PERIOD_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
__all__ = ["dump_org_json", "dump_org_yaml", "load_org", "org_data", "parse_org", "to_datetime"]
_TOP_KEYS = {
    *("departments", "groups", "users", "courses", "learning_paths", "enrollments", "generate"),
    "events",  # scripted HR changes, read by org/events.py
    "completions",
}


class _Problems:
    """Collects every problem in a file, so one run reports them all."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.messages.append(f"{self.source}: {where}: {message}")

    def raise_if_any(self) -> None:
        if self.messages:
            raise ConfigError("invalid sandbox organisation file:\n" + "\n".join(self.messages))


def load_org(path: str) -> OrgSpec:
    """Read and check a sandbox organisation file."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise ConfigError(f"cannot read sandbox organisation file {path}: {error.strerror}") from error
    return parse_org(text, path)


def parse_org(text: str, source: str = "<org>") -> OrgSpec:
    """Parse the YAML text of an organisation file; every problem is reported in one ConfigError."""
    data = _load(text, source)
    problems = _Problems(source)
    if not isinstance(data, dict):
        problems.add("(top)", "expected a mapping with departments, groups, users, ...")
        problems.raise_if_any()
    for key in sorted(set(data) - _TOP_KEYS):
        problems.add(str(key), f"unknown key (expected one of {', '.join(sorted(_TOP_KEYS))})")
    org = OrgSpec(
        departments=tuple(
            _department(d, f"departments[{n}]", problems) for n, d in _items(data, "departments")
        ),
        groups=tuple(str(g) for _, g in _items(data, "groups")),
        users=tuple(_user(u, f"users[{n}]", problems) for n, u in _items(data, "users")),
        courses=tuple(_course(c, f"courses[{n}]", problems) for n, c in _items(data, "courses")),
        learning_paths=tuple(
            _path(p, f"learning_paths[{n}]", problems) for n, p in _items(data, "learning_paths")
        ),
        enrollments=tuple(
            _enrollment(e, f"enrollments[{n}]", problems) for n, e in _items(data, "enrollments")
        ),
        generate=_generate(data.get("generate"), problems),
        completions=tuple(
            _completion(c, f"completions[{n}]", problems) for n, c in _items(data, "completions")
        ),
    )
    check_references(org, problems)
    problems.raise_if_any()
    return org


def _load(text: str, source: str) -> Any:
    # JSON is YAML too, and parses ~100x faster: big generated organisations can be written as JSON.
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML flow style also starts with "{"
    try:
        return yaml.load(text, Loader=_LOADER) or {}  # noqa: S506 - a safe loader (C or Python)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from error


def _items(data: dict[str, Any], key: str) -> list[tuple[int, Any]]:
    value = data.get(key) or []
    return list(enumerate(value if isinstance(value, list) else [value]))


def _mapping(value: Any, where: str, problems: _Problems, required: str) -> dict[str, Any]:
    if isinstance(value, str):
        return {required: value}
    if not isinstance(value, dict) or required not in value:
        problems.add(where, f"expected a mapping with `{required}`")
        return {required: str(value)}
    return value


def _department(value: Any, where: str, problems: _Problems) -> DepartmentSpec:
    data = _mapping(value, where, problems, "name")
    children = data.get("children") or []
    return DepartmentSpec(
        str(data["name"]),
        tuple(_department(c, f"{where}.children[{n}]", problems) for n, c in enumerate(children)),
    )


def _choice(value: Any, allowed: tuple[str, ...], where: str, problems: _Problems) -> str:
    text = str(value)
    if text not in allowed:
        problems.add(where, f"{text!r} is not one of {', '.join(allowed)}")
    return text


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _user(value: Any, where: str, problems: _Problems) -> UserSpec:
    data = _mapping(value, where, problems, "login")
    return UserSpec(
        login=str(data["login"]),
        first_name=str(data.get("first_name", "")),
        last_name=str(data.get("last_name", "")),
        email=str(data.get("email", "")),
        department=None if data.get("department") is None else str(data["department"]),
        groups=_strings(data.get("groups")),
        status=_choice(data.get("status", "active"), USER_STATUSES, f"{where}.status", problems),
        role=_choice(data.get("role", "learner"), ROLES, f"{where}.role", problems),
        manages=_strings(data.get("manages")),
        job_title=str(data.get("job_title", "")),
        added=_moment(data, "added", where, problems),
    )


def _days(value: Any, where: str, problems: _Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and value > 0:
        return value
    problems.add(where, "expected a positive number of days")
    return None


def _course(value: Any, where: str, problems: _Problems) -> CourseSpec:
    data = _mapping(value, where, problems, "title")
    days = _days(data.get("default_due_days"), f"{where}.default_due_days", problems)
    valid = _days(data.get("valid_days"), f"{where}.valid_days", problems)
    return CourseSpec(str(data["title"]), str(data.get("code", "")), days, valid)


def _path(value: Any, where: str, problems: _Problems) -> LearningPathSpec:
    data = _mapping(value, where, problems, "title")
    days = _days(data.get("default_due_days"), f"{where}.default_due_days", problems)
    return LearningPathSpec(
        str(data["title"]), _strings(data.get("courses")), str(data.get("code", "")), days
    )


def to_datetime(value: Any) -> dt.datetime | None:
    """A YAML date, datetime or ISO string as an aware UTC datetime; None if it is none of those."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            return to_datetime(dt.datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _moment(data: dict[str, Any], key: str, where: str, problems: _Problems) -> dt.datetime | None:
    if data.get(key) is None:
        return None
    moment = to_datetime(data[key])
    if moment is None:
        problems.add(f"{where}.{key}", f"{data[key]!r} is not a date")
    return moment


def _due(value: Any, where: str, problems: _Problems) -> tuple[str, dt.datetime | None, int | None]:
    if value is None or value == "default":
        return "default", None, None
    if value == "unlimited":
        return "unlimited", None, None
    if isinstance(value, dict) and "within" in value:
        match = _PERIOD.match(str(value["within"]))
        if match:
            return "due_period", None, int(match.group(1)) * _PERIOD_HOURS[match.group(2)]
    moment = to_datetime(value)
    if moment is None:
        problems.add(f"{where}.due", "expected a date, unlimited, default or {within: 30d}")
        return "default", None, None
    return "due_date", moment, None


def _enrollment(value: Any, where: str, problems: _Problems) -> EnrollmentSpec:
    data = _mapping(value, where, problems, "user")
    kinds = [k for k in ("course", "learning_path") if k in data]
    if len(kinds) != 1:
        problems.add(where, "needs exactly one of `course` or `learning_path`")
    kind = kinds[0] if kinds else "course"
    due_type, due_date, period = _due(data.get("due"), where, problems)
    progress, score = data.get("progress"), data.get("score")
    return EnrollmentSpec(
        user=str(data["user"]),
        item=str(data.get(kind, "")),
        kind=kind,
        status=_choice(data.get("status", "not_started"), COMPLETION_STATUSES, f"{where}.status", problems),
        progress=None if progress is None else float(progress),
        origin=_choice(data.get("origin", "admin"), ORIGINS, f"{where}.origin", problems),
        access=_moment(data, "access", where, problems),
        due_type=due_type,
        due_date=due_date,
        due_period_hours=period,
        lock_after_due=bool(data.get("lock_after_due", False)),
        completed=_moment(data, "completed", where, problems),
        score=None if score is None else float(score),
    )


def _completion(value: Any, where: str, problems: _Problems) -> CompletionSpec:
    data = _mapping(value, where, problems, "user")
    kinds = [k for k in ("course", "learning_path") if k in data]
    if len(kinds) != 1:
        problems.add(where, "needs exactly one of `course` or `learning_path`")
    at = _moment(data, "at", where, problems)
    if at is None:
        problems.add(f"{where}.at", "expected the date of the completion")
    score = data.get("score")
    return CompletionSpec(
        user=str(data["user"]),
        item=str(data.get(kinds[0] if kinds else "course", "")),
        at=at or dt.datetime.min.replace(tzinfo=dt.UTC),
        kind=kinds[0] if kinds else "course",
        status=_choice(data.get("status", "complete"), ("complete", "passed", "accepted"), where, problems),
        score=None if score is None else float(score),
    )


def _generate(value: Any, problems: _Problems) -> GenerateSpec | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add("generate", "expected a mapping")
        return None
    known = set(GenerateSpec.__dataclass_fields__)
    for key in sorted(set(value) - known):
        problems.add(f"generate.{key}", f"unknown key (expected one of {', '.join(sorted(known))})")
    numbers = {k: v for k, v in value.items() if k in known}
    for key, number in numbers.items():
        if not isinstance(number, int) or number < 0:
            problems.add(f"generate.{key}", "expected a whole number ≥ 0")
            return None
    return GenerateSpec(**numbers)


def check_references(org: OrgSpec, problems: _Problems) -> None:
    """Every name an entry refers to exists and every entity's name is unique."""
    paths = department_paths(org.departments)
    _unique("departments", paths, problems)
    _unique("groups", list(org.groups), problems)
    _unique("users", [u.login.lower() for u in org.users], problems)
    titles = [c.title for c in org.courses] + [p.title for p in org.learning_paths]
    _unique("courses and learning_paths", titles, problems)
    known_paths, groups = set(paths), set(org.groups)
    courses, lps = {c.title for c in org.courses}, {p.title for p in org.learning_paths}
    for n, user in enumerate(org.users):
        for path in (user.department, *user.manages):
            if path is not None and path not in known_paths:
                problems.add(f"users[{n}]", f"unknown department {path!r}")
        for group in set(user.groups) - groups:
            problems.add(f"users[{n}].groups", f"unknown group {group!r}")
    for n, lp in enumerate(org.learning_paths):
        for title in set(lp.courses) - courses:
            problems.add(f"learning_paths[{n}].courses", f"unknown course {title!r}")
    logins = {u.login.lower() for u in org.users}
    for n, enrollment in enumerate(org.enrollments):
        if enrollment.user.lower() not in logins:
            problems.add(f"enrollments[{n}].user", f"unknown user {enrollment.user!r}")
        if enrollment.item not in (courses if enrollment.kind == "course" else lps):
            problems.add(
                f"enrollments[{n}].{enrollment.kind}", f"unknown {enrollment.kind} {enrollment.item!r}"
            )
    for n, completion in enumerate(org.completions):
        if completion.user.lower() not in logins:
            problems.add(f"completions[{n}].user", f"unknown user {completion.user!r}")
        if completion.item not in (courses if completion.kind == "course" else lps):
            where = f"completions[{n}].{completion.kind}"
            problems.add(where, f"unknown {completion.kind} {completion.item!r}")


def _unique(what: str, names: list[str], problems: _Problems) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add(what, f"{name!r} appears more than once")
        seen.add(name)

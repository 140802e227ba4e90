"""Writing the sandbox organisation file: the inverse of `yaml.parse_org` (round trips are tested)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import yaml

from reconciler.sandbox.org.spec import (
    CompletionSpec,
    CourseSpec,
    DepartmentSpec,
    EnrollmentSpec,
    OrgSpec,
    UserSpec,
)

_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_org_json(org: OrgSpec) -> str:
    """The organisation as JSON (valid YAML, and much faster to load for big organisations)."""
    return json.dumps(org_data(org), default=str, separators=(",", ":")) + "\n"


def dump_org_yaml(org: OrgSpec) -> str:
    """The organisation as an organisation file (entries in flow style, one per line)."""
    text: str = yaml.dump(org_data(org), Dumper=_DUMPER, sort_keys=False, default_flow_style=None, width=200)
    return text


def org_data(org: OrgSpec) -> dict[str, Any]:
    """The organisation as the plain data of its file."""
    data: dict[str, Any] = {}
    if org.departments:
        data["departments"] = [_department_data(d) for d in org.departments]
    if org.groups:
        data["groups"] = list(org.groups)
    if org.users:
        data["users"] = [_user_data(u) for u in org.users]
    if org.courses:
        data["courses"] = [_course_data(c) for c in org.courses]
    if org.learning_paths:
        data["learning_paths"] = [
            _item_data(p.title, p.code, p.default_due_days, list(p.courses)) for p in org.learning_paths
        ]
    if org.enrollments:
        data["enrollments"] = [_enrollment_data(e) for e in org.enrollments]
    if org.generate is not None:
        data["generate"] = dict(vars(org.generate))
    if org.completions:
        data["completions"] = [_completion_data(c) for c in org.completions]
    return data


def _course_data(c: CourseSpec) -> dict[str, Any]:
    data = _item_data(c.title, c.code, c.default_due_days, None)
    if c.valid_days is not None:
        data["valid_days"] = c.valid_days
    return data


def _completion_data(c: CompletionSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"user": c.user, c.kind: c.item, "at": _date_value(c.at)}
    if c.status != "complete":
        data["status"] = c.status
    if c.score is not None:
        data["score"] = c.score
    return data


def _department_data(d: DepartmentSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"name": d.name}
    if d.children:
        data["children"] = [_department_data(c) for c in d.children]
    return data


def _user_data(u: UserSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"login": u.login, "first_name": u.first_name, "last_name": u.last_name}
    if u.email and u.email != u.login:
        data["email"] = u.email
    optional = {
        "department": u.department,
        "job_title": u.job_title or None,
        "added": _date_value(u.added) if u.added else None,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    if u.groups:
        data["groups"] = list(u.groups)
    data["status"] = u.status
    if u.role != "learner":
        data["role"] = u.role
    if u.manages:
        data["manages"] = list(u.manages)
    return data


def _item_data(title: str, code: str, days: int | None, courses: list[str] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"title": title}
    if code:
        data["code"] = code
    if days is not None:
        data["default_due_days"] = days
    if courses is not None:
        data["courses"] = courses
    return data


def _date_value(moment: dt.datetime) -> dt.date | str:
    if moment.time() == dt.time(0) and moment.utcoffset() == dt.timedelta(0):
        return moment.date()
    return moment.isoformat()


def _enrollment_data(e: EnrollmentSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"user": e.user, e.kind: e.item, "status": e.status}
    if e.progress is not None:
        data["progress"] = int(e.progress) if e.progress == int(e.progress) else e.progress
    if e.origin != "admin":
        data["origin"] = e.origin
    if e.access is not None:
        data["access"] = _date_value(e.access)
    if e.due_type == "due_date" and e.due_date is not None:
        data["due"] = _date_value(e.due_date)
    elif e.due_type == "due_period" and e.due_period_hours is not None:
        data["due"] = {"within": f"{e.due_period_hours}h"}
    elif e.due_type == "unlimited":
        data["due"] = "unlimited"
    if e.lock_after_due:
        data["lock_after_due"] = True
    if e.completed is not None:
        data["completed"] = _date_value(e.completed)
    if e.score is not None:
        data["score"] = e.score
    return data

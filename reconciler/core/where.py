"""Narrow a policy's targets by profile fields (`where`) and join date (`joined_within`); resolve a due date
counted from the hire date. Pure: `now` is passed in.

`where` and `joined_within` narrow the users the other targets select; given alone, they select from
everyone. A field name the vendor does not expose is a diagnostic listing the vendor's fields, and the
condition then matches nobody. Without `now` (online validation, which only checks names) the join date is
not applied. A user whose join date the vendor does not report is never in a `joined_within` window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from reconciler.core.attributes import FieldCondition, field_key
from reconciler.core.directory import DirectoryIndex, closest
from reconciler.core.model import Directory, Due, DueKind, Policy, Targets, Terms, User, format_hours
from reconciler.errors import Diagnostic


def narrows(targets: Targets) -> bool:
    """True when `where` or `joined_within` narrow the targets (alone, they select from everyone)."""
    return bool(targets.where) or targets.joined_within_hours is not None


def lists(targets: Targets) -> bool:
    """True when any of everyone, departments, groups, users is given."""
    return targets.everyone or bool(targets.departments or targets.groups or targets.users)


def narrow(
    policy: Policy, matched: Mapping[str, list[str]], index: DirectoryIndex, now: dt.datetime | None
) -> tuple[dict[str, list[str]], list[Diagnostic]]:
    """User id → rules, keeping only the users the narrowing admits; the rules name the narrowing too."""
    targets = policy.targets
    if not narrows(targets):
        return dict(matched), []
    problems: list[Diagnostic] = []
    fields = _resolve_fields(policy, index.directory, problems)
    since = None
    if targets.joined_within_hours is not None and now is not None:
        since = now - dt.timedelta(hours=targets.joined_within_hours)
    text = narrowing_text(policy)
    base = matched if lists(targets) else {u.id: [] for u in index.directory.users}
    kept: dict[str, list[str]] = {}
    for user_id, rules in base.items():
        user = index.users_by_id.get(user_id)
        if user is None or not _admits(user, fields, since):
            continue
        kept[user_id] = [f"{rule}, {text}" for rule in rules] if rules else [text]
    return kept, problems


def narrowing_text(policy: Policy) -> str:
    """How plans name the narrowing: `where: job_title equals Forklift Operator; joined within 30d`."""
    parts = [f"where: {'; '.join(str(c) for c in policy.targets.where)}"] if policy.targets.where else []
    if policy.targets.joined_within_hours is not None:
        parts.append(f"joined within {format_hours(policy.targets.joined_within_hours)}")
    return "; ".join(parts)


def _resolve_fields(
    policy: Policy, directory: Directory, problems: list[Diagnostic]
) -> list[tuple[FieldCondition, str | None]]:
    """Each condition with the field key it reads (None: the vendor has no such field)."""
    known = {field_key(name): name for name in directory.user_fields}
    resolved: list[tuple[FieldCondition, str | None]] = []
    for index, condition in enumerate(policy.targets.where):
        key = field_key(condition.field)
        if key not in known:
            candidates = closest(condition.field, directory.user_fields) or list(directory.user_fields)
            problems.append(
                Diagnostic(
                    condition.position if condition.position.file else policy.position,
                    f"spec.targets.where[{index}].field",
                    f"policy {policy.name!r}: unknown user field {condition.field!r}",
                    f"fields this LMS reports: {', '.join(candidates[:12]) or 'none'}",
                )
            )
            resolved.append((condition, None))
        else:
            resolved.append((condition, key))
    if policy.targets.joined_within_hours is not None and not directory.joined_from:
        problems.append(
            Diagnostic(
                policy.position,
                "spec.targets.joined_within",
                f"policy {policy.name!r}: this LMS reports no join date for its users",
                "remove joined_within, or use a group of new hires",
            )
        )
    return resolved


def _admits(user: User, fields: list[tuple[FieldCondition, str | None]], since: dt.datetime | None) -> bool:
    values = {field_key(name): value for name, value in user.fields}
    for condition, key in fields:
        if key is None or not condition.matches(values.get(key)):
            return False
    return since is None or (user.joined is not None and user.joined >= since)


def terms_for(terms: Terms, user: User | None) -> Terms:
    """`due: {within: 14d, from: hire_date}` as this learner's due date (their join date + the period);
    a learner without a join date falls back to the period after their access date."""
    due = terms.due
    if due.kind is not DueKind.WITHIN or not due.from_hire_date or due.hours is None:
        return terms
    if user is None or user.joined is None:
        return Terms(Due(DueKind.WITHIN, hours=due.hours), terms.lock_after_due, terms.access)
    date = (user.joined + dt.timedelta(hours=due.hours)).date()
    return Terms(Due(DueKind.DATE, date=date), terms.lock_after_due, terms.access)

"""Reading a plan back: `plan_from_dict` inverts `codec.plan_to_dict` exactly; anything malformed is a
PlanError that says where (`providers[0].actions[3].terms`), never a half-read plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.model import (
    Completion,
    Due,
    DueKind,
    Enrollment,
    ItemKind,
    Origin,
    ProviderKind,
    Terms,
)
from reconciler.core.plan import (
    Action,
    ActionKind,
    IdentityIssue,
    IdentityProblem,
    IdentityReport,
    Kept,
    KeptReason,
    Plan,
    ProviderPlan,
    Risk,
    RunOptions,
    Source,
    Summary,
    Warning,
)
from reconciler.errors import PlanError, Position
from reconciler.planfile.codec import SUMMARY_FIELDS


def plan_from_dict(d: Mapping[str, Any]) -> Plan:
    """Rebuild a plan from `plan_to_dict` output; malformed data raises `PlanError` naming the field."""
    try:
        return _plan_from_dict(d)
    except PlanError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PlanError(f"plan data is malformed: {_describe(error)}") from error


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    return str(error)


def _plan_from_dict(d: Mapping[str, Any]) -> Plan:
    options = d["options"]
    plan = Plan(
        created_at=_required_datetime(d["created_at"]),
        manifest_digest=d["manifest_digest"],
        policy_files=tuple(str(f) for f in d.get("policy_files", ())),
        providers=tuple(_provider_from_dict(p, i) for i, p in enumerate(d["providers"])),
        options=RunOptions(
            allow_remove_started=bool(options["allow_remove_started"]),
            allow_remove_completed=bool(options["allow_remove_completed"]),
            allow_unknown=bool(options["allow_unknown"]),
            policies=tuple(options["policies"]),
        ),
        format_version=int(d["format_version"]),
        guard={str(k): str(v) for k, v in d["guard"].items()},
    )
    # `verdict` is derived and not read back: apply recomputes the guards and the digest from the plan itself
    return plan


def _provider_from_dict(d: Mapping[str, Any], index: int) -> ProviderPlan:
    identity = d["identity"]
    summary = d["summary"]
    return ProviderPlan(
        provider=d["provider"],
        kind=ProviderKind(d["kind"]),
        account=d["account"],
        actions=tuple(
            _action_from_dict(a, f"providers[{index}].actions[{n}]") for n, a in enumerate(d["actions"])
        ),
        kept=tuple(_kept_from_dict(k) for k in d["kept"]),
        identity=IdentityReport(
            issues=tuple(_issue_from_dict(i) for i in identity["issues"]),
            excluded=int(identity["excluded"]),
            not_enrollable=int(identity["not_enrollable"]),
        ),
        warnings=tuple(
            Warning(message=w["message"], position=_position_from_optional(w["position"]))
            for w in d["warnings"]
        ),
        summary=Summary(**{name: int(summary[name]) for name in SUMMARY_FIELDS}),
        managed_item_ids=tuple(d["managed_item_ids"]),
    )


def _action_from_dict(d: Mapping[str, Any], where: str) -> Action:
    action = Action(
        kind=ActionKind(d["kind"]),
        user_id=d["user_id"],
        user_login=d["user_login"],
        item_id=d["item_id"],
        item_kind=ItemKind(d["item_kind"]),
        item_title=d["item_title"],
        terms=None if d["terms"] is None else _terms_from_dict(d["terms"]),
        before=None if d["before"] is None else _enrollment_from_dict(d["before"]),
        sources=_sources_from_list(d["sources"]),
        changes=tuple(d["changes"]),
        risks=tuple(Risk(r) for r in d["risks"]),
        notify=bool(d["notify"]),
        department=d["department"],
    )
    if "id" in d and d["id"] != action.id:
        # The id is derived; a mismatch means someone edited the file by hand.
        raise PlanError(
            f"{where}.id: {d['id']!r} does not match its kind, user_id and item_id ({action.id!r})"
        )
    return action


def _terms_from_dict(d: Mapping[str, Any]) -> Terms:
    due = d["due"]
    return Terms(
        due=Due(
            kind=DueKind(due["kind"]), date=_date_from_optional(due["date"]), hours=_int_or_none(due["hours"])
        ),
        lock_after_due=bool(d["lock_after_due"]),
        access=_date_from_optional(d["access"]),
    )


def _enrollment_from_dict(d: Mapping[str, Any]) -> Enrollment:
    return Enrollment(
        user_id=d["user_id"],
        item_id=d["item_id"],
        item_kind=ItemKind(d["item_kind"]),
        id=d["id"],
        access=_datetime_from_optional(d["access"]),
        due=_datetime_from_optional(d["due"]),
        due_hours=_int_or_none(d["due_hours"]),
        due_is_default=bool(d["due_is_default"]),
        lock_after_due=bool(d["lock_after_due"]),
        origin=Origin(d["origin"]),
        completion=Completion(d["completion"]),
        progress=float(d["progress"]),
        completed_at=_datetime_from_optional(d["completed_at"]),
        unknown=str(d["unknown"]),
    )


def _kept_from_dict(d: Mapping[str, Any]) -> Kept:
    return Kept(
        reason=KeptReason(d["reason"]),
        user_id=d["user_id"],
        user_login=d["user_login"],
        item_id=d["item_id"],
        item_title=d["item_title"],
        detail=d["detail"],
        sources=_sources_from_list(d["sources"]),
    )


def _issue_from_dict(d: Mapping[str, Any]) -> IdentityIssue:
    return IdentityIssue(
        policy=d["policy"],
        reference=d["reference"],
        problem=IdentityProblem(d["problem"]),
        position=_position_from_dict(d["position"]),
        status=d["status"],
    )


def _sources_from_list(items: Sequence[Mapping[str, Any]]) -> tuple[Source, ...]:
    return tuple(
        Source(policy=s["policy"], position=_position_from_dict(s["position"]), rule=s["rule"]) for s in items
    )


def _position_from_dict(d: Mapping[str, Any]) -> Position:
    return Position(file=d["file"], line=int(d["line"]), col=int(d["col"]))


def _position_from_optional(d: Mapping[str, Any] | None) -> Position | None:
    return None if d is None else _position_from_dict(d)


def _date_from_optional(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date") from None


def _datetime_from_optional(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date and time") from None


def _required_datetime(value: str) -> dt.datetime:
    parsed = _datetime_from_optional(value)
    if parsed is None:
        raise ValueError("created_at is missing")
    return parsed


def _int_or_none(value: int | None) -> int | None:
    return None if value is None else int(value)

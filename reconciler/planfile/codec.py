"""The JSON form of a plan: what `plan --format json` prints and what saved plan files hold.

`plan_to_dict` and `plan_from_dict` are a lossless round trip of every `Plan` field: enums as their values,
dates and datetimes as ISO-8601, positions as `{file, line, col}`, each action's `before` enrollment in full.
Keys come in a fixed order (`format_version` first) so the same plan always renders to the same bytes.
`schemas/plan.schema.json` describes this shape; `reconciler.planfile.file` validates files against it.
A plan holds no secrets, and nothing here may add one (a test checks every key and value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
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
from reconciler.planfile.json_text import dumps_indented

JsonDict = dict[str, Any]

SUMMARY_FIELDS = (
    "add",
    "update",
    "remove",
    "kept",
    "unchanged",
    "managed",
    "untouched",
    "notifications",
    "estimated_calls",
    "unknown",
)


def plan_to_json(plan: Plan) -> str:
    """A plan as indented JSON with a stable key order and a trailing newline."""
    # the same text as json.dumps(..., indent=2, ensure_ascii=False, allow_nan=False), several times faster;
    # actions are written straight from the plan, without a dictionary each (imported here: it uses ours)
    from reconciler.planfile.json_actions import ActionsJson

    return dumps_indented(plan_to_dict(plan, actions=ActionsJson)) + "\n"


# --- to dict -------------------------------------------------------------------------------------------


def plan_to_dict(plan: Plan, *, actions: Callable[[Sequence[Action]], Any] | None = None) -> JsonDict:
    """Convert a plan to plain JSON data; `plan_from_dict` inverts it exactly.

    `actions` may stand in for the list of action dictionaries (render_json's text fragment)."""
    return {
        "format_version": plan.format_version,
        "created_at": plan.created_at.isoformat(),
        "manifest_digest": plan.manifest_digest,
        "options": {
            "allow_remove_started": plan.options.allow_remove_started,
            "allow_remove_completed": plan.options.allow_remove_completed,
            "allow_unknown": plan.options.allow_unknown,
            "policies": list(plan.options.policies),
        },
        "guard": {name: plan.guard[name] for name in sorted(plan.guard)},
        "providers": [_provider_to_dict(p, actions) for p in plan.providers],
    }


def _provider_to_dict(p: ProviderPlan, actions: Callable[[Sequence[Action]], Any] | None) -> JsonDict:
    return {
        "provider": p.provider,
        "kind": p.kind.value,
        "account": p.account,
        "summary": {name: getattr(p.summary, name) for name in SUMMARY_FIELDS},
        "managed_item_ids": list(p.managed_item_ids),
        "actions": [_action_to_dict(a) for a in p.actions] if actions is None else actions(p.actions),
        "kept": [_kept_to_dict(k) for k in p.kept],
        "identity": {
            "issues": [_issue_to_dict(i) for i in p.identity.issues],
            "excluded": p.identity.excluded,
            "not_enrollable": p.identity.not_enrollable,
        },
        "warnings": [{"message": w.message, "position": _position_or_none(w.position)} for w in p.warnings],
    }


def _action_to_dict(a: Action) -> JsonDict:
    # `id` is derived, written for consumers (journals, CI scripts); load checks it still matches.
    return {
        "id": a.id,
        "kind": a.kind.value,
        "user_id": a.user_id,
        "user_login": a.user_login,
        "department": a.department,
        "item_id": a.item_id,
        "item_kind": a.item_kind.value,
        "item_title": a.item_title,
        "terms": None if a.terms is None else _terms_to_dict(a.terms),
        "changes": list(a.changes),
        "risks": [r.value for r in a.risks],
        "notify": a.notify,
        "sources": [_source_to_dict(s) for s in a.sources],
        "before": None if a.before is None else _enrollment_to_dict(a.before),
    }


def _terms_to_dict(t: Terms) -> JsonDict:
    return {
        "due": {
            "kind": t.due.kind.value,
            "date": _date_or_none(t.due.date),
            "hours": t.due.hours,
        },
        "lock_after_due": t.lock_after_due,
        "access": _date_or_none(t.access),
    }


def _enrollment_to_dict(e: Enrollment) -> JsonDict:
    return {
        "user_id": e.user_id,
        "item_id": e.item_id,
        "item_kind": e.item_kind.value,
        "id": e.id,
        "access": _datetime_or_none(e.access),
        "due": _datetime_or_none(e.due),
        "due_hours": e.due_hours,
        "due_is_default": e.due_is_default,
        "lock_after_due": e.lock_after_due,
        "origin": e.origin.value,
        "completion": e.completion.value,
        "progress": float(e.progress),
        "completed_at": _datetime_or_none(e.completed_at),
        "unknown": e.unknown,
    }


def _kept_to_dict(k: Kept) -> JsonDict:
    return {
        "reason": k.reason.value,
        "user_id": k.user_id,
        "user_login": k.user_login,
        "item_id": k.item_id,
        "item_title": k.item_title,
        "detail": k.detail,
        "sources": [_source_to_dict(s) for s in k.sources],
    }


def _issue_to_dict(i: IdentityIssue) -> JsonDict:
    return {
        "policy": i.policy,
        "reference": i.reference,
        "problem": i.problem.value,
        "status": i.status,
        "position": _position_to_dict(i.position),
    }


def _source_to_dict(s: Source) -> JsonDict:
    return {"policy": s.policy, "rule": s.rule, "position": _position_to_dict(s.position)}


def _position_to_dict(p: Position) -> JsonDict:
    return {"file": p.file, "line": p.line, "col": p.col}


def _position_or_none(p: Position | None) -> JsonDict | None:
    return None if p is None else _position_to_dict(p)


def _date_or_none(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _datetime_or_none(d: dt.datetime | None) -> str | None:
    return None if d is None else d.isoformat()


# --- from dict -----------------------------------------------------------------------------------------


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
    return Plan(
        created_at=_required_datetime(d["created_at"]),
        manifest_digest=d["manifest_digest"],
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

"""Reading a plan back: `plan_from_dict` inverts `codec.plan_to_dict` exactly; anything malformed is a
PlanError that says where (`providers[0].actions[3].terms`), never a half-read plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping, Sequence
from enum import Enum
from typing import Any, TypeVar

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
from reconciler.core.period import RecurFrom, Recurrence
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
            update_completed=bool(options.get("update_completed", False)),
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
    shared = _Shared()
    return ProviderPlan(
        provider=d["provider"],
        kind=ProviderKind(d["kind"]),
        account=d["account"],
        actions=tuple(_action_from_dict(a, index, n, shared) for n, a in enumerate(d["actions"])),
        kept=tuple(_kept_from_dict(k, shared) for k in d["kept"]),
        identity=IdentityReport(
            issues=tuple(_issue_from_dict(i) for i in identity["issues"]),
            excluded=int(identity["excluded"]),
            not_enrollable=int(identity["not_enrollable"]),
        ),
        warnings=tuple(
            Warning(message=w["message"], position=_position_from_optional(w["position"]))
            for w in d["warnings"]
        ),
        summary=Summary(
            **{name: int(summary[name]) for name in SUMMARY_FIELDS}, reenroll=int(summary.get("reenroll", 0))
        ),
        managed_item_ids=tuple(d["managed_item_ids"]),
    )


E = TypeVar("E", bound=Enum)
T = TypeVar("T")


def _enum_of(cls: type[E]) -> Callable[[Any], E]:
    """`cls(value)` by one dictionary lookup (an Enum call costs ~1 us, 2.4 million of them in a 100,000-
    user plan); a value that is no member still raises the Enum's own ValueError."""
    members: dict[Any, E] = {m.value: m for m in cls}

    def member(value: Any) -> E:
        try:
            return members[value]
        except (KeyError, TypeError):  # not a member, or not even hashable
            return cls(value)

    return member


_KIND, _ITEM_KIND, _RISK = _enum_of(ActionKind), _enum_of(ItemKind), _enum_of(Risk)
_ORIGIN, _COMPLETION, _DUE_KIND = _enum_of(Origin), _enum_of(Completion), _enum_of(DueKind)


class _Shared:
    """Terms, sources and risks read once per distinct value in one provider's actions: most actions of a
    large plan share a handful of each (equal JSON gives equal, immutable values, so sharing is safe)."""

    def __init__(self) -> None:
        self.values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        found = self.values.get(key)
        if found is None:
            found = self.values[key] = make()
        return found


def _action_from_dict(d: Mapping[str, Any], index: int, n: int, shared: _Shared) -> Action:
    terms, sources, risks = d["terms"], d["sources"], d["risks"]
    action = Action(
        kind=_KIND(d["kind"]),
        user_id=d["user_id"],
        user_login=d["user_login"],
        item_id=d["item_id"],
        item_kind=_ITEM_KIND(d["item_kind"]),
        item_title=d["item_title"],
        terms=None if terms is None else shared.get(_terms_key(terms), lambda: _terms_from_dict(terms)),
        before=None if d["before"] is None else _enrollment_from_dict(d["before"]),
        sources=shared.get(_sources_key(sources), lambda: _sources_from_list(sources)),
        changes=tuple(d["changes"]),
        risks=shared.get(("risks", *risks), lambda: tuple(_RISK(r) for r in risks)),
        notify=bool(d["notify"]),
        department=d["department"],
    )
    if "id" in d and d["id"] != action.id:
        # The id is derived; a mismatch means someone edited the file by hand.
        raise PlanError(
            f"providers[{index}].actions[{n}].id: {d['id']!r} does not match its kind, user_id and item_id "
            f"({action.id!r})"
        )
    return action


def _terms_key(d: Mapping[str, Any]) -> Hashable:
    # every value `_terms_from_dict` reads (equal keys read to equal terms; a malformed one fails here)
    due, recur = d["due"], d.get("recur")
    recur_key = None if recur is None else tuple(recur[k] for k in ("months", "days", "from"))
    return ("terms", due["kind"], due["date"], due["hours"], d["lock_after_due"], d["access"], recur_key)


def _sources_key(items: Sequence[Mapping[str, Any]]) -> Hashable:
    parts: list[Hashable] = ["sources"]
    for s in items:
        position = s["position"]
        parts.extend((s["policy"], s["rule"], position["file"], position["line"], position["col"]))
    return tuple(parts)


def _terms_from_dict(d: Mapping[str, Any]) -> Terms:
    due = d["due"]
    return Terms(
        due=Due(
            kind=_DUE_KIND(due["kind"]),
            date=_date_from_optional(due["date"]),
            hours=_int_or_none(due["hours"]),
        ),
        lock_after_due=bool(d["lock_after_due"]),
        access=_date_from_optional(d["access"]),
        recur=_recur_from_dict(d.get("recur")),
    )


def _recur_from_dict(d: Mapping[str, Any] | None) -> Recurrence | None:
    """`terms.recur` (written only when a policy recurs; older plans have none)."""
    if d is None:
        return None
    return Recurrence(months=int(d["months"]), days=int(d["days"]), anchor=RecurFrom(d["from"]))


def _enrollment_from_dict(d: Mapping[str, Any]) -> Enrollment:
    return Enrollment(
        user_id=d["user_id"],
        item_id=d["item_id"],
        item_kind=_ITEM_KIND(d["item_kind"]),
        id=d["id"],
        access=_datetime_from_optional(d["access"]),
        due=_datetime_from_optional(d["due"]),
        due_hours=_int_or_none(d["due_hours"]),
        due_is_default=bool(d["due_is_default"]),
        lock_after_due=bool(d["lock_after_due"]),
        origin=_ORIGIN(d["origin"]),
        completion=_COMPLETION(d["completion"]),
        progress=float(d["progress"]),
        completed_at=_datetime_from_optional(d["completed_at"]),
        unknown=str(d["unknown"]),
    )


def _kept_from_dict(d: Mapping[str, Any], shared: _Shared) -> Kept:
    sources = d["sources"]
    return Kept(
        reason=KeptReason(d["reason"]),
        user_id=d["user_id"],
        user_login=d["user_login"],
        item_id=d["item_id"],
        item_title=d["item_title"],
        detail=d["detail"],
        sources=shared.get(_sources_key(sources), lambda: _sources_from_list(sources)),
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

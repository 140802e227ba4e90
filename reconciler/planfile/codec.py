"""The JSON form of a plan: what `plan --format json` prints and what saved plan files hold.

`plan_to_dict` and `decode.plan_from_dict` are a lossless round trip of every `Plan` field: enums as
their values, dates and datetimes as ISO-8601, positions as `{file, line, col}`, each action's `before`
enrollment in full.
Keys come in a fixed order (`format_version` first) so the same plan always renders to the same bytes.
`schemas/plan.schema.json` describes this shape; `reconciler.planfile.file` validates files against it.
A plan holds no secrets, and nothing here may add one (a test checks every key and value).
"""

from __future__ import annotations

import datetime as dt
import math
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from reconciler.core.collector import collector_paused
from reconciler.core.model import (
    Enrollment,
    Terms,
)
from reconciler.core.plan import (
    Action,
    IdentityIssue,
    Kept,
    Plan,
    ProviderPlan,
    RunOptions,
    Source,
)
from reconciler.errors import Position
from reconciler.planfile.digest import DigestWriter, plan_digest
from reconciler.planfile.json_text import Fragment, Shared, encode_string, iter_indented

JsonDict = dict[str, Any]
ProviderLists = Callable[[ProviderPlan], tuple[Any, Any]]  # a provider → its actions and kept, as written

APPROVAL_DIGITS = (
    16  # hex digits of sha256 in an approval: 64 bits, short enough to type, long enough to bind
)

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


def approval_digest(plan: Plan) -> str:
    """What `apply --approve` must name: a digest of the plan's actions with the state each was computed
    from, per provider and account, with the manifests and the options; not of when it was made.

    A re-plan of the same state gives the same digest; any change to an action or its basis gives another.
    The text hashed is `json.dumps` (sorted keys, compact, ASCII) of the plan file's manifest digest, options
    and providers (name, kind, account, actions), written by `digest.plan_digest` without the dictionaries.
    """
    remembered = _remembered(plan)
    if remembered.digest is None:
        remembered.digest = plan_digest(plan, options_to_dict(plan.options))[:APPROVAL_DIGITS]
    return remembered.digest


def plan_to_json(plan: Plan) -> str:
    """A plan as the plan file holds it, with a trailing newline (see `plan_json_pieces`)."""
    remembered = _remembered(plan)
    if remembered.json is None:
        remembered.json = "".join(plan_json_pieces(plan))
    return remembered.json


def plan_to_json_data(plan: Plan) -> JsonDict:
    """`plan_to_dict(plan)` with each provider's actions and kept enrollments as their lines (text
    fragments, `json_actions`) and the approval digest taken from the action lines as they are written."""
    from reconciler.planfile.json_actions import ActionLines, Lines  # it imports this module

    remembered = _remembered(plan)
    writer = None if remembered.digest is not None else DigestWriter(plan, options_to_dict(plan.options))
    shared: Shared = {}
    data = plan_to_dict(
        plan,
        verdict=False,
        lines=lambda p: (ActionLines(p, writer, shared), Lines([_kept_to_dict(k) for k in p.kept])),
    )
    digest = _DigestText(remembered, writer)
    data["verdict"] = {"refused_by": list(plan.refused_by), "approval_digest": digest}
    return data


def plan_json_pieces(plan: Plan) -> Iterator[str]:
    """The plan file's text in pieces whose concatenation is the whole (`save_plan` and `plan --format json`
    write them as they come: a plan of 100,000s of actions is never held as one text).

    The text is `json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False)` except that each member of a
    provider's `actions` and `kept` is one line of compact JSON with sorted keys (`json_actions`)."""
    remembered = _remembered(plan)
    if remembered.json is not None:
        yield remembered.json
        return
    with collector_paused():  # a plan's text allocates 100,000s of containers and frees them itself
        yield from iter_indented(plan_to_json_data(plan), end="\n")


class _DigestText(Fragment):
    """The verdict's approval digest, written after the providers: hashed from their action lines on the
    way, unless it was known before or the lines were not all written (then `approval_digest` makes it)."""

    def __init__(self, remembered: _Remembered, writer: DigestWriter | None) -> None:
        self.remembered = remembered
        self.writer = writer

    def json(self, newline: str) -> str:
        remembered, writer = self.remembered, self.writer
        if remembered.digest is None and writer is not None:
            full = writer.hexdigest()
            if full is not None:
                remembered.digest = full[:APPROVAL_DIGITS]
        plan = remembered.plan()
        assert plan is not None  # the plan being written is alive
        return encode_string(approval_digest(plan))


class _Remembered:
    """The digest and JSON text of the last plan asked for: `plan --out F --format json` needs the JSON
    twice and the digest three times, and each is seconds of CPU for a plan of 100,000 actions."""

    def __init__(self, plan: Plan) -> None:
        self.plan = weakref.ref(plan, _forget)  # plans are frozen; the texts go when the plan goes
        self.digest: str | None = None
        self.json: str | None = None


_last: _Remembered | None = None


def _remembered(plan: Plan) -> _Remembered:
    global _last
    last = _last
    if last is None or last.plan() is not plan:
        last = _last = _Remembered(plan)
    return last


def _forget(_: object) -> None:
    global _last
    if _last is not None and _last.plan() is None:
        _last = None


# --- to dict -------------------------------------------------------------------------------------------


def plan_to_dict(plan: Plan, *, verdict: bool = True, lines: ProviderLists | None = None) -> JsonDict:
    """Convert a plan to plain JSON data; `plan_from_dict` inverts it exactly.

    `lines` may stand in for each provider's lists of action and kept dictionaries (the plan file's text
    fragments, `plan_to_json_data`)."""
    data = {
        "format_version": plan.format_version,
        "created_at": plan.created_at.isoformat(),
        "manifest_digest": plan.manifest_digest,
        "policy_files": list(plan.policy_files),
        "options": options_to_dict(plan.options),
        "guard": {name: plan.guard[name] for name in sorted(plan.guard)},
        "providers": [_provider_to_dict(p, lines) for p in plan.providers],
    }
    if verdict:
        # derived, written for consumers (CI scripts, the PR comment); never trusted on load
        data["verdict"] = {"refused_by": list(plan.refused_by), "approval_digest": approval_digest(plan)}
    return data


def options_to_dict(o: RunOptions) -> JsonDict:
    """The run options as the plan file writes them."""
    return {
        "allow_remove_started": o.allow_remove_started,
        "allow_remove_completed": o.allow_remove_completed,
        "allow_unknown": o.allow_unknown,
        "update_completed": o.update_completed,
        "policies": list(o.policies),
    }


def _provider_to_dict(p: ProviderPlan, lines: ProviderLists | None) -> JsonDict:
    actions, kept = (
        ([_action_to_dict(a) for a in p.actions], [_kept_to_dict(k) for k in p.kept])
        if lines is None
        else lines(p)
    )
    return {
        "provider": p.provider,
        "kind": p.kind.value,
        "account": p.account,
        "summary": {
            **{name: getattr(p.summary, name) for name in SUMMARY_FIELDS},
            # added later: written only when used, so plans without re-enrollments stay as they were
            **({"reenroll": p.summary.reenroll} if p.summary.reenroll else {}),
        },
        "managed_item_ids": list(p.managed_item_ids),
        "actions": actions,
        "kept": kept,
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
        "terms": None if a.terms is None else terms_to_dict(a.terms),
        "changes": list(a.changes),
        "risks": [r.value for r in a.risks],
        "notify": a.notify,
        "sources": [source_to_dict(s) for s in a.sources],
        "before": None if a.before is None else enrollment_to_dict(a.before),
    }


def terms_to_dict(t: Terms) -> JsonDict:
    """Terms as the plan file writes them; `render.explain` shows them the same way."""
    return {
        "due": {
            "kind": t.due.kind.value,
            "date": _date_or_none(t.due.date),
            "hours": t.due.hours,
        },
        "lock_after_due": t.lock_after_due,
        "access": _date_or_none(t.access),
        # added later: written only when set, so plans without recurrence stay as they were
        **(
            {"recur": {"months": t.recur.months, "days": t.recur.days, "from": t.recur.anchor.value}}
            if t.recur is not None
            else {}
        ),
    }


def enrollment_to_dict(e: Enrollment) -> JsonDict:
    """An enrollment as the plan file writes it (`before`); `render.explain` shows a part of it."""
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


# the keys of enrollment_to_dict, in its order (a test holds them equal)
ENROLLMENT_KEYS = (
    "user_id",
    "item_id",
    "item_kind",
    "id",
    "access",
    "due",
    "due_hours",
    "due_is_default",
    "lock_after_due",
    "origin",
    "completion",
    "progress",
    "completed_at",
    "unknown",
)


def enrollment_values(e: Enrollment, string: Callable[[str], str]) -> tuple[str, ...]:
    """The JSON text of each value `enrollment_to_dict` holds, in ENROLLMENT_KEYS order, strings written
    by `string` (a `json.encoder` function): the plan file and the approval digest write `before` from it."""
    progress = float(e.progress)
    if not math.isfinite(progress):  # as json.dumps(allow_nan=False) refuses it
        raise ValueError(f"Out of range float values are not JSON compliant: {progress!r}")
    return (
        string(e.user_id),
        string(e.item_id),
        string(e.item_kind),  # StrEnums: as str they are their values
        "null" if e.id is None else string(e.id),
        "null" if e.access is None else string(e.access.isoformat()),
        "null" if e.due is None else string(e.due.isoformat()),
        "null" if e.due_hours is None else int.__repr__(e.due_hours),
        "true" if e.due_is_default else "false",
        "true" if e.lock_after_due else "false",
        string(e.origin),
        string(e.completion),
        float.__repr__(progress),
        "null" if e.completed_at is None else string(e.completed_at.isoformat()),
        string(e.unknown),
    )


def _kept_to_dict(k: Kept) -> JsonDict:
    return {
        "reason": k.reason.value,
        "user_id": k.user_id,
        "user_login": k.user_login,
        "item_id": k.item_id,
        "item_title": k.item_title,
        "detail": k.detail,
        "sources": [source_to_dict(s) for s in k.sources],
    }


def _issue_to_dict(i: IdentityIssue) -> JsonDict:
    return {
        "policy": i.policy,
        "reference": i.reference,
        "problem": i.problem.value,
        "status": i.status,
        "position": _position_to_dict(i.position),
    }


def source_to_dict(s: Source) -> JsonDict:
    """A source as the plan file writes it."""
    return {"policy": s.policy, "rule": s.rule, "position": _position_to_dict(s.position)}


def _position_to_dict(p: Position) -> JsonDict:
    return {"file": p.file, "line": p.line, "col": p.col}


def _position_or_none(p: Position | None) -> JsonDict | None:
    return None if p is None else _position_to_dict(p)


def _date_or_none(d: dt.date | None) -> str | None:
    return None if d is None else d.isoformat()


def _datetime_or_none(d: dt.datetime | None) -> str | None:
    return None if d is None else d.isoformat()

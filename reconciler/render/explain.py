"""`enrollctl explain` output: text for people, JSON for machines. Pure functions of `Explanation`s."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from reconciler.core.contest import LosingTerm, Recurring, Why
from reconciler.core.explain import Exclusion, Explanation, ItemExplanation, Verdict
from reconciler.core.model import DueKind, Enrollment, Terms
from reconciler.errors import Position
from reconciler.planfile.codec import ENROLLMENT_KEYS, enrollment_to_dict, terms_to_dict
from reconciler.render.describe import before_due, due_value

EXPLAIN_FORMAT_VERSION = 1
_VERDICT_WORDS = {
    Verdict.ADD: "plan adds it",
    Verdict.UPDATE: "plan updates it",
    Verdict.REENROLL: "↻ plan re-enrolls it",
    Verdict.REMOVE: "plan removes it",
    Verdict.KEEP: "plan keeps it",
    Verdict.KEPT: "plan leaves it as it is",
    Verdict.LEAVE: "plan leaves it alone",
    Verdict.UNMANAGED: "not managed",
}


# --- text --------------------------------------------------------------------------------------------


def render_explain_text(explanations: Sequence[Explanation]) -> str:
    """Every explanation, one block per provider."""
    return "\n".join(_text(e) for e in explanations)


def _text(e: Explanation) -> str:
    user = e.user
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    lines = [
        f"{user.login}" + (f" ({name})" if name else "") + f", id {user.id}",
        f"  provider {e.provider} ({e.kind}, account {e.account})",
        f"  department {e.department or '(none)'}; groups: {', '.join(e.groups) or '(none)'}",
        f"  status {user.status.value}: " + ("enrollable" if e.enrollable else "NOT enrollable"),
    ]
    lines += [f"  ! {issue}" for issue in e.issues]
    for item in e.items:
        lines += ["", *_item_lines(item)]
    if e.excluded:
        lines += ["", "Targeted but excluded"]
        lines += [line for x in e.excluded for line in _exclusion_lines(x)]
    if not e.items and not e.excluded:
        lines += ["", "No policy wants an enrollment for this user, and the LMS holds none."]
    return "\n".join(lines) + "\n"


def _item_lines(item: ItemExplanation) -> list[str]:
    kind = item.item.kind.value.replace("_", " ")
    lines = [f'{kind} "{item.item.title}"']
    if item.sources:
        lines.append("  wanted by")
        lines += [
            f"    {s.policy}: {s.rule}  (rule {rule}, assign {s.position})"
            for s, rule in zip(item.sources, item.rule_positions, strict=True)
        ]
    if item.terms is not None:
        lines.append(f"  terms      {terms_text(item.terms)}")
        if len({a.terms for a in item.asked}) > 1:
            lines += [f"    {a.policy} asks {terms_text(a.terms)}  {a.position}" for a in item.asked]
            lines += [f"    {f} from {', '.join(ps)}" for f, ps in item.set_by if ps]
    lines += [f"  lost       {lost_text(lost)}" for lost in item.lost]
    if item.recurs is not None:
        lines.append(f"  recurs     {recurs_text(item.recurs)}")
    lines.append(f"  LMS has    {holds_text(item.holds)}")
    labels = f" [{', '.join(item.risks)}]" if item.risks else ""
    lines.append(f"  verdict    {_VERDICT_WORDS[item.verdict]}{labels}: {item.reason}")
    return lines


def _exclusion_lines(x: Exclusion) -> list[str]:
    where = ", ".join(str(p) for p in x.positions)
    items = ", ".join(f'"{t}"' for t in x.items)
    return [f"  {x.policy} ({items}): {'; '.join(x.rules)}  {where}"]


def lost_text(lost: LosingTerm) -> str:
    """`due within 8w of 2026-12-02 = 2027-01-27 (b, policies/b.yaml:9:7): later than 2027-01-13 from a`."""
    by = ", ".join(lost.winners) or "another entry"
    where = f"({lost.policy}, {lost.position})"
    if lost.field == "lock_after_due":
        return f"not locked {where}: lock after due is on when any entry asks for it ({by})"
    if lost.field == "access":
        return f"access from {_iso(lost.asked_date)} {where}: later than {_iso(lost.winning_date)} from {by}"
    if lost.field == "recur":
        return f"{lost.asked.recur} {where}: a shorter period recurs first ({by})"
    due = lost.asked.due
    asked = due_value(due)
    if due.kind is DueKind.WITHIN and lost.asked_date is not None:  # the period as a date, and from when
        start = f" of {lost.start.isoformat()}" if lost.start is not None else ""
        asked += f"{start} = {lost.asked_date.isoformat()}"
    head = f"due {asked} {where}"
    if lost.why is Why.NO_DATE:
        first = "the item's default" if lost.winning_date is None else "any due date"
        return f"{head}: {first} comes first ({by})"
    if lost.why is Why.TIE:
        return f"{head}: the same day as {_iso(lost.winning_date)} from {by}, and a fixed date wins a tie"
    return f"{head}: later than {_iso(lost.winning_date)} from {by}"


def recurs_text(r: Recurring) -> str:
    """`every 12 months from completion: completed 2025-11-02, the period ran out 2026-11-02 → ↻ re-enroll`
    (the rule, what it counts from, and when the period runs or ran out)."""
    if r.note:
        return f"{r.rule}: {r.note}"
    if r.expiry:
        told = (
            f"compliance expired {_iso(r.runs_out)}" if r.ran_out else f"compliant until {_iso(r.runs_out)}"
        )
        return f"{r.rule}: {told} (the LMS's own expiry)" + (" → ↻ re-enroll" if r.ran_out else "")
    label = "assigned" if r.rule.anchor.value == "assignment" else "completed"
    if r.ran_out:
        return f"{r.rule}: {label} {_iso(r.anchor)}, the period ran out {_iso(r.runs_out)} → ↻ re-enroll"
    return f"{r.rule}: {label} {_iso(r.anchor)}, due again {_iso(r.runs_out)}"


def terms_text(terms: Terms) -> str:
    """`due 2026-12-31, locked after due, access from 2026-11-01`."""
    due = due_value(terms.due)
    parts = ["no due date" if due == "none" else f"due {due}"]
    parts.append("locked after due" if terms.lock_after_due else "not locked")
    if terms.access is not None:
        parts.append(f"access from {terms.access.isoformat()}")
    return ", ".join(parts)


def holds_text(holds: Enrollment | None) -> str:
    """What the LMS holds: terms, progress, origin; or `nothing`."""
    if holds is None:
        return "nothing"
    due = before_due(holds)
    parts = ["no due date" if due == "none" else f"due {due}"]
    parts.append("locked after due" if holds.lock_after_due else "not locked")
    if holds.access is not None:
        parts.append(f"access from {_moment(holds.access)}")
    progress = f"{holds.completion.value.replace('_', ' ')}"
    if holds.progress:
        progress += f" ({holds.progress:g}%)"
    parts.append(progress)
    parts.append(
        "assigned by an administrator" if holds.origin.value == "admin" else "chosen from the catalog"
    )
    return ", ".join(parts)


def _moment(value: dt.datetime) -> str:
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        return value.date().isoformat()
    return value.strftime("%Y-%m-%d %H:%M")


# --- JSON --------------------------------------------------------------------------------------------


def render_explain_json(explanations: Sequence[Explanation]) -> str:
    """Stable JSON: `{"format_version": 1, "explanations": [...]}`."""
    data = {"format_version": EXPLAIN_FORMAT_VERSION, "explanations": [_explanation(e) for e in explanations]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _explanation(e: Explanation) -> dict[str, Any]:
    user = e.user
    return {
        "provider": e.provider,
        "kind": e.kind,
        "account": e.account,
        "user": {
            "id": user.id,
            "login": user.login,
            "email": user.email,
            "status": user.status.value,
            "department": e.department,
            "groups": list(e.groups),
            "enrollable": e.enrollable,
        },
        "issues": list(e.issues),
        "items": [_item(i) for i in e.items],
        "excluded": [
            {
                "policy": x.policy,
                "rules": list(x.rules),
                "positions": [_position(p) for p in x.positions],
                "items": list(x.items),
            }
            for x in e.excluded
        ],
    }


def _item(i: ItemExplanation) -> dict[str, Any]:
    return {
        "item": {"id": i.item.id, "kind": i.item.kind.value, "title": i.item.title},
        "wanted": bool(i.sources),
        "sources": [
            {
                "policy": s.policy,
                "rule": s.rule,
                "rule_position": _position(r),
                "position": _position(s.position),
            }
            for s, r in zip(i.sources, i.rule_positions, strict=True)
        ],
        "asked": [
            {"policy": a.policy, "position": _position(a.position), "terms": terms_to_dict(a.terms)}
            for a in i.asked
        ],
        "terms": terms_to_dict(i.terms) if i.terms is not None else None,
        "terms_set_by": {f: list(ps) for f, ps in i.set_by},
        "lost": [_lost(lost) for lost in i.lost],
        "recurs": _recurs(i.recurs) if i.recurs is not None else None,
        "lms": _enrollment(i.holds) if i.holds is not None else None,
        "verdict": i.verdict,
        "reason": i.reason,
        "changes": list(i.changes),
        "risks": list(i.risks),
    }


def _lost(lost: LosingTerm) -> dict[str, Any]:
    return {
        "field": lost.field,
        "policy": lost.policy,
        "position": _position(lost.position),
        "asked": terms_to_dict(lost.asked),
        "why": lost.why.value,
        "asked_date": _iso(lost.asked_date),
        "winning_date": _iso(lost.winning_date),
        "period_from": _iso(lost.start),
        "winners": list(lost.winners),
        "text": lost_text(lost),
    }


def _recurs(r: Recurring) -> dict[str, Any]:
    return {
        "every": r.rule.every,
        "from": r.rule.anchor.value,
        "anchor_date": _iso(r.anchor),
        "runs_out": _iso(r.runs_out),
        "ran_out": r.ran_out,
        "vendor_expiry": r.expiry,
        "note": r.note,
    }


# the plan file's enrollment keys without the ids (the action names user and item) and `unknown`
_NOT_HELD = ("user_id", "item_id", "item_kind", "id", "unknown")
HELD_FIELDS = tuple(k for k in ENROLLMENT_KEYS if k not in _NOT_HELD)


def _enrollment(e: Enrollment) -> dict[str, Any]:
    """What the LMS holds, as the plan file writes an enrollment, without the ids and `unknown`."""
    full = enrollment_to_dict(e)
    return {key: full[key] for key in HELD_FIELDS}


def _position(p: Position) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "col": p.col}


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()

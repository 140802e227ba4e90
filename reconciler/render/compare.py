"""`enrollctl show NEW --compare OLD` and the PR comment's "since the last plan comment": a `Comparison`
as text, Markdown or JSON. Pure functions of `planfile.compare.Comparison`.

Actions are listed with the plan's own signs: `+` planned now and not before, `-` no longer planned, `~`
planned differently, with each changed field as `old → new`. Long lists stop at `limit` lines per section
(`--full` lists all); the counts always cover everything.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from reconciler.core.plan import Action
from reconciler.core.words import number
from reconciler.planfile.compare import ActionChange, Comparison, FieldChange
from reconciler.render.describe import clean, describe
from reconciler.render.markdown import code_block, md_text

COMPARE_FORMAT_VERSION = 1
LIMIT = 50  # lines per section unless --full


def counts_text(c: Comparison) -> str:
    """`2 added, 1 dropped, 3 changed`, or `the same actions`."""
    if c.same_actions:
        return "the same actions"
    return f"{len(c.added):,} added, {len(c.dropped):,} dropped, {len(c.changed):,} changed"


def field_text(change: FieldChange) -> str:
    """`due 2027-01-01 → 2027-01-15`."""
    return f"{clean(change.field)} {clean(change.old)} → {clean(change.new)}"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment.tzinfo else moment.isoformat()


def _action_line(sign: str, provider: str, action: Action, multi: bool) -> str:
    where = f"{clean(provider)}: " if multi else ""
    what = f"{action.kind.value}, {describe(action)}"
    return f'{sign} {where}{clean(action.user_login)} in "{clean(action.item_title)}": {what}'


def _changed_line(change: ActionChange, multi: bool) -> str:
    where = f"{clean(change.provider)}: " if multi else ""
    fields = ", ".join(field_text(f) for f in change.fields)
    return f'~ {where}{clean(change.new.user_login)} in "{clean(change.new.item_title)}": {fields}'


def _providers(c: Comparison) -> set[str]:
    return {p for p, _ in c.added} | {p for p, _ in c.dropped} | {x.provider for x in c.changed}


def action_lines(c: Comparison, *, limit: int | None = LIMIT) -> list[str]:
    """The added, dropped and changed actions, each section cut at `limit` lines with a count of the rest."""
    multi = len(_providers(c)) > 1
    sections: list[tuple[str, list[str]]] = [
        ("planned now, not before", [_action_line("+", p, a, multi) for p, a in c.added]),
        ("no longer planned", [_action_line("-", p, a, multi) for p, a in c.dropped]),
        ("planned differently", [_changed_line(x, multi) for x in c.changed]),
    ]
    lines: list[str] = []
    for title, body in sections:
        if not body:
            continue
        lines.append(f"# {number(len(body), 'action')} {title}")
        shown = body if limit is None else body[:limit]
        lines.extend(shown)
        if len(shown) < len(body):
            rest = len(body) - len(shown)
            lines.append(f"  …and {rest:,} more (`show NEW --compare OLD --full` lists them)")
    return lines


# --- text ----------------------------------------------------------------------------------------------


def render_compare_text(c: Comparison, *, full: bool = False) -> str:
    """The comparison for a terminal."""
    lines = [
        f"Compared with plan {c.old_digest} ({_when(c.old_created)}): this plan {c.new_digest} "
        f"({_when(c.new_created)}) has {counts_text(c)}.",
    ]
    if c.plan:
        lines += ["", "Plan"]
        lines += [f"  {field_text(f)}" for f in c.plan]
    body = action_lines(c, limit=None if full else LIMIT)
    if body:
        lines += ["", "Actions"]
        lines += [f"  {line}" for line in body]
    return "\n".join(lines) + "\n"


# --- Markdown ------------------------------------------------------------------------------------------


def render_compare_markdown(
    c: Comparison, *, full: bool = False, heading: str = "", limit: int = LIMIT
) -> str:
    """The comparison as a Markdown section (for `show --compare` and the PR comment)."""
    title = heading or f"Compared with plan `{c.old_digest}`"
    lines = [
        f"#### {title}",
        "",
        f"Plan `{c.old_digest}` ({_when(c.old_created)}) → `{c.new_digest}` ({_when(c.new_created)}): "
        f"{md_text(counts_text(c))}.",
    ]
    if c.plan:
        lines += ["", *(f"- {md_text(field_text(f))}" for f in c.plan)]
    body = action_lines(c, limit=None if full else limit)
    if body:
        lines += ["", code_block(_diff_signs(body), "diff")]
    return "\n".join(lines) + "\n"


def _diff_signs(lines: Iterable[str]) -> list[str]:
    # in a ```diff block GitHub colours + and -; `!` is its "changed" colour
    return [f"!{line[1:]}" if line.startswith("~ ") else line for line in lines]


# --- JSON ----------------------------------------------------------------------------------------------


def render_compare_json(c: Comparison) -> str:
    """Stable JSON: `{"format_version": 1, "old": ..., "new": ..., "plan": [...], "actions": {...}}`."""
    data = {
        "format_version": COMPARE_FORMAT_VERSION,
        "old": {"approval_digest": c.old_digest, "created_at": c.old_created.isoformat()},
        "new": {"approval_digest": c.new_digest, "created_at": c.new_created.isoformat()},
        "same_actions": c.same_actions,
        "plan": _fields(c.plan),
        "actions": {
            "added": [_action(p, a) for p, a in c.added],
            "dropped": [_action(p, a) for p, a in c.dropped],
            "changed": [{**_action(x.provider, x.new), "fields": _fields(x.fields)} for x in c.changed],
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _fields(changes: Sequence[FieldChange]) -> list[dict[str, str]]:
    return [{"field": f.field, "old": f.old, "new": f.new} for f in changes]


def _action(provider: str, a: Action) -> dict[str, Any]:
    return {
        "provider": provider,
        "kind": a.kind.value,
        "user_id": a.user_id,
        "user_login": a.user_login,
        "item_id": a.item_id,
        "item_title": a.item_title,
    }

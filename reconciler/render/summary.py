"""Many actions at once: one line per action, or per-department summaries of a long list (split out of
`describe`, which words one action)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from reconciler.core.plan import Action, ActionKind
from reconciler.core.words import number
from reconciler.render.describe import ItemGroup, Line, clean, describe

KINDS = (ActionKind.ADD, ActionKind.UPDATE, ActionKind.REENROLL, ActionKind.REMOVE)


def action_lines(item: ItemGroup, *, max_lines: int, full: bool) -> tuple[list[Line], bool]:
    """Lines for one item: one per action, or per-department summaries for a kind with > max_lines.

    Returns the lines and whether anything was summarised.
    """
    lines: list[Line] = []
    summarised = False
    by_kind: dict[ActionKind, list[Action]] = {kind: [] for kind in KINDS}
    for action in item.actions:
        by_kind[action.kind].append(action)
    listed = [a for chosen in by_kind.values() if full or len(chosen) <= max_lines for a in chosen]
    # logins align across the kinds listed in full (a summarised kind shows none)
    width = min(40, max((len(clean(a.user_login)) for a in listed), default=0))
    for kind, chosen in by_kind.items():
        if full or len(chosen) <= max_lines:
            lines.extend(
                Line(kind, f"{clean(a.user_login):<{width}}  {describe(a)}".rstrip()) for a in chosen
            )
        else:
            summarised = True
            lines.extend(summary_lines(kind, chosen, max_lines=max_lines))
    return lines, summarised


def summary_lines(kind: ActionKind, actions: Sequence[Action], *, max_lines: int) -> list[Line]:
    """`340 learners in Acme/Sales (EMEA 200, Americas 140)` per department, then the common wording."""
    buckets = department_buckets(a.department for a in actions)
    shown = max(1, max_lines)
    lines = [
        Line(kind, f"{number(n, 'learner')} in {name}{_breakdown(subs)}") for name, n, subs in buckets[:shown]
    ]
    rest = buckets[shown:]
    if rest:
        count = sum(n for _, n, _ in rest)
        lines.append(Line(kind, f"{number(count, 'learner')} in {number(len(rest), 'other department')}"))
    variants = Counter(descriptions(actions)).most_common()
    if len(variants) == 1:
        return [*lines, Line(None, f"  all: {variants[0][0]}")]
    for text, n in variants[:3]:
        lines.append(Line(None, f"  {n:,}× {text}"))
    if len(variants) > 3:
        lines.append(Line(None, f"  and {number(len(variants) - 3, 'other variant')}"))
    return lines


def descriptions(actions: Sequence[Action]) -> Iterator[str]:
    """`describe` of each action; actions with the same wording inputs are described once (large runs)."""
    seen: dict[tuple[object, ...], str] = {}
    for action in actions:
        key = _wording(action)
        if key is None:
            yield describe(action)
            continue
        text = seen.get(key)
        if text is None:
            text = seen[key] = describe(action)
        yield text


def _wording(action: Action) -> tuple[object, ...] | None:
    """Everything `describe` reads of an add or a removal; None for the kinds described one by one."""
    policies = tuple(s.policy for s in action.sources)
    if action.kind is ActionKind.ADD:  # terms, risks, notify and the sources' policies
        return (action.kind, action.terms, action.risks, action.notify, policies)
    before = action.before
    if action.kind is ActionKind.REMOVE and before is not None:  # the pruning policies and what goes
        facts = (before.completion, before.completed_at, before.progress, before.origin, before.unknown)
        return (action.kind, action.risks, policies, *facts)
    return None


def department_buckets(departments: Iterable[str]) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """Count users per department at depth 2 (`Acme/Sales`), broken down by the next level (`EMEA`)."""
    buckets: dict[str, Counter[str]] = {}
    for path, count in Counter(departments).items():  # each distinct path is split and cleaned once
        parts = [p for p in path.split("/") if p] if path else []
        name = "/".join(parts[:2]) if parts else "(no department)"
        sub = parts[2] if len(parts) > 2 else ""
        buckets.setdefault(clean(name), Counter())[clean(sub)] += count
    rows = [
        (name, sum(c.values()), sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        for name, c in buckets.items()
    ]
    rows.sort(key=lambda row: (-row[1], row[0]))
    return rows


def _breakdown(subs: list[tuple[str, int]]) -> str:
    if len(subs) == 1 and subs[0][0] == "":
        return ""
    parts = [f"{name} {n:,}" if name else f"{n:,} directly" for name, n in subs[:5]]
    if len(subs) > 5:
        parts.append(f"{len(subs) - 5} more")
    return f" ({', '.join(parts)})"

"""The plan as a pull-request comment: summary table first, details folded, always under GitHub's limit.

GitHub rejects comments over 65,536 characters, so the comment degrades step by step until it fits:
every action listed → per-department counts for long lists → per-item counts only → per-policy counts only
→ totals only. Whenever detail is left out the comment says where the full plan is (the JSON artifact).
Strings from manifests and the LMS are escaped for tables and HTML; action lists sit in ```diff blocks,
where nothing is interpreted as Markdown or HTML (and GitHub colours `+`, `-` and `!` lines).
`artifact_hint` is written by the workflow author (e.g. a link to the artifact) and is inserted as Markdown.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from reconciler.core.plan import ActionKind, IdentityProblem, Kept, KeptReason, Plan, ProviderPlan, Risk
from reconciler.core.words import number
from reconciler.render.describe import (
    KEPT_EXPLAINED,
    Line,
    PolicyGroup,
    clean,
    counts_phrase,
    effort_sentence,
    group_actions,
    issue_text,
    policy_of,
    scope_sentence,
    total,
)
from reconciler.render.summary import action_lines
from reconciler.render.verdict import guard_states, legend, options_phrase, refusal

COMMENT_LIMIT = 65_536
# Headroom below the limit for what a workflow wraps around the comment (sticky marker, header, footer).
BUDGET = COMMENT_LIMIT - 2_048
SIGNS = {ActionKind.ADD: "+", ActionKind.UPDATE: "!", ActionKind.REMOVE: "-", ActionKind.REENROLL: "↻"}
MAX_ROWS = 200  # table rows at the per-policy level; more are counted, not listed
MAX_NAMES = {0: 1_000, 1: 50}  # identity and kept names listed per level; none below
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]|~#!])")


class Detail(IntEnum):
    """How much the comment shows; each level is smaller than the one before."""

    FULL = 0
    DEPARTMENTS = 1
    ITEMS = 2
    POLICIES = 3
    TOTALS = 4


def render_markdown(plan: Plan, *, artifact_hint: str | None = None, plan_file: str | None = None) -> str:
    """Render a plan as a PR comment, summarising as much as needed to stay under 65,536 characters;
    `plan_file` is the file the plan is saved in (a refused plan's approval command names it)."""
    for level in Detail:
        if level < _smallest_level_worth_trying(plan):
            continue
        text = _render(plan, level, artifact_hint, plan_file)
        if len(text) <= BUDGET:
            return text
    # Only reachable with absurd inputs (thousands of providers): the title and footer still fit.
    return _title(plan) + "\n\n" + _footer(_Context(plan, Detail.TOTALS, artifact_hint)) + "\n"


def _smallest_level_worth_trying(plan: Plan) -> Detail:
    """Skip levels that cannot fit, judged by lower bounds on their size, so huge plans render fast."""
    actions = plan.actions
    groups = {
        (p.provider, a.sources[0].policy if a.sources else "", a.item_id)
        for p in plan.providers
        for a in p.actions
    }
    if len(actions) * 20 < BUDGET:  # a listed action takes at least ~20 characters
        return Detail.FULL
    if len(groups) * 40 < BUDGET:  # a table row, and a heading and a summary line per item
        return Detail.DEPARTMENTS
    if len(groups) * 20 < BUDGET:
        return Detail.ITEMS
    return Detail.POLICIES


def md_text(value: str) -> str:
    """Escape a user-provided string for Markdown text and table cells: no HTML, no formatting, no `|`."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(clean(value), quote=False))


def html_text(value: str) -> str:
    """Escape a user-provided string for an HTML element such as `<summary>`."""
    return html.escape(clean(value))


def code_block(lines: Iterable[str], language: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside it."""
    body = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{body}\n{fence}"


# --- one rendering at a given level ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    plan: Plan
    level: Detail
    artifact_hint: str | None


def _render(plan: Plan, level: Detail, artifact_hint: str | None, plan_file: str | None) -> str:
    ctx = _Context(plan, level, artifact_hint)
    blocks = [_title(plan), *_callouts(plan, plan_file)]
    if level <= Detail.POLICIES:
        blocks.append(_table(plan, level))
    if level <= Detail.DEPARTMENTS:
        for provider in plan.providers:
            blocks.extend(
                _policy_details(provider, group, level) for group in group_actions(provider.actions)
            )
    for provider in plan.providers:
        blocks.extend(_provider_notes(provider, level, multi=len(plan.providers) > 1))
    blocks.append(_footer(ctx))
    return "\n\n".join(b for b in blocks if b) + "\n"


def _title(plan: Plan) -> str:
    if not plan.has_changes:
        return "### enrollctl plan: no changes\n\nThe LMS matches the manifests."
    return f"### enrollctl plan: {counts_phrase(total(plan))}"


def _callouts(plan: Plan, plan_file: str | None) -> list[str]:
    out = []
    refused = refusal(plan, plan_file)
    if refused is not None:
        out.append(
            f"⛔ **{md_text(refused.verdict)}** The full plan is below; after review, apply exactly it with "
            f"`{refused.command}`."
        )
    options = options_phrase(plan)
    if options:
        out.append(f"**Options:** {md_text(clean(options, limit=1_000))}")
    summary = total(plan)
    if summary.remove:
        out.append(_removal_callout(plan, summary.remove))
    destroyed = sum(1 for a in plan.actions if Risk.PROTECTED_OVERRIDE in a.risks)
    if destroyed:
        out.append(
            f"⚠️ **{number(destroyed, 'removal')} {'destroys' if destroyed == 1 else 'destroy'} training "
            f"records** (progress or completion), allowed by a flag (see Options)."
        )
    protected = [
        k
        for p in plan.providers
        for k in p.kept
        if k.reason in (KeptReason.HAS_PROGRESS, KeptReason.COMPLETED)
    ]
    if protected:
        out.append(
            f"⚠️ **{number(len(protected), 'protected record')} kept**: started or completed enrollments that "
            "pruning would remove; `--allow-remove-started` / `--allow-remove-completed` override."
        )
    unknown = sum(p.summary.unknown for p in plan.providers)
    if unknown:
        out.append(
            f"⛔ **{number(unknown, 'enrollment')} in state unknown**: the LMS answered in a form enrollctl "
            "cannot read; they are never removed, and pruning needs `--allow-unknown`."
        )
    past_due = sum(1 for a in plan.actions if Risk.PAST_DUE in a.risks)
    if past_due:
        out.append(f"⚠️ **{number(past_due, 'enrollment')} past due** as soon as applied.")
    return out


@dataclass(frozen=True)
class _Row:
    provider: str
    policy: str
    item: str
    counts: tuple[int, int, int, int]  # add, update, remove, kept


TABLE_HEADER = {
    True: "| Provider | Policy | Item | + add | ~ change | − remove | kept |\n|---|---|---|--:|--:|--:|--:|",
    False: "| Provider | Policy | + add | ~ change | − remove | kept |\n|---|---|--:|--:|--:|--:|",
}


def _removal_callout(plan: Plan, count: int) -> str:
    """`⚠️ **3 removals** from Anti-Bribery (2), Forklift Safety (1), pruned by a, b: ...`."""
    removals = [a for a in plan.actions if a.kind is ActionKind.REMOVE]
    per_item = Counter(a.item_title for a in removals).most_common()
    items = ", ".join(f"{md_text(title)} ({n:,})" for title, n in per_item[:5])
    if len(per_item) > 5:
        items += f" and {number(len(per_item) - 5, 'other item')}"
    policies = sorted({s.policy for a in removals for s in a.sources})
    by = f", pruned by {', '.join(md_text(p) for p in policies[:10])}" if policies else ""
    return f"⚠️ **{number(count, 'removal')}** from {items}{by}: these enrollments disappear from the LMS."


def _table(plan: Plan, level: Detail) -> str:
    by_item = level <= Detail.ITEMS
    rows = [row for provider in plan.providers for row in _rows(provider, by_item=by_item)]
    if not rows:
        return ""
    shown = rows if by_item else rows[:MAX_ROWS]
    lines = [TABLE_HEADER[by_item]]
    for row in shown:
        cells = [row.provider, row.policy, *([row.item] if by_item else []), *(f"{n:,}" for n in row.counts)]
        lines.append("| " + " | ".join(cells) + " |")
    if len(shown) < len(rows):
        lines.append(f"\n…and {number(len(rows) - len(shown), 'more row')}.")
    return "\n".join(lines)


def _rows(p: ProviderPlan, *, by_item: bool) -> list[_Row]:
    counts: dict[tuple[str, str], list[int]] = {}
    titles: dict[tuple[str, str], str] = {}
    # a re-enrollment is a change to an existing enrollment: counted with the updates
    column = {ActionKind.ADD: 0, ActionKind.UPDATE: 1, ActionKind.REMOVE: 2, ActionKind.REENROLL: 1}
    for a in p.actions:
        key = (policy_of(a), a.item_id if by_item else "")
        titles[key] = a.item_title
        counts.setdefault(key, [0, 0, 0, 0])[column[a.kind]] += 1
    for k in p.kept:
        key = (policy_of(k), k.item_id if by_item else "")
        titles.setdefault(key, k.item_title)
        counts.setdefault(key, [0, 0, 0, 0])[3] += 1
    provider = md_text(p.provider)
    ordered = sorted(counts, key=lambda key: (key[0], titles[key], key[1]))
    return [
        _Row(provider, md_text(key[0]), md_text(titles[key]), (c[0], c[1], c[2], c[3]))
        for key in ordered
        for c in [counts[key]]
    ]


def _policy_details(p: ProviderPlan, group: PolicyGroup, level: Detail) -> str:
    add, update, remove, again = (
        group.count(kind)
        for kind in (ActionKind.ADD, ActionKind.UPDATE, ActionKind.REMOVE, ActionKind.REENROLL)
    )
    counts = f"+{add:,} ~{update:,} −{remove:,}" + (f" ↻{again:,}" if again else "")
    summary = html_text(f"{p.provider} · {group.policy}: ") + counts
    lines: list[str] = []
    for item in group.items:
        lines.append(f"# {item.heading}")
        item_lines, _ = action_lines(item, max_lines=10, full=level is Detail.FULL)
        lines.extend(_diff_line(line) for line in item_lines)
    return f"<details><summary>{summary}</summary>\n\n{code_block(lines, 'diff')}\n\n</details>"


def _diff_line(line: Line) -> str:
    return f"    {line.text}" if line.kind is None else f"{SIGNS[line.kind]} {line.text}"


def _provider_notes(p: ProviderPlan, level: Detail, *, multi: bool) -> list[str]:
    prefix = f"{md_text(p.provider)}: " if multi else ""
    out = []
    kept = _kept_block(p.kept, level, prefix)
    if kept:
        out.append(kept)
    identity = _identity_block(p, level, prefix)
    if identity:
        out.append(identity)
    if p.warnings:
        shown = (
            p.warnings if level <= Detail.DEPARTMENTS else p.warnings[: 10 if level is Detail.ITEMS else 0]
        )
        lines = [f"**{prefix}{number(len(p.warnings), 'warning')}**"]
        for w in shown:
            where = f" ({md_text(str(w.position))})" if w.position is not None else ""
            lines.append(f"- {md_text(clean(w.message, limit=500))}{where}")
        if len(shown) < len(p.warnings) and shown:
            lines.append(f"- …and {len(p.warnings) - len(shown):,} more")
        out.append("\n".join(lines))
    return out


def _kept_block(kept: tuple[Kept, ...], level: Detail, prefix: str) -> str:
    if not kept:
        return ""
    lines = []
    limit = MAX_NAMES.get(int(level), 0)
    for reason in KeptReason:
        chosen = sorted((k for k in kept if k.reason is reason), key=lambda k: (k.item_title, k.user_login))
        if not chosen:
            continue
        lines.append(f"# {len(chosen):,} {KEPT_EXPLAINED[reason]}")
        lines.extend(
            f'= {clean(k.user_login)} in "{clean(k.item_title)}"'
            + (f": {clean(k.detail)}" if reason is KeptReason.UNKNOWN else "")
            for k in chosen[:limit]
        )
        if len(chosen) > limit and limit:
            lines.append(f"  …and {len(chosen) - limit:,} more")
    heading = f"**{prefix}{number(len(kept), 'enrollment')} kept as they are**"
    if limit == 0:
        return heading + "\n\n" + "\n".join(f"- {line[2:]}" for line in lines)
    return f"{heading}\n\n<details><summary>Kept records</summary>\n\n{code_block(lines)}\n\n</details>"


def _identity_block(p: ProviderPlan, level: Detail, prefix: str) -> str:
    report = p.identity
    if not (report.issues or report.excluded or report.not_enrollable):
        return ""
    unknown = [i for i in sorted(report.issues) if i.problem is IdentityProblem.UNKNOWN]
    blocked = [i for i in sorted(report.issues) if i.problem is IdentityProblem.NOT_ENROLLABLE]
    counts = [
        number(len(unknown), "unknown user"),
        f"{len(blocked):,} named but not enrollable",
        f"{report.not_enrollable:,} targeted but not enrollable",
        f"{report.excluded:,} excluded",
    ]
    heading = f"**{prefix}Identity:** {', '.join(counts)}"
    limit = MAX_NAMES.get(int(level), 0)
    if limit == 0 or not report.issues:
        return heading
    lines = [f"{issue.problem.value}: {issue_text(issue)}" for issue in (unknown + blocked)[:limit]]
    if len(report.issues) > limit:
        lines.append(f"…and {len(report.issues) - limit:,} more")
    return f"{heading}\n\n<details><summary>Identity report</summary>\n\n{code_block(lines)}\n\n</details>"


def _footer(ctx: _Context) -> str:
    plan, summary = ctx.plan, total(ctx.plan)
    lines = []
    guards = guard_states(plan)[:20]
    if guards:
        marks = [
            f"- {'⛔' if tripped else '✅'} {md_text(name)}: {md_text(state)}"
            for name, state, tripped in guards
        ]
        lines.append("**Guards**\n" + "\n".join(marks))
    if plan.has_changes:
        lines.append(effort_sentence(summary))
        lines.append(scope_sentence(summary))
    entries = legend(plan, SIGNS) if ctx.level <= Detail.DEPARTMENTS else []
    if entries:
        rows = "\n".join(f"- `{marker}` {md_text(meaning)}" for marker, meaning in entries)
        lines.append(f"<details><summary>Legend</summary>\n\n{rows}\n\n</details>")
    where = ctx.artifact_hint or "the JSON plan (`enrollctl plan --format json`, or `enrollctl show FILE`)"
    if ctx.level > Detail.FULL:
        lines.append(f"_Summarised to fit a comment. Every action is in {where}._")
    elif ctx.artifact_hint:
        lines.append(f"_Full plan: {ctx.artifact_hint}_")
    return "\n\n".join(lines)

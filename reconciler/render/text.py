"""The plan for people at a terminal, terraform-like.

Per provider: a heading, then actions grouped by policy and item (`+` add, `~` update old → new, `-` remove),
then what was kept and why, the identity report and warnings; after all providers the guards, the options
the plan was made with, and one totals line. An action several policies want is listed once, under its first
source's policy, with `(also: ...)` (see `reconciler.render.describe`). Colour only when asked: the CLI
decides from isatty and NO_COLOR. Long lists are summarised per department unless `full=True`.
"""

from __future__ import annotations

from collections import Counter

from reconciler.core.plan import ActionKind, IdentityProblem, Kept, KeptReason, Plan, ProviderPlan
from reconciler.core.words import number
from reconciler.render.describe import (
    KEPT_EXPLAINED,
    Line,
    clean,
    counts_phrase,
    effort_sentence,
    group_actions,
    issue_text,
    provider_heading,
    scope_sentence,
    total,
)
from reconciler.render.summary import action_lines
from reconciler.render.verdict import guard_states, legend, options_phrase, refusal

DEFAULT_MAX_LINES = 50
NO_CHANGES = "No changes. The LMS matches the manifests."
FULL_HINT = "Some long lists were summarised per department; use --full to list every action."

SIGNS = {ActionKind.ADD: "+", ActionKind.UPDATE: "~", ActionKind.REMOVE: "-", ActionKind.REENROLL: "↻"}
GREEN, YELLOW, RED, BOLD, RESET = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1m", "\x1b[0m"
CYAN = "\x1b[36m"
COLOURS = {
    ActionKind.ADD: GREEN,
    ActionKind.UPDATE: YELLOW,
    ActionKind.REMOVE: RED,
    ActionKind.REENROLL: CYAN,
}
KEPT_ORDER = tuple(KeptReason)


class _Painter:
    """Wraps text in ANSI colours, or not."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.enabled and text else text


def render_text(
    plan: Plan,
    *,
    color: bool = False,
    full: bool = False,
    max_lines: int = DEFAULT_MAX_LINES,
    verbose: bool = False,
    plan_file: str | None = None,
) -> str:
    """Render a plan for a terminal; `max_lines` is how many users a group lists before summarising, and
    `plan_file` the file the plan is saved in (a refused plan's approval command names it).

    A plan without changes is one line (what was kept or noted is counted, and `verbose` lists it), unless a
    guard refused it: then everything is shown.
    """
    if (
        not plan.has_changes
        and not verbose
        and not any(state.startswith("tripped") for state in plan.guard.values())
    ):
        return no_changes_line(plan) + "\n"
    paint = _Painter(color)
    out: list[str] = []
    summarised = False
    for provider in plan.providers:
        if not _has_content(provider):
            continue
        section, cut = _provider_section(provider, paint, full=full, max_lines=max_lines)
        out.extend(section)
        summarised = summarised or cut
    out.extend(_legend(plan))
    out.extend(_footer(plan, paint, summarised=summarised, plan_file=plan_file))
    return "\n".join(out) + "\n"


def no_changes_line(plan: Plan) -> str:
    """`No changes. The LMS matches the manifests.`, with what -v would list counted."""
    kept = sum(len(p.kept) for p in plan.providers)
    notes = sum(len(p.identity.issues) + len(p.warnings) for p in plan.providers)
    extra = [number(kept, "enrollment") + " kept"] if kept else []
    extra += [number(notes, "note")] if notes else []
    return NO_CHANGES if not extra else f"{NO_CHANGES} ({', '.join(extra)}; -v lists them)"


def _legend(plan: Plan) -> list[str]:
    entries = legend(plan, SIGNS)
    if not entries:
        return []
    width = max(len(marker) for marker, _ in entries)
    return ["Legend", *(f"  {marker:<{width}}  {meaning}" for marker, meaning in entries), ""]


def _has_content(p: ProviderPlan) -> bool:
    return bool(
        p.actions or p.kept or p.identity.issues or p.identity.excluded or p.identity.not_enrollable
    ) or bool(p.warnings)


def _provider_section(
    p: ProviderPlan, paint: _Painter, *, full: bool, max_lines: int
) -> tuple[list[str], bool]:
    out = [paint(BOLD, f"Provider {provider_heading(p)}"), ""]
    summarised = False
    for group in group_actions(p.actions):
        out.append(f"  Policy {clean(group.policy)}")
        for item in group.items:
            out.append(f"    {item.heading}")
            lines, cut = action_lines(item, max_lines=max_lines, full=full)
            out.extend(_action_line(line, paint) for line in lines)
            summarised = summarised or cut
        out.append("")
    kept, cut = _kept_section(p.kept, paint, full=full, max_lines=max_lines)
    out.extend(kept)
    out.extend(_identity_section(p, full=full, max_lines=max_lines))
    out.extend(_warnings_section(p, paint))
    return out, summarised or cut


def _action_line(line: Line, paint: _Painter) -> str:
    if line.kind is None:
        return f"        {line.text}"
    return "      " + paint(COLOURS[line.kind], f"{SIGNS[line.kind]} {line.text}")


def _kept_section(
    kept: tuple[Kept, ...], paint: _Painter, *, full: bool, max_lines: int
) -> tuple[list[str], bool]:
    if not kept:
        return [], False
    out = [f"  Kept as they are ({number(len(kept), 'enrollment')})"]
    summarised = False
    for reason in KEPT_ORDER:
        chosen = sorted(
            (k for k in kept if k.reason is reason), key=lambda k: (k.item_title, k.user_login, k.user_id)
        )
        if not chosen:
            continue
        protected = reason in (KeptReason.HAS_PROGRESS, KeptReason.COMPLETED, KeptReason.UNKNOWN)
        heading = f"{len(chosen):,} {KEPT_EXPLAINED[reason]}"
        out.append("    " + (paint(YELLOW, heading) if protected else heading))
        if full or len(chosen) <= max_lines:
            out.extend(f"      = {_kept_text(k)}" for k in chosen)
        else:
            summarised = True
            per_item = Counter(f'"{clean(k.item_title)}"' for k in chosen)
            out.extend(f"      = {number(n, 'learner')} in {title}" for title, n in sorted(per_item.items()))
    out.append("")
    return out, summarised


def _kept_text(k: Kept) -> str:
    detail = f": {clean(k.detail)}" if k.detail else ""
    return f'{clean(k.user_login)} in "{clean(k.item_title)}"{detail}'


def _identity_section(p: ProviderPlan, *, full: bool, max_lines: int) -> list[str]:
    report = p.identity
    if not (report.issues or report.excluded or report.not_enrollable):
        return []
    out = ["  Identity"]
    for problem, label in (
        (IdentityProblem.UNKNOWN, "unknown user"),
        (IdentityProblem.NOT_ENROLLABLE, "not enrollable"),
    ):
        issues = sorted(i for i in report.issues if i.problem is problem)
        shown = issues if full else issues[:max_lines]
        out.extend(f"    {label}: {issue_text(issue)}" for issue in shown)
        if len(issues) > len(shown):
            out.append(f"    ... and {len(issues) - len(shown):,} more ({label}); use --full to list them")
    if report.not_enrollable:
        targeted = number(report.not_enrollable, "targeted user")
        out.append(f"    {targeted} not enrolled: status outside settings.user_statuses")
    if report.excluded:
        out.append(f"    {number(report.excluded, 'targeted user')} excluded by `exclude`")
    out.append("")
    return out


def _warnings_section(p: ProviderPlan, paint: _Painter) -> list[str]:
    if not p.warnings:
        return []
    out = [paint(YELLOW, "  Warnings")]
    for warning in p.warnings:
        where = f" ({clean(str(warning.position))})" if warning.position is not None else ""
        out.append(f"    ! {clean(warning.message, limit=2000)}{where}")
    out.append("")
    return out


def _footer(plan: Plan, paint: _Painter, *, summarised: bool, plan_file: str | None) -> list[str]:
    out = []
    guards = guard_states(plan)
    if guards:
        out.append("Guards")
        width = max(len(name) for name, _, _ in guards)
        for name, state, tripped in guards:
            out.append(f"  {name:<{width}}  " + (paint(RED, state) if tripped else state))
    options = options_phrase(plan)
    if options:
        out.append(f"Options: {options}")
    if summarised:
        out.append(FULL_HINT)
    if out:
        out.append("")
    summary = total(plan)
    refused_plan = refusal(plan, plan_file)
    refused = (
        [paint(RED, refused_plan.verdict), f"After review: {refused_plan.command}"] if refused_plan else []
    )
    if not plan.has_changes:
        out.append(NO_CHANGES)
        return out + refused
    out.append(paint(BOLD, f"Plan: {counts_phrase(summary)}."))
    out.append(effort_sentence(summary))
    out.append(scope_sentence(summary))
    return out + refused

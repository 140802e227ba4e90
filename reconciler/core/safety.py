"""Safety: protection of training records and the removal guards.

Pure. `diff` asks `removal_protection` before planning any removal; the CLI (or apply) calls
`check(plan, settings)` on every `ProviderPlan` before showing it as applicable, and records
`check_guards(...)` in `Plan.guard` for display. A guard compares the plan's removals with
`settings.max_removals` (a count) and `settings.max_removal_share` (removals / enrollments in managed items);
exceeding either (strictly greater) refuses the plan. The `unknown_state` guard (listed only when the plan
has any) refuses a plan that prunes items in which some enrollments' state could not be read, unless the run
says `--allow-unknown`: a misread answer must not become a removal.
"""

from __future__ import annotations

import math
from collections import Counter
from operator import attrgetter

from reconciler.core.model import Completion, Enrollment, Settings
from reconciler.core.plan import ActionKind, KeptReason, ProviderPlan, RunOptions
from reconciler.core.words import number, plural
from reconciler.errors import GuardTripped

MAX_REMOVALS = "max_removals"
MAX_REMOVAL_SHARE = "max_removal_share"
UNKNOWN_STATE = "unknown_state"
_KIND = attrgetter("kind")


def is_completed(enrollment: Enrollment) -> bool:
    """True when the enrollment records a completion."""
    return enrollment.completion is Completion.COMPLETED or enrollment.completed_at is not None


def removal_protection(enrollment: Enrollment, options: RunOptions) -> KeptReason | None:
    """Why removing this enrollment must not be planned, or None when the run allows it.

    `--allow-remove-completed` is the stronger flag: it implies `--allow-remove-started`. An enrollment whose
    state could not be read (`Enrollment.unknown`) is never removed, whatever the flags.
    """
    if enrollment.unknown:
        return KeptReason.UNKNOWN
    if is_completed(enrollment):
        return None if options.allow_remove_completed else KeptReason.COMPLETED
    if enrollment.started and not (options.allow_remove_started or options.allow_remove_completed):
        return KeptReason.HAS_PROGRESS
    return None


def is_protected(enrollment: Enrollment) -> bool:
    """True when removing the enrollment destroys progress or a completion (needs an override flag)."""
    return enrollment.started or is_completed(enrollment)


# --- guards ----------------------------------------------------------------------------------------------


def _removals(plan: ProviderPlan) -> int:
    # one pass in C (a plan holds 100,000s of actions): list.count meets each interned kind by identity
    return list(map(_KIND, plan.actions)).count(ActionKind.REMOVE)


def _share(removals: int, managed: int) -> float:
    if removals == 0:
        return 0.0
    # A removal implies a managed enrollment; guard anyway against a plan built with a zero base.
    return removals / managed if managed > 0 else 1.0


def _count_tripped(removals: int, settings: Settings) -> bool:
    return removals > settings.max_removals


def _share_tripped(removals: int, managed: int, settings: Settings) -> bool:
    return _share(removals, managed) > settings.max_removal_share


def _unknown_state(plan: ProviderPlan, allow_unknown: bool) -> str:
    unknown = plan.summary.unknown
    noun = plural(unknown, "enrollment")
    if allow_unknown:
        return f"ok: {unknown} {noun} in pruned items unreadable, allowed by --allow-unknown"
    return f"tripped: {unknown} {noun} in pruned items unreadable"


def check_guards(plan: ProviderPlan, settings: Settings, *, allow_unknown: bool = False) -> dict[str, str]:
    """Guard name → "ok ..." or "tripped ..." with the numbers, for `Plan.guard` and renderers."""
    removals, managed = _removals(plan), plan.summary.managed
    share = _share(removals, managed)
    count_state = "tripped" if _count_tripped(removals, settings) else "ok"
    share_state = "tripped" if _share_tripped(removals, managed, settings) else "ok"
    states = {
        MAX_REMOVALS: f"{count_state}: {number(removals, 'removal')}, limit {settings.max_removals}",
        MAX_REMOVAL_SHARE: (
            f"{share_state}: {removals} of {managed} managed enrollments ({share:.1%}), "
            f"limit {settings.max_removal_share:.1%}"
        ),
    }
    if plan.summary.unknown:
        states[UNKNOWN_STATE] = _unknown_state(plan, allow_unknown)
    return states


def top_contributors(plan: ProviderPlan, limit: int = 3) -> list[tuple[str, str, int]]:
    """(policies, item title, removals) of the items with the most removals, most first."""
    counts: Counter[tuple[str, str]] = Counter()
    # removals of one item share its `prune_by` tuple: name its policies once per tuple (by identity; the
    # plan holds every tuple, so no id is reused while counting)
    named: dict[int, str] = {}
    for action in plan.actions:
        if action.kind is ActionKind.REMOVE:
            policies = named.get(id(action.sources))
            if policies is None:
                policies = ", ".join(sorted({s.policy for s in action.sources})) or "?"
                named[id(action.sources)] = policies
            counts[(policies, action.item_title)] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(policies, title, n) for (policies, title), n in ranked[:limit]]


def check(plan: ProviderPlan, settings: Settings, *, allow_unknown: bool = False) -> None:
    """Raise `GuardTripped` when the plan removes more than the settings allow, or prunes items holding
    enrollments whose state could not be read; say what to do."""
    if plan.summary.unknown and not allow_unknown:
        unknown = [k for k in plan.kept if k.reason is KeptReason.UNKNOWN]
        listing = "".join(f"\n  {k.user_login} in {k.item_title!r}: {k.detail}" for k in unknown[:10])
        more = f"\n  … and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise GuardTripped(
            f"plan for provider {plan.provider!r} refused: {number(plan.summary.unknown, 'enrollment')} "
            "in pruned items could not be read for certain "
            "(progress, status, origin or dates in a form enrollctl does not know); a pruning plan is not "
            f"made on a partial reading{listing}{more}",
            hint="report the raw value to the enrollctl maintainers, or re-run with --allow-unknown to prune "
            "the rest anyway (enrollments whose state is unknown are kept, never removed)",
        )
    removals, managed = _removals(plan), plan.summary.managed
    problems: list[str] = []
    hints: list[str] = []
    if _count_tripped(removals, settings):
        problems.append(f"{removals} removals exceed settings.max_removals ({settings.max_removals})")
        hints.append(f"{MAX_REMOVALS}: {removals}")
    if _share_tripped(removals, managed, settings):
        share = _share(removals, managed)
        problems.append(
            f"{removals} of {managed} managed enrollments ({share:.1%}) exceed "
            f"settings.max_removal_share ({settings.max_removal_share:.1%})"
        )
        hints.append(f"{MAX_REMOVAL_SHARE}: {math.ceil(share * 100) / 100:.2f}")
    if not problems:
        return
    contributors = "; ".join(
        f"{title!r} {n} (policy {policies})" for policies, title, n in top_contributors(plan)
    )
    message = (
        f"plan for provider {plan.provider!r} refused: {' and '.join(problems)}. "
        f"Most removals: {contributors}"
    )
    hint = (
        "review the removals in the full plan; if they are intended, raise the limit under `settings:` in "
        f"enrollctl.yaml ({', '.join(hints)}), or plan fewer policies at a time with --policy"
    )
    raise GuardTripped(message, hint=hint)

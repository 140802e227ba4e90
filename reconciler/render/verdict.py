"""What a reader needs around the actions: the guard verdict of a refused plan with the one command that
applies it anyway, and a legend of the markers the plan's lines use. Pure, like every renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.core.model import DueKind
from reconciler.core.plan import ActionKind, Plan, Risk
from reconciler.planfile.codec import approval_digest
from reconciler.render.describe import KIND_ORDER, clean


@dataclass(frozen=True)
class Refusal:
    """The guard verdict of a refused plan, and the one command that applies it anyway."""

    verdict: str
    command: str


def refusal(plan: Plan, plan_file: str | None = None) -> Refusal | None:
    """Why the plan is refused and how to approve exactly it (saved as `plan_file`, when it was); None when
    its guards passed."""
    if not plan.refused_by:
        return None
    names = ", ".join(clean(name) for name in plan.refused_by)
    return Refusal(
        verdict=f"Refused by guard{'s' if len(plan.refused_by) > 1 else ''} {names}: nothing is applied "
        "without an approval bound to exactly this plan.",
        command=f"enrollctl apply {plan_file or 'PLAN_FILE'} --approve {approval_digest(plan)}",
    )


def legend(plan: Plan, signs: Mapping[ActionKind, str]) -> list[tuple[str, str]]:
    """(marker, meaning) for every marker this plan's lines use, in the order a reader meets them."""
    used = _markers_used(plan)
    words = {
        ActionKind.ADD: "add",
        ActionKind.UPDATE: "change: old → new",
        ActionKind.REENROLL: "re-enroll: the training recurs; the vendor keeps the earlier result as history",
        ActionKind.REMOVE: "remove",
    }
    kinds = sorted((k for k in used if isinstance(k, ActionKind)), key=KIND_ORDER.__getitem__)
    found = [(signs[kind], words[kind]) for kind in kinds]
    if any(p.kept for p in plan.providers):
        found.append(("=", "kept as it is, with the reason"))
    notes = [
        (TIGHTENED, "(tightened)", "due earlier (or a due date where there was none), or lock after due on"),
        (LOOSENED, "(loosened)", "due later (or no due date any more), or lock after due off"),
        (PERIOD, "(within 2w of DATE)", "the policy's period, counted from the enrollment's access date"),
        (Risk.PAST_DUE, "[past due]", "the due date is already past when this is applied"),
        (
            Risk.PROTECTED_OVERRIDE,
            "[destroys training records: allowed by flag]",
            "a removal of progress or a completion that --allow-remove-started/-completed allowed",
        ),
        (NO_EMAIL, "[no e-mail]", "the vendor is asked not to notify the learner"),
        (ALSO, "(also: …)", "other policies want the same enrollment; it is listed once"),
    ]
    found += [(marker, meaning) for mark, marker, meaning in notes if mark in used]
    return found


# markers of update lines and notes, beside the action kinds and risks `_markers_used` collects (tuples:
# `Risk` is a StrEnum, so a plain "tightened" would equal `Risk.TIGHTENED` of any action)
TIGHTENED, LOOSENED, PERIOD, NO_EMAIL, ALSO = (
    ("note", n) for n in ("tightened", "loosened", "period", "no", "also")
)


def _markers_used(plan: Plan) -> set[object]:
    """Every action kind, risk and note the plan's lines show, in one pass over its actions."""
    used: set[object] = set()
    for provider in plan.providers:
        for a in provider.actions:
            used.add(a.kind)
            used.update(a.risks)
            if a.kind is ActionKind.REMOVE:
                continue
            if not a.notify:
                used.add(NO_EMAIL)
            if len(a.sources) > 1 and len({s.policy for s in a.sources}) > 1:
                used.add(ALSO)
            if a.kind is ActionKind.UPDATE:
                if Risk.TIGHTENED in a.risks:
                    used.add(TIGHTENED)
                if Risk.LOOSENED in a.risks:
                    used.add(LOOSENED)
                if a.terms is not None and a.terms.due.kind is DueKind.WITHIN:
                    used.add(PERIOD)
    return used


def options_phrase(plan: Plan) -> str:
    """The flags recorded in the plan, as they were typed; empty when none."""
    flags = []
    if plan.options.allow_remove_started:
        flags.append("--allow-remove-started")
    if plan.options.allow_remove_completed:
        flags.append("--allow-remove-completed")
    if plan.options.allow_unknown:
        flags.append("--allow-unknown")
    if plan.options.update_completed:
        flags.append("--update-completed")
    flags.extend(f"--policy {clean(p)}" for p in plan.options.policies)
    return " ".join(flags)


def guard_states(plan: Plan) -> list[tuple[str, str, bool]]:
    """(guard name, state as `safety.check_guards` wrote it, tripped?) in name order."""
    return [
        (clean(name), clean(plan.guard[name]), plan.guard[name].startswith("tripped"))
        for name in sorted(plan.guard)
    ]

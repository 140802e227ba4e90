"""What the text and Markdown renderers share: grouping, wording of actions, and per-department summaries.

Grouping rule (both renderers): an action is listed once, under the policy of its first `Source` (diff sorts
sources, so that is the first policy by name); when other policies want it too, the line says `(also: a, b)`,
so a reviewer of either policy sees it. Removals name every pruning policy instead (`pruned by a, b`).
Within a policy, items are ordered by title; within an item, adds, then updates, then removals, by login.
Every string that came from a manifest or the LMS goes through `clean`, so a login cannot carry terminal
escapes, line breaks or bidi overrides into a review.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.core.model import Completion, Due, DueKind, Enrollment, ItemKind, Origin, Terms, format_hours
from reconciler.core.plan import (
    Action,
    ActionKind,
    IdentityIssue,
    Kept,
    KeptReason,
    Plan,
    ProviderPlan,
    Risk,
    Summary,
)
from reconciler.core.terms import reported_due_date, start_of, utc_date, wanted_due_date
from reconciler.core.words import number, plural

NO_POLICY = "(no policy)"
MAX_FIELD = 200  # longer user-provided strings are cut; the JSON plan keeps them whole
KIND_ORDER = {ActionKind.ADD: 0, ActionKind.UPDATE: 1, ActionKind.REENROLL: 2, ActionKind.REMOVE: 3}
ITEM_WORD = {ItemKind.COURSE: "course", ItemKind.LEARNING_PATH: "learning path"}

KEPT_EXPLAINED = {
    KeptReason.HAS_PROGRESS: (
        "has progress: removing would destroy training records (--allow-remove-started allows it)"
    ),
    KeptReason.COMPLETED: (
        "completed: removing would destroy a completion (--allow-remove-completed allows it)"
    ),
    KeptReason.CATALOG: "chosen by the learner from the catalog: pruning leaves these alone",
    KeptReason.UNSUPPORTED: "the vendor cannot make this change",
    KeptReason.USER_NOT_ENROLLABLE: "user status outside settings.user_statuses: they keep their assignments",
    KeptReason.UNKNOWN: "state unknown: the LMS answered in a form enrollctl cannot read; never removed",
    KeptReason.COMPLETED_TERMS: "completed: terms kept as history (--update-completed changes them)",
}


@dataclass(frozen=True)
class ItemGroup:
    item_id: str
    item_kind: ItemKind
    item_title: str
    actions: tuple[Action, ...]

    @property
    def heading(self) -> str:
        return f'{ITEM_WORD[self.item_kind]} "{clean(self.item_title)}"'


@dataclass(frozen=True)
class PolicyGroup:
    policy: str
    items: tuple[ItemGroup, ...]

    def count(self, kind: ActionKind) -> int:
        return sum(1 for item in self.items for a in item.actions if a.kind is kind)


@dataclass(frozen=True)
class Line:
    """One rendered action line, or a summary standing for many; `kind` None for notes."""

    kind: ActionKind | None
    text: str


def clean(value: str, limit: int = MAX_FIELD) -> str:
    """Make a user-provided string safe to print: control and format characters escaped, length capped."""
    if value.isprintable() and len(value) <= limit:
        return value  # the common case, and plans can hold 100,000s of strings
    out = []
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def issue_text(issue: IdentityIssue) -> str:
    """`ghost@acme.example (blocked), policy security-awareness at policies/security.yaml:21:9`."""
    status = f" ({clean(issue.status)})" if issue.status else ""
    return f"{clean(issue.reference)}{status}, policy {clean(issue.policy)} at {clean(str(issue.position))}"


def policy_of(action_or_kept: Action | Kept) -> str:
    """The policy an action is listed under: the first source's, or a placeholder."""
    return action_or_kept.sources[0].policy if action_or_kept.sources else NO_POLICY


def group_actions(actions: Iterable[Action]) -> tuple[PolicyGroup, ...]:
    """Group actions by first-source policy, then item; deterministic whatever the input order."""
    by_policy: dict[str, dict[str, list[Action]]] = {}
    for action in actions:
        by_policy.setdefault(policy_of(action), {}).setdefault(action.item_id, []).append(action)
    groups = []
    for policy in sorted(by_policy):
        items = []
        for item_actions in by_policy[policy].values():
            first = item_actions[0]
            ordered = sorted(item_actions, key=lambda a: (KIND_ORDER[a.kind], a.user_login, a.user_id))
            items.append(ItemGroup(first.item_id, first.item_kind, first.item_title, tuple(ordered)))
        items.sort(key=lambda g: (g.item_title, g.item_id))
        groups.append(PolicyGroup(policy, tuple(items)))
    return tuple(groups)


# --- wording of one action -----------------------------------------------------------------------------


def describe(action: Action) -> str:
    """What an action does, without the sign and the login: terms, changes, reasons, risk labels."""
    if action.kind is ActionKind.ADD:
        parts = [terms_text(action)]
    elif action.kind is ActionKind.UPDATE:
        parts = [change_text(action)]
    elif action.kind is ActionKind.REENROLL:  # `changes` holds why: the completion date and the rule
        parts = [f"re-enroll ({'; '.join(action.changes)})"]
    else:
        parts = [removal_text(action)]
    parts.extend(risk_labels(action))
    if not action.notify and action.kind is not ActionKind.REMOVE:
        parts.append("[no e-mail]")
    others = sorted({s.policy for s in action.sources[1:]} - {policy_of(action)})
    if others and action.kind is not ActionKind.REMOVE:
        parts.append(f"(also: {', '.join(clean(p) for p in others)})")
    return " ".join(p for p in parts if p)


def terms_text(action: Action) -> str:
    """`due 2026-12-31, locked after due, access from 2026-11-01`."""
    if action.terms is None:
        return ""
    terms = action.terms
    parts = [_due_phrase(terms.due)]
    if terms.lock_after_due:
        parts.append("locked after due")
    if terms.access is not None:
        parts.append(f"access from {terms.access.isoformat()}")
    return ", ".join(parts)


def change_text(action: Action) -> str:
    """`due 2027-01-01 → 2026-12-16 (within 2w of 2026-12-02, tightened), lock after due off → on
    (tightened)`: one part per changed field, old and new in the same form, the rule and direction beside."""
    before, terms = action.before, action.terms
    parts = []
    for name in action.changes:
        if name == "due" and terms is not None:
            parts.append(_due_change(before, terms))
        elif name == "lock_after_due" and terms is not None:
            old = "on" if before is not None and before.lock_after_due else "off"
            new, direction = ("on", "tightened") if terms.lock_after_due else ("off", "loosened")
            parts.append(f"lock after due {old} → {new} ({direction})")
        elif name == "access" and terms is not None:
            old = _datetime_text(before.access) if before is not None else "none"
            new = terms.access.isoformat() if terms.access is not None else "on enrollment"
            parts.append(f"access {old} → {new}")
        else:
            parts.append(f"{clean(name)} changed")
    return ", ".join(parts) if parts else "terms changed"


def removal_text(action: Action) -> str:
    """`pruned by sales-compliance`, plus what the removal destroys when it was allowed by a flag."""
    policies = sorted({s.policy for s in action.sources})
    text = f"pruned by {', '.join(clean(p) for p in policies)}" if policies else "pruned"
    before = action.before
    if before is not None:
        if before.completion is Completion.COMPLETED:
            when = f" {before.completed_at.date().isoformat()}" if before.completed_at else ""
            text += f", completed{when}"
        elif before.started:
            text += f", {before.progress:g}% done"
        if before.origin is Origin.CATALOG:
            text += ", chosen from the catalog"
    return text


def _due_change(before: Enrollment | None, terms: Terms) -> str:
    """`due 2027-01-01 → 2026-12-16 (within 2w of 2026-12-02, tightened)`; dates as calendar days."""
    old_date = reported_due_date(before) if before is not None else None
    old = "default" if before is not None and before.due_is_default else _day(old_date)
    due = terms.due
    if due.kind is DueKind.DEFAULT:
        return f"due {old} → default (the item's own)"
    # the moment a period runs from: the policy's access date, else the enrollment's own (as the diff does)
    start = start_of(terms.access) if terms.access is not None else (before.access if before else None)
    new_date = due.date if due.kind is DueKind.DATE else None
    notes = []
    if due.kind is DueKind.WITHIN and due.hours is not None:
        if start is None:
            return f"due {old} → within {format_hours(due.hours)}"
        new_date = wanted_due_date(terms, start)
        notes.append(f"within {format_hours(due.hours)} of {utc_date(start).isoformat()}")
    if new_date != old_date:
        later = new_date is None or (old_date is not None and new_date > old_date)
        notes.append("loosened" if later else "tightened")
    return f"due {old} → {_day(new_date)}" + (f" ({', '.join(notes)})" if notes else "")


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else "none"


def risk_labels(action: Action) -> list[str]:
    """Reviewer-facing labels beside the changes: `[past due]`, `[destroys ...]` (direction is inline)."""
    labels = []
    if Risk.PAST_DUE in action.risks:
        labels.append("[past due]")
    if Risk.PROTECTED_OVERRIDE in action.risks:
        labels.append("[destroys training records: allowed by flag]")
    return labels


def due_value(due: Due) -> str:
    """A due term as a value: `2026-12-31`, `within 2w`, `none`, `default`."""
    if due.kind is DueKind.UNLIMITED:
        return "none"
    return str(due)


def before_due(before: Enrollment | None) -> str:
    """The due date an enrollment has now, in the same words as `due_value`."""
    if before is None:
        return "none"
    if before.due_is_default:
        return "default"
    if before.due_hours is not None:
        return f"within {format_hours(before.due_hours)}"
    return _datetime_text(before.due) if before.due is not None else "none"


def _due_phrase(due: Due) -> str:
    if due.kind is DueKind.UNLIMITED:
        return "no due date"
    if due.kind is DueKind.DEFAULT:
        return "default due date"
    return f"due {due}"


def _datetime_text(value: dt.datetime | None) -> str:
    if value is None:
        return "none"
    if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
        return value.date().isoformat()
    return value.strftime("%Y-%m-%d %H:%M")


# --- totals --------------------------------------------------------------------------------------------


def total(plan: Plan) -> Summary:
    """Add up the providers' summaries."""
    names = [f.name for f in dataclasses.fields(Summary)]
    return Summary(**{name: sum(getattr(p.summary, name) for p in plan.providers) for name in names})


def counts_phrase(summary: Summary) -> str:
    """`12 to add, 3 to change, 1 to remove, 2 kept`."""
    reenroll = f"{summary.reenroll:,} to re-enroll, " if summary.reenroll else ""
    return (
        f"{summary.add:,} to add, {summary.update:,} to change, {reenroll}{summary.remove:,} to remove, "
        f"{summary.kept:,} kept"
    )


def effort_sentence(summary: Summary) -> str:
    """How much applying costs: API calls and learner e-mails."""
    return (
        f"Applying it makes about {number(summary.estimated_calls, 'API call')} and sends "
        f"{number(summary.notifications, 'learner notification')}."
    )


def scope_sentence(summary: Summary) -> str:
    """How much of the LMS the plan leaves alone, so reviewers see the blast radius."""
    verb = plural(summary.unchanged, "matches", "match")
    matching = f"{number(summary.unchanged, 'enrollment')} already {verb}; "
    if summary.untouched:
        verb = plural(summary.untouched, "is", "are")
        return (
            matching + f"{number(summary.untouched, 'enrollment')} outside managed items {verb} left alone."
        )
    # Enrollments in items no policy assigns are not even read, so there is nothing to count.
    return matching + "items no policy assigns are neither read nor changed."


def provider_heading(p: ProviderPlan) -> str:
    """`lms (ispring, account acme.ispringlearn.com)`."""
    return f"{clean(p.provider)} ({p.kind.value}, account {clean(p.account)})"

"""What changed between two saved plans: actions added, dropped or changed field by field, and the plan's
basis and verdict (manifests, options, guards, approval digest, counts).

Pure: two `Plan`s in, a `Comparison` out; `render.compare` words it. Actions are matched by provider, learner
and item (a plan has at most one action per enrollment), so an `add` that became an `update` is one changed
action, not a drop and an add. Values are compared as the plan file holds them and handed on as short
strings (`2027-01-15`, `within 2w`, `on`), so the renderers never recompute them.

Not deepdiff: it costs ~130 ms to import and ~0.6 ms per pair of actions (a policy change that touches
100,000 enrollments would take a minute), and its paths (`root['terms']['due']['date']`, list indexes) would
have to be translated into these same field names anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reconciler.core.model import DueKind, Enrollment, Terms, format_hours
from reconciler.core.plan import Action, ActionKind, Plan, ProviderPlan
from reconciler.core.terms import access_moment, wanted_due_date
from reconciler.planfile.codec import SUMMARY_FIELDS, approval_digest

ActionKey = tuple[str, str, str]  # provider, user id, item id


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its name (`due`, `LMS progress`, `guard max_removals`) and both values."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class ActionChange:
    """An enrollment planned in both plans, differently."""

    provider: str
    old: Action
    new: Action
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class Comparison:
    """Everything that differs between an older plan and a newer one."""

    old_digest: str
    new_digest: str
    old_created: dt.datetime
    new_created: dt.datetime
    plan: tuple[FieldChange, ...]  # basis, options, guards, verdict, counts
    added: tuple[tuple[str, Action], ...]  # (provider, action) planned now, not before
    dropped: tuple[tuple[str, Action], ...]  # planned before, not now
    changed: tuple[ActionChange, ...]

    @property
    def same_actions(self) -> bool:
        """True when both plans would make exactly the same changes."""
        return not (self.added or self.dropped or self.changed)


def compare_plans(old: Plan, new: Plan) -> Comparison:
    """Compare an older plan with a newer one (both as saved); see the module doc."""
    before, after = _actions(old), _actions(new)
    added = tuple((k[0], after[k]) for k in sorted(after.keys() - before.keys(), key=_order(after)))
    dropped = tuple((k[0], before[k]) for k in sorted(before.keys() - after.keys(), key=_order(before)))
    changed = []
    for key in sorted(before.keys() & after.keys(), key=_order(after)):
        if before[key] == after[key] and old.created_at == new.created_at:
            continue  # the common case, decided without formatting a value
        fields = action_changes(before[key], after[key], old.created_at, new.created_at)
        if fields:
            changed.append(ActionChange(key[0], before[key], after[key], fields))
    return Comparison(
        old_digest=approval_digest(old),
        new_digest=approval_digest(new),
        old_created=old.created_at,
        new_created=new.created_at,
        plan=plan_changes(old, new),
        added=added,
        dropped=dropped,
        changed=tuple(changed),
    )


def _actions(plan: Plan) -> dict[ActionKey, Action]:
    return {(p.provider, a.user_id, a.item_id): a for p in plan.providers for a in p.actions}


def _order(actions: Mapping[ActionKey, Action]) -> Callable[[ActionKey], tuple[str, str, str, str]]:
    def key(k: ActionKey) -> tuple[str, str, str, str]:
        a = actions[k]
        return (k[0], a.item_title, a.user_login, a.user_id)

    return key


# --- plan level ----------------------------------------------------------------------------------------


def plan_changes(old: Plan, new: Plan) -> tuple[FieldChange, ...]:
    """Differences in what the plans rest on and their verdicts: manifests, options, guards, counts."""
    found: list[FieldChange] = []
    if old.manifest_digest != new.manifest_digest:
        found.append(FieldChange("manifests", _short(old.manifest_digest), _short(new.manifest_digest)))
    gone, came = (
        sorted(set(old.policy_files) - set(new.policy_files)),
        sorted(set(new.policy_files) - set(old.policy_files)),
    )
    if gone or came:
        found.append(FieldChange("policy files", ", ".join(gone) or "-", ", ".join(came) or "-"))
    for name in ("allow_remove_started", "allow_remove_completed", "allow_unknown", "update_completed"):
        was, now = getattr(old.options, name), getattr(new.options, name)
        if was != now:
            found.append(FieldChange(f"option --{name.replace('_', '-')}", _on(was), _on(now)))
    if old.options.policies != new.options.policies:
        found.append(
            FieldChange(
                "option --policy",
                ", ".join(old.options.policies) or "all",
                ", ".join(new.options.policies) or "all",
            )
        )
    for name in sorted(set(old.guard) | set(new.guard)):
        was, now = old.guard.get(name, "-"), new.guard.get(name, "-")
        if was != now:
            found.append(FieldChange(f"guard {name}", was, now))
    if old.refused_by != new.refused_by:
        found.append(FieldChange("verdict", _verdict(old), _verdict(new)))
    found.extend(_summaries(old, new))
    return tuple(found)


def _summaries(old: Plan, new: Plan) -> list[FieldChange]:
    was = {p.provider: p for p in old.providers}
    now = {p.provider: p for p in new.providers}
    found = []
    for name in sorted(set(was) | set(now)):
        if name not in now or name not in was:
            found.append(FieldChange(f"provider {name}", _account(was.get(name)), _account(now.get(name))))
            continue
        counts = [f for f in (*SUMMARY_FIELDS, "reenroll") if f not in ("estimated_calls", "managed")]
        for field in counts:
            a, b = getattr(was[name].summary, field), getattr(now[name].summary, field)
            if a != b:
                found.append(FieldChange(f"{name}: {field}", f"{a:,}", f"{b:,}"))
    return found


def _account(p: ProviderPlan | None) -> str:
    return "-" if p is None else f"{p.kind.value}, account {p.account}"


def _verdict(plan: Plan) -> str:
    return f"refused by {', '.join(plan.refused_by)}" if plan.refused_by else "guards pass"


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _on(value: bool) -> str:
    return "on" if value else "off"


# --- one action ----------------------------------------------------------------------------------------


def action_changes(
    old: Action, new: Action, old_now: dt.datetime, new_now: dt.datetime
) -> tuple[FieldChange, ...]:
    """The fields in which two actions on one enrollment differ, the plan's terms first, then the basis."""
    found: list[FieldChange] = []
    if old.kind is not new.kind:
        found.append(FieldChange("action", old.kind.value, new.kind.value))
    values: list[tuple[str, Callable[[Action, dt.datetime], str]]] = [
        ("due", _due),
        ("lock after due", lambda a, _n: _terms_value(a, lambda t: _on(t.lock_after_due))),
        ("access", lambda a, _n: _terms_value(a, _access)),
        ("recur", lambda a, _n: _terms_value(a, lambda t: str(t.recur) if t.recur else "none")),
        ("e-mail", lambda a, _n: "yes" if a.notify else "no"),
        ("risks", lambda a, _n: ", ".join(r.value for r in a.risks) or "none"),
        ("policies", lambda a, _n: ", ".join(sorted({s.policy for s in a.sources})) or "none"),
    ]
    if old.kind is ActionKind.REENROLL and new.kind is ActionKind.REENROLL:
        values.append(("why", lambda a, _n: "; ".join(a.changes)))
    for name, value in values:
        was, now = value(old, old_now), value(new, new_now)
        if was != now:
            found.append(FieldChange(name, was, now))
    found.extend(basis_changes(old.before, new.before))
    return tuple(found)


def _terms_value(action: Action, value: Callable[[Terms], str]) -> str:
    return "-" if action.terms is None else value(action.terms)


def _access(terms: Terms) -> str:
    return terms.access.isoformat() if terms.access is not None else "on enrollment"


def _due(action: Action, now: dt.datetime) -> str:
    """The due a plan sets: a date; a period with the date it falls on where the access is known."""
    terms = action.terms
    if terms is None:
        return "-"
    due = terms.due
    if due.kind is DueKind.UNLIMITED:
        return "none"
    if due.kind is DueKind.DEFAULT:
        return "default"
    if due.kind is DueKind.DATE:
        return str(due)
    period = f"within {format_hours(due.hours or 0)}"
    if action.before is None and terms.access is None:
        return period  # a new enrollment's period runs from when it is applied: no date to compare yet
    date = wanted_due_date(terms, access_moment(terms, action.before, now))
    return f"{date.isoformat() if date else 'none'} ({period})"


BASIS_FIELDS: tuple[tuple[str, Callable[[Enrollment], object]], ...] = (
    ("due", lambda e: e.due),
    ("due period", lambda e: e.due_hours),
    ("lock after due", lambda e: e.lock_after_due),
    ("access", lambda e: e.access),
    ("completion", lambda e: e.completion.value),
    ("progress", lambda e: f"{e.progress:g}%"),
    ("completed", lambda e: e.completed_at),
    ("origin", lambda e: e.origin.value),
    ("state", lambda e: e.unknown or "read"),
)


def basis_changes(old: Enrollment | None, new: Enrollment | None) -> tuple[FieldChange, ...]:
    """What the LMS held that changed between the plans (`LMS progress: 0% → 40%`)."""
    if old is None and new is None:
        return ()
    if old is None or new is None:
        held = ("nothing" if old is None else "held", "nothing" if new is None else "held")
        return (FieldChange("LMS", *held),)
    found = []
    for name, value in BASIS_FIELDS:
        was, now = value(old), value(new)
        if was != now:
            found.append(FieldChange(f"LMS {name}", _text(was), _text(now)))
    return tuple(found)


def _text(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return _on(value)
    if isinstance(value, dt.datetime):
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, int):
        return format_hours(value)
    return str(value)

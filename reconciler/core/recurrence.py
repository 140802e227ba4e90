"""Recurring assignments (`recur:`): plan `reenroll` for completions whose period has run out.

Pure; runs on a provider's plan after the diff. A wanted enrollment whose terms recur, that the LMS holds as
completed, is due again when
- its anchor (the completion date, or for `from: assignment` the access date) + the period is at or before
  `now`, or
- the vendor's own compliance expiry (Litmos `CompliantTill`) is at or before `now`.
Then the plan gets one `reenroll` action (with the wanted terms, which iSpring's reenroll sets and Litmos'
reset ignores), replacing any `update` of that enrollment. Enrollments that are not completed, or whose
state could not be read, are never re-enrolled. A completed enrollment whose completion date is unknown
(and that has no vendor expiry) is left alone, and the plan says how many and why.

A re-enrollment counts as a change, sends the learner a notification like an add (unless the policy says
`notify: false` and the vendor can be told so), and costs what the provider's batches say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from reconciler.core.desired import DesiredEnrollment, DesiredState
from reconciler.core.directory import DirectoryIndex
from reconciler.core.due import DueFact, DueInformation
from reconciler.core.model import Capabilities, Completion, Enrollment, EnrollmentKey, Snapshot
from reconciler.core.period import RecurFrom, Recurrence
from reconciler.core.plan import Action, ActionKind, ProviderPlan, Warning


@dataclass(frozen=True)
class Due:
    """Why an enrollment is due again: the moment, and what it was counted from."""

    at: dt.datetime
    reason: str  # e.g. "completed 2025-11-02; every 12 months from completion"


def due_again(
    recur: Recurrence, enrollment: Enrollment, fact: DueFact | None, now: dt.datetime
) -> Due | str | None:
    """When a completed enrollment is due again (a `Due` at or before `now`), None when not yet, or a
    reason (str) when it cannot be told."""
    if enrollment.unknown or not _completed(enrollment, fact):
        return None
    expires = fact.expires if fact is not None else None
    if expires is not None and expires <= now:
        return Due(expires, f"compliance expired {_day(expires)}; {recur}")
    completed = enrollment.completed_at or (fact.completed_at if fact is not None else None)
    anchor = enrollment.access if recur.anchor is RecurFrom.ASSIGNMENT else completed
    if anchor is None:
        if expires is not None:
            return None  # the vendor says it is still valid
        what = "assignment" if recur.anchor is RecurFrom.ASSIGNMENT else "completion"
        return f"the LMS reports no {what} date"
    at = recur.after(anchor)
    if at > now:
        return None
    label = "assigned" if recur.anchor is RecurFrom.ASSIGNMENT else "completed"
    return Due(at, f"{label} {_day(anchor)}; {recur}")


def _completed(enrollment: Enrollment, fact: DueFact | None) -> bool:
    return enrollment.completion is Completion.COMPLETED or (fact is not None and fact.completed)


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat() if moment.tzinfo else moment.date().isoformat()


def add_reenrollments(
    part: ProviderPlan,
    desired: DesiredState,
    snapshot: Snapshot,
    *,
    now: dt.datetime,
    capabilities: Capabilities,
    dues: DueInformation | None = None,
    index: DirectoryIndex | None = None,
) -> ProviderPlan:
    """`part` with a `reenroll` for every recurring enrollment that is due again (see the module doc)."""
    recurring = {k: w for k, w in desired.enrollments.items() if w.terms.recur is not None}
    if not recurring:
        return part
    index = index or DirectoryIndex.build(snapshot.directory)
    held = {e.key: e for e in snapshot.enrollments if e.key in recurring}
    facts: Mapping[EnrollmentKey, DueFact] = (
        {(f.user_id, f.item_id): f for f in dues.facts} if dues is not None else {}
    )
    reenroll: dict[EnrollmentKey, Action] = {}
    undecided = 0
    for key, wanted in sorted(recurring.items()):
        enrollment = held.get(key)
        if enrollment is None or wanted.item_kind not in capabilities.reenroll:
            continue
        assert wanted.terms.recur is not None
        verdict = due_again(wanted.terms.recur, enrollment, facts.get(key), now)
        if isinstance(verdict, str):
            undecided += 1
        elif verdict is not None:
            reenroll[key] = _action(wanted, enrollment, verdict, index, capabilities)
    if not reenroll and not undecided:
        return part
    kept_actions = [a for a in part.actions if (a.user_id, a.item_id) not in reenroll]
    replaced = len(part.actions) - len(kept_actions)
    new = tuple(sorted(reenroll.values(), key=lambda a: (a.item_title, a.user_login, a.user_id)))
    summary = replace(
        part.summary,
        update=part.summary.update - replaced,
        unchanged=part.summary.unchanged - (len(new) - replaced),
        reenroll=len(new),
        notifications=part.summary.notifications + sum(1 for a in new if a.notify),
    )
    warnings = part.warnings
    if undecided:
        warnings += (
            Warning(
                f"{undecided} completed enrollment(s) in recurring items have no completion date or "
                "expiry in the LMS's answer, so enrollctl cannot tell whether they are due again; "
                "none of them is re-enrolled"
            ),
        )
    return replace(part, actions=(*kept_actions, *new), summary=summary, warnings=warnings)


def _action(
    wanted: DesiredEnrollment,
    enrollment: Enrollment,
    due: Due,
    index: DirectoryIndex,
    capabilities: Capabilities,
) -> Action:
    user = index.users_by_id.get(wanted.user_id)
    item = index.items_by_id.get(wanted.item_id)
    return Action(
        kind=ActionKind.REENROLL,
        user_id=wanted.user_id,
        user_login=user.login if user else wanted.user_id,
        item_id=wanted.item_id,
        item_kind=wanted.item_kind,
        item_title=item.title if item else wanted.item_id,
        terms=wanted.terms,
        before=enrollment,
        sources=wanted.sources,
        changes=(due.reason,),
        notify=wanted.notify or not capabilities.notify_switch,
        department=index.user_department(wanted.user_id),
    )

"""For `explain`: the terms that lost a conflict and why, and where a recurring enrollment stands.

Pure. Several assign entries may want one enrollment; `desired.combine_terms` picks the winner field by field
(docs/MANIFEST.md, "When policies disagree"): the earliest effective due date (a `within:` period counts from
the enrollment's access, or the earliest `access:` a policy sets, or today for a new one; a fixed date wins a
tie; any date beats `default`, which beats `unlimited`), lock if any asks, the earliest access date, the
shortest recurrence. `losing_terms` says, per field, which entries asked for something else and why that
lost, with the dates that decided it, so a reader can check the rule by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reconciler.core.desired import effective_due
from reconciler.core.due import DueFact
from reconciler.core.model import Completion, DueKind, Enrollment, Terms, User
from reconciler.core.period import RecurFrom, Recurrence
from reconciler.core.terms import start_of, utc_date
from reconciler.core.where import terms_for
from reconciler.errors import Position


class Why(StrEnum):
    """Why an asked value lost."""

    LATER = "later"  # its due date (or access date) falls after the winner's
    TIE = "tie"  # the same due date as the winning fixed date: the fixed date wins a tie
    NO_DATE = "no_date"  # default or unlimited: any date or period beats it (default beats unlimited)
    NOT_LOCKED = "not_locked"  # lock after due is on when any entry asks for it
    LONGER = "longer"  # a longer recurrence (or from completion, on an equal period)


@dataclass(frozen=True)
class Asked:
    """The terms one assign entry asks for (as written, and for this learner)."""

    policy: str
    position: Position
    terms: Terms


@dataclass(frozen=True)
class LosingTerm:
    """One field an assign entry asked differently from the winner, and why it lost."""

    field: str  # "due", "lock_after_due", "access", "recur"
    policy: str
    position: Position
    asked: Terms  # as the entry writes it
    why: Why
    asked_date: dt.date | None = None  # due: the date the asked rule falls on; access: the date asked
    winning_date: dt.date | None = None  # the winner's date for this field
    start: dt.date | None = None  # due: the date a period counts from
    winners: tuple[str, ...] = ()  # the policies asking the winning value


def period_start(asked: Iterable[Terms], access: dt.datetime) -> dt.datetime:
    """The moment `within:` periods count from: the earliest `access:` date any entry sets, else `access`."""
    dates = [t.access for t in asked if t.access is not None]
    return start_of(min(dates)) if dates else access


def losing_terms(
    asked: Sequence[Asked], winner: Terms, access: dt.datetime, user: User | None = None
) -> tuple[LosingTerm, ...]:
    """Every field in which an entry of `asked` lost to `winner`; `access` is the enrollment's access."""
    own = [terms_for(a.terms, user) for a in asked]  # a period from the hire date is a date per learner
    start = period_start(own, access)
    won_due = effective_due(winner.due, start)

    def asking(same: Callable[[Terms], bool]) -> tuple[str, ...]:
        return tuple(sorted({a.policy for a, t in zip(asked, own, strict=True) if same(t)}))

    lost: list[LosingTerm] = []
    for entry, terms in zip(asked, own, strict=True):
        if terms.due != winner.due:
            date = effective_due(terms.due, start)
            why = Why.NO_DATE if date is None else Why.LATER if won_due is None or date > won_due else Why.TIE
            lost.append(
                LosingTerm(
                    "due",
                    entry.policy,
                    entry.position,
                    entry.terms,
                    why,
                    asked_date=date,
                    winning_date=won_due,
                    start=utc_date(start) if terms.due.kind is DueKind.WITHIN else None,
                    winners=asking(lambda t: t.due == winner.due),
                )
            )
        if winner.lock_after_due and not terms.lock_after_due:
            by = asking(lambda t: t.lock_after_due)
            lost.append(
                LosingTerm(
                    "lock_after_due", entry.policy, entry.position, entry.terms, Why.NOT_LOCKED, winners=by
                )
            )
        if terms.access is not None and terms.access != winner.access:
            lost.append(
                LosingTerm(
                    "access",
                    entry.policy,
                    entry.position,
                    entry.terms,
                    Why.LATER,
                    asked_date=terms.access,
                    winning_date=winner.access,
                    winners=asking(lambda t: t.access == winner.access),
                )
            )
        if terms.recur is not None and terms.recur != winner.recur:
            by = asking(lambda t: t.recur == winner.recur)
            lost.append(
                LosingTerm("recur", entry.policy, entry.position, entry.terms, Why.LONGER, winners=by)
            )
    return tuple(lost)


# --- recurrence ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recurring:
    """Where a recurring enrollment stands: counted from what, and when its period runs (or ran) out."""

    rule: Recurrence
    anchor: dt.date | None = None  # the completion (or assignment) date the period counts from
    runs_out: dt.date | None = None  # anchor + period, or the vendor's compliance expiry
    ran_out: bool = False  # at or before now: plan re-enrolls it
    expiry: bool = False  # `runs_out` is the vendor's compliance expiry (Litmos CompliantTill)
    note: str = ""  # why nothing can be told, or that it is not completed


def recurring(
    rule: Recurrence, holds: Enrollment | None, fact: DueFact | None, now: dt.datetime
) -> Recurring:
    """Where `holds` stands under `rule` (the same decision as `recurrence.due_again`)."""
    if holds is None:
        return Recurring(rule, note="not enrolled yet: the period starts with the first completion")
    completed = holds.completion is Completion.COMPLETED or (fact is not None and fact.completed)
    if holds.unknown or not completed:
        return Recurring(rule, note="not completed: nothing recurs until it is")
    expires = fact.expires if fact is not None else None
    if expires is not None and expires <= now:
        return Recurring(rule, runs_out=utc_date(expires), ran_out=True, expiry=True)
    finished = holds.completed_at or (fact.completed_at if fact is not None else None)
    anchor = holds.access if rule.anchor is RecurFrom.ASSIGNMENT else finished
    if anchor is None:
        if expires is not None:
            return Recurring(rule, runs_out=utc_date(expires), expiry=True)
        what = "assignment" if rule.anchor is RecurFrom.ASSIGNMENT else "completion"
        return Recurring(rule, note=f"the LMS reports no {what} date: it cannot be told when it recurs")
    at = rule.after(anchor)
    return Recurring(rule, anchor=utc_date(anchor), runs_out=utc_date(at), ran_out=at <= now)

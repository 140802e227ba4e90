"""Plan warnings for due dates a vendor reports but enrollctl cannot manage (Litmos): information only.

Pure: the provider's `DueInformation`, the directory (for names) and `now` in, at most two warnings out —
how many enrollments in managed items are overdue (with a few names), and, when the read carried due dates,
their range and which read supplied them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.core.model import Directory
from reconciler.core.plan import Warning
from reconciler.core.words import counted


@dataclass(frozen=True, slots=True)  # slots: a Litmos plan holds one per enrollment read
class DueFact:
    """One enrollment's due state as the vendor reported it, where the vendor cannot set it per assignment."""

    user_id: str
    item_id: str
    due: dt.datetime | None = None
    overdue: bool | None = None  # the vendor's own flag; None when the read carried none
    completed: bool = False
    completed_at: dt.datetime | None = None  # the vendor's completion date, where the read carried one
    expires: dt.datetime | None = None  # compliance valid until (Litmos `CompliantTill`), for `status`

    def is_overdue(self, now: dt.datetime) -> bool:
        """The vendor's flag when read; else past its due date and not completed."""
        if self.overdue is not None:
            return self.overdue
        # inferred: without the vendor's flag, overdue reads as "past due and not completed"
        return self.due is not None and self.due < now and not self.completed


@dataclass(frozen=True)
class DueInformation:
    """Due dates and overdue flags a provider read but cannot manage; plans show them for information.

    Part of the provider contract: `Provider.due_information()` returns one (Litmos) or None (iSpring,
    which sets due dates per enrollment; and any provider before its first enrollment read).
    """

    vendor: str  # for messages, e.g. "Litmos"
    source: str  # which read supplied the facts, e.g. "item rosters"
    facts: tuple[DueFact, ...] = ()

    def overdue(self, now: dt.datetime) -> tuple[DueFact, ...]:
        """The overdue enrollments, in (user, item) order."""
        return tuple(f for f in self.facts if f.is_overdue(now))

    def due_dates(self) -> tuple[dt.datetime, ...]:
        """Every due date read, earliest first."""
        return tuple(sorted(f.due for f in self.facts if f.due is not None))


MAX_NAMES = 5  # names shown in the overdue line; the rest are counted


def due_warnings(info: DueInformation, directory: Directory, now: dt.datetime) -> tuple[Warning, ...]:
    """The overdue line and the due-date range line, each only when there is something to say."""
    found: list[Warning] = []
    overdue = info.overdue(now)
    if overdue:
        logins = {u.id: u.login for u in directory.users}
        names = sorted({logins.get(f.user_id, f.user_id) for f in overdue})
        shown = ", ".join(names[:MAX_NAMES]) + (
            f", +{len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
        )
        found.append(
            Warning(
                f"{info.vendor} reports {counted(len(overdue), 'overdue enrollment', grouped=True)} "
                "in managed items "
                f"({shown}); {info.vendor} has no per-assignment due dates, "
                "so enrollctl shows these for information only"
            )
        )
    dates = info.due_dates()
    if dates:
        found.append(
            Warning(
                f"{info.vendor} due dates (from {info.source}): "
                f"{counted(len(dates), 'enrollment', grouped=True)} in "
                f"managed items, earliest {_day(dates[0])}, latest {_day(dates[-1])}; "
                "set in the item's settings, not by policies"
            )
        )
    return tuple(found)


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()

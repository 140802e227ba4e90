"""Plan warnings for due dates a vendor reports but enrollctl cannot manage (Litmos): information only.

Pure: the provider's `DueInformation`, the directory (for names) and `now` in, at most two warnings out —
how many enrollments in managed items are overdue (with a few names), and, when the read carried due dates,
their range and which read supplied them.
"""

from __future__ import annotations

import datetime as dt

from reconciler.core.model import Directory
from reconciler.core.plan import Warning
from reconciler.providers.base import DueInformation

MAX_NAMES = 5  # names shown in the overdue line; the rest are counted


def due_information_of(provider: object) -> DueInformation | None:
    """The due information a provider offers (an optional extension), or None."""
    offer = getattr(provider, "due_information", None)
    info = offer() if callable(offer) else None
    return info if isinstance(info, DueInformation) else None


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
                f"{info.vendor} reports {_count(len(overdue), 'overdue enrollment')} in managed items "
                f"({shown}); {info.vendor} has no per-assignment due dates, "
                "so enrollctl shows these for information only"
            )
        )
    dates = info.due_dates()
    if dates:
        found.append(
            Warning(
                f"{info.vendor} due dates (from {info.source}): {_count(len(dates), 'enrollment')} in "
                f"managed items, earliest {_day(dates[0])}, latest {_day(dates[-1])}; "
                "set in the item's settings, not by policies"
            )
        )
    return tuple(found)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()

"""Compare desired terms with the terms an LMS reports, without drift; label risky changes; combine the
terms of several policies that want one enrollment (`combine_terms`, the rules in `core.desired`).

Pure. Rules (DESIGN.md §5):
- `due: default` is never compared: vendors report the concrete date their default produced, which we
  cannot tell apart from an explicit date, so comparing would plan an update on every run.
- `due: unlimited` matches an enrollment without a due date.
- `due: <date>` matches when the reported due datetime falls on that calendar date. A datetime names one
  instant but, with an offset, two plausible calendar days (its own and UTC's); either matches, so a vendor
  that stores local midnight or local end-of-day never shows as drift. Naive datetimes are taken as UTC.
- `due: {within: N}` compares hours where the vendor stores a period (`Enrollment.due_hours`), otherwise
  `access + N hours` with the reported due date, to the day: running plan again next week shows no drift.
- `access` is compared (by date) only when the policy sets it; `lock_after_due` always.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from reconciler.core.model import Capabilities, Due, DueKind, Enrollment, Terms
from reconciler.core.period import RecurFrom
from reconciler.core.plan import Risk

DUE = "due"
LOCK = "lock_after_due"
ACCESS = "access"
FIELDS = (DUE, LOCK, ACCESS)
_RISK_ORDER = tuple(Risk)


def utc_date(moment: dt.datetime) -> dt.date:
    """The UTC calendar date of a moment; naive datetimes are taken as UTC."""
    return moment.date() if moment.tzinfo is None else moment.astimezone(dt.UTC).date()


def calendar_dates(moment: dt.datetime) -> set[dt.date]:
    """The calendar dates a reported moment may mean: its own offset's and UTC's."""
    return {moment.date(), utc_date(moment)}


def start_of(day: dt.date) -> dt.datetime:
    """Midnight UTC of a date, for arithmetic with periods."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _due_matches(wanted: Terms, before: Enrollment) -> bool:
    due = wanted.due
    if due.kind is DueKind.DEFAULT:
        return True
    if due.kind is DueKind.UNLIMITED:
        return before.due is None and not before.due_hours
    if due.kind is DueKind.DATE:
        return before.due is not None and due.date in calendar_dates(before.due)
    if before.due_hours is not None:
        return before.due_hours == due.hours
    if before.due is None:
        return False
    access = _period_start(wanted, before)
    if access is None:
        # inferred: a vendor that reports a due date but no access date gives us nothing to add the period
        # to; treating it as a match avoids an update on every run (iSpring always reports accessDate).
        return True
    target = access + dt.timedelta(hours=due.hours or 0)
    return bool(calendar_dates(target) & calendar_dates(before.due))


def _period_start(wanted: Terms, before: Enrollment) -> dt.datetime | None:
    """The access moment a period runs from: the enrollment's own, unless the policy moves it elsewhere."""
    if before.access is not None and (
        wanted.access is None or wanted.access in calendar_dates(before.access)
    ):
        return before.access
    return start_of(wanted.access) if wanted.access is not None else None


def changed_fields(wanted: Terms, before: Enrollment) -> tuple[str, ...]:
    """The fields of `before` that differ from `wanted`, in `FIELDS` order."""
    changed: list[str] = []
    if not _due_matches(wanted, before):
        changed.append(DUE)
    if wanted.lock_after_due != before.lock_after_due:
        changed.append(LOCK)
    if wanted.access is not None and (
        before.access is None or wanted.access not in calendar_dates(before.access)
    ):
        changed.append(ACCESS)
    return tuple(changed)


def _due_supported(wanted: Terms, caps: Capabilities) -> bool:
    kind = wanted.due.kind
    if kind is DueKind.DEFAULT:
        return True
    if kind is DueKind.WITHIN:
        return caps.due_periods or caps.due_dates
    return caps.due_dates


def unsupported_fields(wanted: Terms, caps: Capabilities) -> tuple[str, ...]:
    """The fields of `wanted` the vendor cannot set at all."""
    missing: list[str] = []
    if not _due_supported(wanted, caps):
        missing.append(DUE)
    if wanted.lock_after_due and not caps.lock_after_due:
        missing.append(LOCK)
    if wanted.access is not None and not caps.access_dates:
        missing.append(ACCESS)
    return tuple(missing)


def supported_terms(wanted: Terms, caps: Capabilities) -> Terms:
    """`wanted` with what the vendor cannot set replaced by its defaults."""
    missing = unsupported_fields(wanted, caps)
    return Terms(
        due=Terms().due if DUE in missing else wanted.due,
        lock_after_due=False if LOCK in missing else wanted.lock_after_due,
        access=None if ACCESS in missing else wanted.access,
    )


def changeable_fields(changed: tuple[str, ...], wanted: Terms, caps: Capabilities) -> tuple[str, ...]:
    """Those of `changed` an update can actually change on this vendor."""
    if not caps.update_terms:
        return ()
    # Unlike for an add, a field the vendor has no switch for cannot be changed in either direction.
    fixed = {DUE} if not _due_supported(wanted, caps) else set()
    fixed |= {LOCK} if not caps.lock_after_due else set()
    fixed |= {ACCESS} if not caps.access_dates else set()
    return tuple(f for f in changed if f not in fixed)


def wanted_due_date(wanted: Terms, access: dt.datetime) -> dt.date | None:
    """The calendar due date `wanted` produces for an enrollment with this access moment (None = no due)."""
    if wanted.due.kind is DueKind.DATE:
        return wanted.due.date
    if wanted.due.kind is DueKind.WITHIN:
        return period_end(access, wanted.due.hours or 0)
    return None


def period_end(access: dt.datetime, hours: int) -> dt.date:
    """The UTC date `hours` after `access`; the calendar's last day past it (an access date held as
    9999-12-31, how some accounts say "no end", plus a period would overflow)."""
    period = dt.timedelta(hours=hours)
    if access > dt.datetime.max.replace(tzinfo=access.tzinfo) - period:
        return dt.date.max
    return utc_date(access + period)


def reported_due_date(before: Enrollment) -> dt.date | None:
    """The calendar due date an enrollment has now (None = none)."""
    if before.due is not None:
        return utc_date(before.due)
    if before.due_hours is not None and before.access is not None:
        return utc_date(before.access + dt.timedelta(hours=before.due_hours))
    return None


def access_moment(wanted: Terms, before: Enrollment | None, now: dt.datetime) -> dt.datetime:
    """When access starts: the policy's date, else the existing enrollment's, else now (a new enrollment)."""
    if wanted.access is not None:
        return start_of(wanted.access)
    if before is not None and before.access is not None:
        return before.access
    return now


def risks(
    wanted: Terms, before: Enrollment | None, changes: tuple[str, ...], now: dt.datetime
) -> tuple[Risk, ...]:
    """Risk labels of an add (`before` None) or update: tightened / loosened due or lock, past due."""
    found: set[Risk] = set()
    new_due = wanted_due_date(wanted, access_moment(wanted, before, now))
    if before is not None and DUE in changes and wanted.due.kind is not DueKind.DEFAULT:
        old_due = reported_due_date(before)
        if old_due != new_due:
            if new_due is None:
                found.add(Risk.LOOSENED)
            elif old_due is None or new_due < old_due:
                found.add(Risk.TIGHTENED)
            else:
                found.add(Risk.LOOSENED)
    if before is not None and LOCK in changes:
        found.add(Risk.TIGHTENED if wanted.lock_after_due else Risk.LOOSENED)
    if new_due is not None and new_due < utc_date(now) and (before is None or DUE in changes):
        found.add(Risk.PAST_DUE)
    return tuple(r for r in _RISK_ORDER if r in found) if found else ()


class ChangedFieldsCache:
    """`term_compare.changed_fields`, memoised on exactly the enrollment fields it reads.

    A million held enrollments mostly repeat a few (terms, due, lock) combinations, so comparing each
    once keeps diff close to a bare set difference. Terms are keyed by identity (the desired state
    interns them and outlives the diff), datetimes with their zone; the cache stops growing at `LIMIT`
    entries, so enrollments with all-distinct dates cost a plain comparison each and no memory.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._known: dict[tuple[object, ...], tuple[str, ...]] = {}

    def changed_fields(self, wanted: Terms, before: Enrollment) -> tuple[str, ...]:
        due, access = before.due, before.access
        # equal datetimes may name different calendar days (offsets differ): the zone is part of the key
        key = (
            id(wanted),
            due,
            None if due is None else due.tzinfo,
            before.due_hours,
            before.lock_after_due,
            access,
            None if access is None else access.tzinfo,
        )
        found = self._known.get(key)
        if found is None:
            found = changed_fields(wanted, before)
            if len(self._known) < self.LIMIT:
                self._known[key] = found
        return found


# --- combining terms: several policies want one enrollment (see core.desired) ------------------------------

# Strictness of due kinds when two policies disagree on the kind. A fixed date and a period cannot be
# ordered without knowing the access date, so the rule is simply a documented, deterministic order:
# a fixed date beats a period, a period beats the vendor default, anything beats "no due date".
_DUE_KIND_RANK = {DueKind.DATE: 0, DueKind.WITHIN: 1, DueKind.DEFAULT: 2, DueKind.UNLIMITED: 3}


def _due_strictness(due: Due) -> tuple[int, str, int]:
    return (
        _DUE_KIND_RANK[due.kind],
        due.date.isoformat() if due.date is not None else "",
        due.hours if due.hours is not None else 0,
    )


def effective_due(due: Due, access: dt.datetime) -> dt.date | None:
    """The calendar date a due rule falls on for an enrollment whose access starts at `access`."""
    if due.kind is DueKind.DATE:
        return due.date
    if due.kind is DueKind.WITHIN and due.hours is not None:
        return period_end(access, due.hours)
    return None  # default and unlimited have no date of their own


def mixes_dates_and_periods(terms: Iterable[Terms]) -> bool:
    """True when a fixed date and a period contend: only the enrollment's access date can decide."""
    kinds = {t.due.kind for t in terms}
    return DueKind.DATE in kinds and DueKind.WITHIN in kinds


def combine_terms(terms: Iterable[Terms], *, access: dt.datetime | None = None) -> Terms:
    """The strictest terms: earliest effective due, lock if any asks, earliest access date if any sets one.

    `access` is when the enrollment's access starts (a period runs from it); the policies' own earliest
    `access:` date overrides it. Without either, a date and a period cannot be compared as dates, and the
    rank of their kinds decides (a fixed date first): callers that can, pass `access`.
    """
    wanted = list(terms)
    if not wanted:
        return Terms()
    accesses = [t.access for t in wanted if t.access is not None]
    start = min(accesses) if accesses else None
    if start is not None:
        access = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
    dues = [t.due for t in wanted]
    dated = (
        [(day, _due_strictness(d), d) for d in dues if (day := effective_due(d, access)) is not None]
        if access is not None
        else []
    )
    due = min(dated, key=lambda x: (x[0], x[1]))[2] if dated else min(dues, key=_due_strictness)
    # the shortest period recurs first; on a tie, from assignment (never later than from completion)
    recurs = [t.recur for t in wanted if t.recur is not None]
    return Terms(
        due=due,
        lock_after_due=any(t.lock_after_due for t in wanted),
        access=start,
        recur=min(recurs, key=lambda r: (r.approximate_days, r.anchor is not RecurFrom.ASSIGNMENT))
        if recurs
        else None,
    )

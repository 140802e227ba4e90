"""What diff compares, memoised: the winning terms per enrollment and the fields that differ.

A million held enrollments mostly repeat a few combinations of terms and dates, so each is decided once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from reconciler.core import terms as term_compare
from reconciler.core.desired import DesiredEnrollment
from reconciler.core.model import Enrollment, Terms


class EffectiveTerms:
    """Where a fixed date meets a period, the earliest effective due date wins for this enrollment.

    The winner is interned per (contenders, access moment), so `TermsCache`, which keys terms by identity,
    sees one object per distinct choice however many enrollments share it.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._terms: dict[tuple[tuple[Terms, ...], dt.datetime], Terms] = {}

    def winner(self, wanted: DesiredEnrollment, before: Enrollment | None) -> DesiredEnrollment:
        access = before.access if before is not None and before.access is not None else self.now
        key = (wanted.candidates, access)
        terms = self._terms.get(key)
        if terms is None:
            terms = self._terms.setdefault(key, wanted.terms_at(access))
        return replace(wanted, terms=terms, candidates=())


class TermsCache:
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
            found = term_compare.changed_fields(wanted, before)
            if len(self._known) < self.LIMIT:
                self._known[key] = found
        return found

"""The winning terms per enrollment where a fixed date meets a period, memoised for diff.

A million held enrollments mostly repeat a few combinations of terms and access dates, so each is decided
once (`terms.ChangedFieldsCache` does the same for the comparison that follows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from reconciler.core.desired import DesiredEnrollment
from reconciler.core.model import Enrollment, Terms


class EffectiveTerms:
    """Where a fixed date meets a period, the earliest effective due date wins for this enrollment.

    The winner is interned per (contenders, access moment), so `terms.ChangedFieldsCache` and the add cache,
    which key terms by identity, see one object per distinct choice however many enrollments share it.
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

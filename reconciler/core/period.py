"""`recur: {every: 12 months, from: completion}`: when an enrollment is due to be taken again.

Pure, and free of the model (the model's `Terms` holds a `Recurrence`). Months are calendar months: a
completion on 31 January recurs on the last day of February a month later, never in March.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

_EVERY = re.compile(r"^\s*([1-9][0-9]{0,3})\s*(day|week|month|year)s?\s*$")


class RecurFrom(StrEnum):
    COMPLETION = "completion"  # the period counts from the learner's last completion (default)
    ASSIGNMENT = "assignment"  # ... from when the enrollment was assigned (its access date)


@dataclass(frozen=True, order=True)
class Recurrence:
    """A period of `months` calendar months plus `days` days, counted from completion or assignment."""

    months: int = 0
    days: int = 0
    anchor: RecurFrom = RecurFrom.COMPLETION

    def after(self, moment: dt.datetime) -> dt.datetime:
        """`moment` + the period; a day that does not exist in the target month is that month's last."""
        month0 = moment.month - 1 + self.months
        year, month = moment.year + month0 // 12, month0 % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day) + dt.timedelta(days=self.days)

    @property
    def approximate_days(self) -> int:
        """For ordering periods: a month counts as 31 days."""
        return self.months * 31 + self.days

    @property
    def every(self) -> str:
        """How manifests write it: `12 months`, `2 weeks`, `90 days`, `1 year`."""
        if self.months and not self.days:
            return _count(self.months, "month")  # as manifests usually say it: 12 months, 24 months
        if self.days % 7 == 0 and not self.months:
            return _count(self.days // 7, "week")
        return _count(self.days + self.months * 31, "day") if self.months else _count(self.days, "day")

    def __str__(self) -> str:
        return f"every {self.every} from {self.anchor.value}"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def parse_every(text: str) -> Recurrence:
    """`12 months`, `1 year`, `2 weeks`, `90 days` as a Recurrence (from completion); ValueError otherwise."""
    match = _EVERY.match(text)
    if match is None:
        raise ValueError(f"not a recurrence period: {text!r} (e.g. 12 months, 1 year, 26 weeks, 90 days)")
    n, unit = int(match.group(1)), match.group(2)
    if unit in ("month", "year"):
        return Recurrence(months=n * (12 if unit == "year" else 1))
    return Recurrence(days=n * (7 if unit == "week" else 1))

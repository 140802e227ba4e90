"""Profile-field conditions of `targets.where`: how a manifest names a vendor's field, and what matches.

Pure, and free of the model (the model's `Targets` holds these). Field names compare with case, `_`, `-`
and spaces ignored, so `job_title` names iSpring's `JOB_TITLE` and Litmos' `JobTitle` alike. Values compare
as exact text (`equals`, `in`) or by a regular expression that must match the whole value (`matches`).
A user who lacks the field, or whose value is empty, matches no condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from reconciler.errors import Position

NOWHERE = Position("")


class FieldOp(StrEnum):
    EQUALS = "equals"
    IN = "in"
    MATCHES = "matches"


@dataclass(frozen=True)
class FieldCondition:
    """`{field: job_title, equals: Forklift Operator}` and its kin; `values` has one entry unless IN."""

    field: str
    op: FieldOp
    values: tuple[str, ...]
    position: Position = NOWHERE

    def matches(self, value: str | None) -> bool:
        """True when the user's value of the field satisfies the condition."""
        if not value:
            return False
        if self.op is FieldOp.MATCHES:
            return re.fullmatch(self.values[0], value) is not None
        return value in self.values

    def __str__(self) -> str:
        if self.op is FieldOp.IN:
            return f"{self.field} in [{', '.join(self.values)}]"
        return f"{self.field} {self.op.value} {self.values[0]}"


def field_key(name: str) -> str:
    """The comparable form of a field name: `JOB_TITLE`, `JobTitle`, `job title` → `jobtitle`."""
    return re.sub(r"[\s_\-]", "", name).casefold()

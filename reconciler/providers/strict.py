"""Fail closed on vendor answers: unreadable values and misshapen bodies, shared by both providers.

A value that decides a removal or a protection (progress, completion, dates, origin, terms) is either read
for certain or the enrollment it belongs to is *unknown*: `Unreadable` carries the reason, which the
providers put into `Enrollment.unknown`. A body whose records cannot be found is a `ProtocolError` naming
the call, what was expected and what was seen; it is never read as an empty or partial list.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

RAW_LIMIT = 60  # characters of a raw value quoted in a reason
SEEN_LIMIT = 10  # element or key names listed in a shape error
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Unreadable(ValueError):
    """A present value that cannot be read for certain; the message names the field and quotes the value."""

    def __init__(self, field: str, raw: object, problem: str) -> None:
        self.reason = f"{field} {quote(raw)} {problem}"
        super().__init__(self.reason)


def quote(raw: object) -> str:
    """`raw` as a short, printable, single-quoted excerpt: control characters dropped, at most 60 long."""
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, str):
        text = raw
    elif isinstance(raw, list | dict):
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
    else:
        text = str(raw)
    text = _CONTROL.sub("", text)
    if len(text) > RAW_LIMIT:
        text = text[: RAW_LIMIT - 1] + "…"
    return f"'{text}'"


def joined(reasons: Iterable[str]) -> str:
    """Several reasons for one enrollment as one `unknown` string (each once, in order)."""
    return "; ".join(dict.fromkeys(r for r in reasons if r))


def names_seen(names: Iterable[str]) -> str:
    """At most ten distinct names, in order of first sight, for a shape error (`none` when empty)."""
    distinct = list(dict.fromkeys(names))
    if not distinct:
        return "none"
    shown = ", ".join(distinct[:SEEN_LIMIT])
    return shown + (f" (+{len(distinct) - SEEN_LIMIT} more)" if len(distinct) > SEEN_LIMIT else "")


_PERCENT = re.compile(r"^\d+(?:\.\d+)?$")


def percent(field: str, raw: object, text: str) -> float:
    """A percentage 0..100 written as plain decimal digits (`40`, `40.00`); anything else is `Unreadable`.

    `text` is `raw` as stripped text; the caller decides beforehand which raw values mean "not reported".
    No locale forms (`40,00`), no signs, no exponents, no `NaN`/`inf`: guessing there could lose a record.
    """
    if isinstance(raw, bool | list | dict):
        raise Unreadable(field, raw, "is not a number")
    if isinstance(raw, int | float):
        number = float(raw)
        if not math.isfinite(number):
            raise Unreadable(field, raw, "is not a number")
    elif _PERCENT.match(text):
        number = float(text)
    else:
        raise Unreadable(field, raw, "is not a number")
    if not 0.0 <= number <= 100.0:
        raise Unreadable(field, raw, "is outside 0..100")
    return number

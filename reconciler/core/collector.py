"""Pausing Python's cyclic garbage collector while a plan is built (issue 16: a lean plan).

A plan of 10,000 users builds a million long-lived objects (the directory, enrollments, wanted
enrollments, actions) and frees almost none of them until the run ends. The collector runs every few
hundred allocations and, as the heap grows, walks all of it again and again: 15-20 % of a 10,000-user
plan's CPU (measured with gc.callbacks). What planning builds and drops is freed by reference counting
(frozen dataclasses, tuples, strings), so the collector is paused while planning and resumed after; the
little cyclic garbage a read leaves (HTTP exchanges) is collected then (peak RSS of a 10,000-user Litmos
plan with the collector off for the whole run: 310 MB against 305 MB).

The pause must last as long as the plan does. Objects made while the collector is off are still tracked,
all in the youngest generation; once it is on again, its next passes walk every one of them (young, then
middle generation): 3.8 s of a 100,000-user Litmos plan's 24. So `enrollctl plan` keeps it paused until its
output is written (`cli.plan`), and `make_plan` pauses it for callers that do not.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off; it is on again after (if it was on before)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""How far a long read or apply has come, on stderr: counts, rate and time left.

On a terminal one line is rewritten in place (`\\r`, padded with spaces: no escape codes, so `NO_COLOR`
and dumb terminals are safe). Elsewhere (CI logs) plain lines, at most one every few seconds and only when
the job moved on noticeably. Jobs that finish within `SHOW_AFTER` seconds show nothing, so short runs and
tests stay quiet; `--quiet` shows nothing at all.

Not click's progressbar or rich (both tried, issue 15): off a terminal click prints only the label once and
rich only the finished bar, so the plain CI lines would stay hand-written anyway; on a terminal click hides
the cursor with escape codes and times the job by its own wall clock (no injected clock, no `elapsed` from
the provider), and rich reads `[...]` in vendor-supplied labels as markup and brings two more packages. Only
`_draw` and `clear` (about 20 lines) would go, for as many lines of bar bookkeeping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO

Clock = Callable[[], float]

SHOW_AFTER = 2.0  # seconds a job runs before its progress shows
LINE_EVERY = 0.2  # seconds between redraws of the terminal line
PLAIN_EVERY = 5.0  # seconds at least between plain lines
PLAIN_SHARE = 0.1  # a plain line needs the job to have moved this share of its total ...
PLAIN_ANYWAY = 60.0  # ... or this many seconds to have passed, so a stalled job still shows it is alive


class Mode(StrEnum):
    OFF = "off"  # --quiet
    LINE = "line"  # a terminal: one line rewritten in place
    PLAIN = "plain"  # a log (CI): separate lines, rate-limited


def mode_for(stream: TextIO, *, quiet: bool) -> Mode:
    """OFF when quiet, LINE on a real terminal, PLAIN otherwise (pipes, files, CI logs, TERM=dumb)."""
    if quiet:
        return Mode.OFF
    interactive = stream.isatty() and os.environ.get("TERM", "") != "dumb"
    return Mode.LINE if interactive else Mode.PLAIN


@dataclass
class _Job:
    started: float
    shown_at: float | None = None  # when its progress was last shown
    shown_share: float = 0.0


def describe(label: str, done: int, total: int, elapsed: float) -> str:
    """`academy: users' enrollments read 50/100 (50%), 8.3/s, about 6s left`."""
    share = f" ({done * 100 // total}%)" if total else ""
    text = f"{label} {done}/{total}{share}"
    if done >= total:
        return f"{text} in {duration(elapsed)}"
    if done > 0 and elapsed > 0:
        rate = done / elapsed
        text += f", {rate:.1f}/s, about {duration((total - done) / rate)} left"
    return text


def duration(seconds: float) -> str:
    """`45s`, `3m07s`, `1h02m`."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class ProgressDisplay:
    """Shows jobs' progress on a stream in the given mode; other stderr lines go through `line`."""

    def __init__(self, stream: TextIO, mode: Mode, clock: Clock = time.monotonic) -> None:
        self.stream = stream
        self.mode = mode
        self.clock = clock
        self._jobs: dict[str, _Job] = {}
        self._drawn = 0  # width of the terminal line currently on screen (0: none)

    def update(self, label: str, done: int, total: int, *, elapsed: float | None = None) -> None:
        """Record that `done` of `total` units of the job `label` are finished (`elapsed`: its own clock)."""
        if self.mode is Mode.OFF:
            return
        now = self.clock()
        job = self._jobs.setdefault(label, _Job(started=now - (elapsed or 0.0)))
        spent = now - job.started
        finished = done >= total
        if finished:
            self._jobs.pop(label)
        if spent < SHOW_AFTER and job.shown_at is None:
            return  # a short job: no progress at all, not even its end
        text = describe(label, done, total, spent)
        if self.mode is Mode.LINE:
            self._draw(text, job, now, finished)
        else:
            self._plain(text, job, now, finished, done / total if total else 1.0)

    def line(self, text: str) -> None:
        """Write one whole line (a log record, a note), clearing the terminal progress line first."""
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Remove the terminal progress line, before other output or at the end of the command."""
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0

    def _draw(self, text: str, job: _Job, now: float, finished: bool) -> None:
        if not finished and job.shown_at is not None and now - job.shown_at < LINE_EVERY:
            return
        job.shown_at = now
        pad = " " * max(0, self._drawn - len(text))
        self.stream.write("\r" + text + pad)
        self._drawn = len(text)
        if finished:
            self.stream.write("\n")
            self._drawn = 0
        self.stream.flush()

    def _plain(self, text: str, job: _Job, now: float, finished: bool, share: float) -> None:
        if not finished and job.shown_at is not None:
            since = now - job.shown_at
            moved = share - job.shown_share >= PLAIN_SHARE
            if since < PLAIN_EVERY or not (moved or since >= PLAIN_ANYWAY):
                return
        job.shown_at, job.shown_share = now, share
        self.stream.write(text + "\n")
        self.stream.flush()

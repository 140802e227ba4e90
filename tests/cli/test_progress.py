"""The progress display: one updating line on a terminal, few plain lines in logs, nothing when quiet."""

from __future__ import annotations

import io

import pytest

from reconciler.cli.progress import SHOW_AFTER, Mode, ProgressDisplay, describe, duration, mode_for


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_job(mode: Mode, *, steps: int = 100, seconds_per_step: float = 1.0) -> str:
    """A job of `steps` units, one unit a second; returns what the display wrote."""
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, mode, clock)
    for done in range(steps + 1):
        display.update("lms: rosters read", done, steps)
        clock.now += seconds_per_step
    display.clear()
    return stream.getvalue()


def test_quiet_shows_nothing() -> None:
    assert run_job(Mode.OFF) == ""


def test_a_short_job_shows_nothing() -> None:
    assert run_job(Mode.PLAIN, seconds_per_step=SHOW_AFTER / 200) == ""
    assert run_job(Mode.LINE, seconds_per_step=SHOW_AFTER / 200) == ""


def test_plain_lines_are_few_and_carry_no_control_characters() -> None:
    lines = run_job(Mode.PLAIN).splitlines()
    assert "\r" not in "".join(lines) and "\x1b" not in "".join(lines)
    assert 5 <= len(lines) <= 12, lines  # every 10% at most, never every step
    assert lines[0].startswith("lms: rosters read 2/100 (2%), 1.0/s, about 1m38s left")
    assert lines[-1] == "lms: rosters read 100/100 (100%) in 1m40s"


def test_a_terminal_gets_one_line_rewritten_in_place() -> None:
    written = run_job(Mode.LINE)
    assert written.count("\n") == 1 and written.endswith("\n")
    assert written.split("\r")[-1].rstrip() == "lms: rosters read 100/100 (100%) in 1m40s"  # padded over
    assert written.count("\r") > 50
    assert "\x1b" not in written  # padding with spaces, not escape codes


def test_clear_removes_an_unfinished_terminal_line() -> None:
    stream, clock = io.StringIO(), Clock()
    display = ProgressDisplay(stream, Mode.LINE, clock)
    display.update("academy: users' enrollments read", 50, 100, elapsed=10.0)
    display.line("Error: boom")
    drawn = "academy: users' enrollments read 50/100 (50%), 5.0/s, about 10s left"
    assert stream.getvalue() == f"\r{drawn}\r{' ' * len(drawn)}\rError: boom\n"


def test_an_elapsed_time_from_the_job_itself_gives_rate_and_eta_at_once() -> None:
    stream = io.StringIO()
    ProgressDisplay(stream, Mode.PLAIN, Clock()).update("academy: team rosters read", 30, 90, elapsed=12.0)
    assert stream.getvalue() == "academy: team rosters read 30/90 (33%), 2.5/s, about 24s left\n"


def test_the_mode_follows_the_stream_and_quiet() -> None:
    assert mode_for(io.StringIO(), quiet=False) is Mode.PLAIN
    assert mode_for(Tty(), quiet=True) is Mode.OFF


def test_a_terminal_is_a_line_unless_dumb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    assert mode_for(Tty(), quiet=False) is Mode.LINE
    monkeypatch.setenv("TERM", "dumb")
    assert mode_for(Tty(), quiet=False) is Mode.PLAIN


def test_descriptions_read_naturally() -> None:
    assert describe("x", 0, 10, 0.0) == "x 0/10 (0%)"
    assert duration(59.6) == "1m00s" and duration(3725) == "1h02m"

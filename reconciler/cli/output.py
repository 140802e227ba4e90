"""What the global output options do: `-v/-vv` logs, `-q` silence, progress on stderr.

Every `enrollctl.*` log record of a command goes through one handler on the `enrollctl` logger while the
command runs. Records tagged as progress (by `engine.build.log_progress`, the providers' callback; long
Litmos and iSpring reads) update the `ProgressDisplay`; the others print as lines when their level reaches the
verbosity's threshold. Every printed line is masked with every live `Redactor` after formatting, so neither
a message, its arguments nor a formatted traceback can carry a secret past it, and then made terminal-safe
(`reconciler.transport.terminal`: no escape sequences, no control characters, lines of bounded length).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.cli.progress import Mode, ProgressDisplay, mode_for
from reconciler.engine.build import PROGRESS_FIELD
from reconciler.transport.redact import redact_known
from reconciler.transport.terminal import VENDOR_EXCERPT, safe_lines, safe_text

LOGGER = "enrollctl"
PROGRESS = PROGRESS_FIELD  # the `extra` key that marks a record as a progress update


def threshold(verbosity: int, quiet: bool) -> int:
    """The lowest level printed: errors only when quiet, warnings by default, INFO at -v, DEBUG at -vv."""
    if quiet:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


class OutputHandler(logging.Handler):
    """Routes `enrollctl.*` records: progress to the display, the rest to stderr lines, secrets masked."""

    def __init__(self, display: ProgressDisplay, level: int) -> None:
        super().__init__(logging.DEBUG)
        self.display = display
        self.threshold = level
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            progress = getattr(record, PROGRESS, None)
            if progress is not None:
                label, done, total, elapsed = progress
                label = safe_text(redact_known(str(label)), limit=VENDOR_EXCERPT)
                self.display.update(label, int(done), int(total), elapsed=float(elapsed))
            elif record.levelno >= self.threshold:
                self.display.line(safe_lines(redact_known(self.format(record))))
        except Exception:  # logging must never break the command; the stdlib reports it on stderr
            self.handleError(record)


@dataclass
class Output:
    """The run's output settings and its progress display."""

    display: ProgressDisplay
    quiet: bool = False

    def info(self, text: str) -> None:
        """An informational stderr line (e.g. apply's batches); suppressed by --quiet."""
        if not self.quiet:
            self.display.line(text)

    def progress(self, label: str, done: int, total: int) -> None:
        """Progress of a job this process times itself (apply's writes)."""
        self.display.update(label, done, total)


def configure(verbosity: int, quiet: bool) -> tuple[Output, Callable[[], None]]:
    """Install the handler for one command; returns the output and the function that removes it again."""
    stream = sys.stderr
    display = ProgressDisplay(stream, mode_for(stream, quiet=quiet))
    level = threshold(verbosity, quiet)
    logger = logging.getLogger(LOGGER)
    handler = OutputHandler(display, level)
    previous = logger.level
    # progress records are INFO: let them be created unless quiet, even when INFO lines are not printed;
    # a level set lower beforehand (a test collecting DEBUG records) is kept, the handler filters anyway
    wanted = min(level, logging.INFO) if display.mode is not Mode.OFF else level
    logger.setLevel(wanted if previous == logging.NOTSET else min(previous, wanted))
    logger.addHandler(handler)

    def restore() -> None:
        display.clear()
        logger.removeHandler(handler)
        logger.setLevel(previous)

    return Output(display, quiet), restore


def silent() -> Output:
    """Output for code run outside the `enrollctl` group (library use, tests calling commands directly)."""
    return Output(ProgressDisplay(sys.stderr, Mode.OFF), quiet=True)

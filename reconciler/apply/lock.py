"""The repository lock: two applies of one repository never interleave.

The lock is `filelock.FileLock` on `.enrollctl/apply.lock`: an OS lock (`flock` on POSIX, `msvcrt.locking` on
Windows) that the system releases when its holder dies, even by kill -9, so a crash never leaves a stale lock.
Who holds it (pid, host, start time) is kept beside it in `apply.lock.holder`, only for the message a second
apply prints; a holder file without a lock means nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import filelock

from reconciler.errors import LockHeld


@contextlib.contextmanager
def repository_lock(path: Path, *, timeout: float = 0.0) -> Iterator[None]:
    """Hold the apply lock at `path` for the block; wait up to `timeout` seconds, then raise LockHeld."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, timeout=max(timeout, 0.0), mode=0o600, fallback_to_soft=False)
    holder_file = path.with_name(path.name + ".holder")
    try:
        lock.acquire()
    except filelock.Timeout:
        waited = f" (waited {timeout:g} s)" if timeout > 0 else ""
        raise LockHeld(
            f"another apply{_holder(holder_file)} is running in this repository ({path}){waited}",
            hint="wait for it to finish (the lock is released when that process ends), "
            "or pass --lock-timeout SECONDS to wait for it",
        ) from None
    try:
        _write_holder(holder_file)
        yield
    finally:
        holder_file.unlink(missing_ok=True)
        lock.release()


def _write_holder(holder_file: Path) -> None:
    started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
    holder_file.write_text(json.dumps(holder) + "\n", encoding="utf-8")


def _holder(holder_file: Path) -> str:
    """` (pid 12, host ci-3, since 2026-12-02T10:00:00+00:00)`, or "" when the holder did not say."""
    try:
        holder = json.loads(holder_file.read_text(encoding="utf-8"))
        return f" (pid {int(holder['pid'])}, host {holder['host']!s:.64}, since {holder['started']!s:.32})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""

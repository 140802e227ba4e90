"""The repository lock: two applies of one repository never interleave.

`flock` on `.enrollctl/apply.lock` is released by the kernel when its holder dies (even by kill -9), so a
crash never leaves a stale lock behind; the file keeps the holder's pid only for the error message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from reconciler.errors import LockHeld


@contextlib.contextmanager
def repository_lock(path: Path) -> Iterator[None]:
    """Hold the apply lock at `path` for the duration of the block, or raise LockHeld at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            raise LockHeld(
                f"another apply{holder} is running in this repository ({path})",
                hint="wait for it to finish; the lock is released when that process ends",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    pid = os.read(fd, 32).decode("ascii", errors="replace").strip()
    return f" (pid {pid})" if pid.isdigit() else ""

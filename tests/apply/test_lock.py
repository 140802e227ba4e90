"""The repository lock (filelock): contention names the holder, the timeout is honoured, death releases it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.apply.lock import repository_lock
from reconciler.errors import LockHeld

HOLD = """
import sys, time
from pathlib import Path
from reconciler.apply.lock import repository_lock
with repository_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_in_child(lock: Path, seconds: float) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_contention_names_the_holder_pid_host_and_start(tmp_path: Path) -> None:
    lock = tmp_path / ".enrollctl" / "apply.lock"
    child = _hold_in_child(lock, 30)
    try:
        with pytest.raises(LockHeld) as held, repository_lock(lock):
            pass
        message = held.value.message
        assert f"pid {child.pid}" in message
        assert f"host {socket.gethostname()}" in message
        assert "since 20" in message
        assert "--lock-timeout" in (held.value.hint or "")
    finally:
        child.kill()
        child.wait()


def test_the_lock_timeout_is_honoured(tmp_path: Path) -> None:
    lock = tmp_path / "apply.lock"
    with repository_lock(lock):
        started = time.monotonic()
        with pytest.raises(LockHeld, match=r"waited 0\.5 s"), repository_lock(lock, timeout=0.5):
            pass
        waited = time.monotonic() - started
    assert 0.5 <= waited < 5


def test_a_waiting_apply_gets_the_lock_when_the_holder_finishes(tmp_path: Path) -> None:
    lock = tmp_path / "apply.lock"
    child = _hold_in_child(lock, 0.5)
    try:
        with repository_lock(lock, timeout=20):
            assert child.poll() is not None or child.wait(5) == 0
    finally:
        child.wait()


@pytest.mark.skipif(os.name != "posix", reason="kill -9 is POSIX; Windows releases the lock on exit too")
def test_a_holder_killed_by_sigkill_leaves_no_stale_lock(tmp_path: Path) -> None:
    lock = tmp_path / "apply.lock"
    child = _hold_in_child(lock, 60)
    child.kill()  # SIGKILL: no finally block runs, the holder file stays behind
    child.wait()
    with repository_lock(lock):
        pass


def test_the_holder_file_is_gone_after_release(tmp_path: Path) -> None:
    lock = tmp_path / "apply.lock"
    with repository_lock(lock):
        assert (tmp_path / "apply.lock.holder").exists()
    assert not (tmp_path / "apply.lock.holder").exists()

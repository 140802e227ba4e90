"""The journal under concurrent writers: batch lines on disk before their call, fsyncs shared (group commit),
outcome lines written at once and made durable by the next fsync."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler.apply import journal as journal_module
from reconciler.apply.journal import Journal
from reconciler.apply.run import run
from reconciler.core.plan import Action, OutcomeStatus
from reconciler.providers.base import Outcome, WriteBatch
from tests.apply.test_concurrent import SlowLms
from tests.apply.test_run import NOW, add, directory_of, plan_of


@dataclass
class DiskWatch:
    """Stands in for the journal's fsync: records the lines each fsync made durable."""

    delay: float = 0.0
    fail: int = 0  # fsyncs that raise OSError before any succeeds
    durable: set[str] = field(default_factory=set)
    fsyncs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, path: Path) -> None:
        with self.lock:
            if self.fail:
                self.fail -= 1
                raise OSError(5, "Input/output error")
        time.sleep(self.delay)
        lines = set(path.read_text(encoding="utf-8").splitlines())
        with self.lock:
            self.fsyncs += 1
            self.durable |= lines


def _batch_line(action_id: str) -> str:
    return json.dumps({"actions": [action_id], "calls": 1, "event": "batch", "kind": "add"}, sort_keys=True)


def test_each_batch_line_is_on_disk_when_batch_started_returns_and_threads_share_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = DiskWatch(delay=0.01)
    monkeypatch.setattr(journal_module, "_fsync", watch)
    journal = Journal(tmp_path / "j.jsonl")
    not_durable: list[str] = []

    def writer(n: int) -> None:
        for i in range(10):
            action_id = f"a{n}-{i}"
            journal.batch_started("add", [action_id], 1)
            with watch.lock:
                if _batch_line(action_id) not in watch.durable:
                    not_durable.append(action_id)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not_durable == []
    lines = (tmp_path / "j.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 120 and all(json.loads(line)["event"] == "batch" for line in lines)
    assert watch.fsyncs < len(lines) // 2  # twelve writers at once wait for shared fsyncs, not one each


def test_outcomes_not_durable_are_written_at_once_and_synced_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = DiskWatch()
    monkeypatch.setattr(journal_module, "_fsync", watch)
    journal = Journal(tmp_path / "j.jsonl")
    journal.outcomes([("a1", OutcomeStatus.DONE, "")], durable=False)
    assert watch.fsyncs == 0
    assert Journal(journal.path).read().outcomes == {"a1": OutcomeStatus.DONE}  # a kill -9 keeps it
    journal.sync()
    assert watch.fsyncs == 1 and len(watch.durable) == 1
    journal.sync()  # nothing new: no fsync
    assert watch.fsyncs == 1


def test_a_failed_fsync_fails_the_caller_and_the_next_one_syncs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = DiskWatch(fail=1)
    monkeypatch.setattr(journal_module, "_fsync", watch)
    journal = Journal(tmp_path / "j.jsonl")
    with pytest.raises(OSError, match="Input/output error"):
        journal.batch_started("add", ["a1"], 1)
    journal.sync()  # the line was written; it still needs its fsync
    assert _batch_line("a1") in watch.durable


def test_real_fsync_path_appends_whole_lines(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "deep" / "j.jsonl")
    journal.batch_started("add", ["a1"], 1)
    journal.outcomes([("a1", OutcomeStatus.DONE, "")], durable=False)
    journal.sync()
    state = journal.read()
    assert state.outcomes == {"a1": OutcomeStatus.DONE} and not state.in_flight
    assert os.stat(journal.path).st_size == len(journal.path.read_bytes())


@dataclass
class WatchedLms(SlowLms):
    """A SlowLms that checks, as each call is sent, that the journal already holds its batch on disk."""

    watch: DiskWatch = field(default_factory=DiskWatch)
    unjournaled: list[str] = field(default_factory=list)

    def write(self, batch: WriteBatch) -> list[Outcome]:
        with self.watch.lock:
            durable = {json.loads(line)["actions"][0] for line in self.watch.durable if '"batch"' in line}
        self.unjournaled.extend(a.id for a in batch.actions if a.id not in durable)
        return super().write(batch)


def test_concurrent_apply_sends_no_call_before_its_batch_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = [f"u{i:02}" for i in range(24)]
    lms = WatchedLms(directory=directory_of(*users), latency=0.01)
    monkeypatch.setattr(journal_module, "_fsync", lms.watch)
    actions: list[Action] = [add(u, "c1") for u in users]
    result = run(plan_of(*actions, lms=lms), {"lms": lms}, tmp_path, now=NOW)
    assert result.done == len(actions)
    assert lms.peak > 1
    assert lms.unjournaled == []
    # the phase ended with a sync: every outcome line is durable too
    written = (tmp_path / next(p.name for p in tmp_path.glob("*.jsonl"))).read_text(encoding="utf-8")
    outcomes = [line for line in written.splitlines() if '"outcome"' in line]
    assert len(outcomes) == len(actions) and set(outcomes) <= lms.watch.durable

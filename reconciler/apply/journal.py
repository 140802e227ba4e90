"""The apply journal: one JSONL file per plan under `.enrollctl/journal/`, appended line by line.

Each batch writes a `batch` line before its vendor call and one `outcome` line per action after it. A crash
between the two leaves actions whose batch started but whose outcome is missing: their fate is unknown, and
the next run resolves them by reading the LMS back, never by blindly sending them again.

Every line is written (`os.write`, O_APPEND) before the method returns, so a killed process leaves every
line it wrote. A `batch` line is also on disk (fsync'd) before its call is sent, so not even a crash of the
machine can hide a call that was made. Outcome lines may ride on the next fsync (`durable=False`, what
concurrent writers use; `sync` at the end of a phase): lost to a power cut, they leave their actions
unknown, which the next run reads back. The fsyncs of writers that append at the same time are shared (group
commit): one fsync makes every line written before it durable, so eight writers in flight do not queue
behind eight fsyncs each.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.core.plan import OutcomeStatus

SETTLED = frozenset({OutcomeStatus.DONE, OutcomeStatus.ALREADY})


@dataclass(frozen=True)
class JournalState:
    """What earlier runs of one plan recorded: the last outcome per action, and batches left in flight."""

    outcomes: dict[str, OutcomeStatus] = field(default_factory=dict)
    in_flight: frozenset[str] = frozenset()  # last event is a batch line, no outcome after it: unknown
    attempts: dict[str, int] = field(default_factory=dict)  # batches each action was sent in

    def settled(self, action_id: str) -> bool:
        """True when an earlier run recorded the action as done (or already so)."""
        return action_id not in self.in_flight and self.outcomes.get(action_id) in SETTLED

    def unknown(self, action_id: str) -> bool:
        """True when an earlier run may or may not have made the change."""
        return action_id in self.in_flight or self.outcomes.get(action_id) is OutcomeStatus.UNKNOWN


class Journal:
    """Append-only record of one plan's apply runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Condition()  # one line at a time, whichever thread writes it
        self._written = 0  # appends made so far
        self._synced = 0  # appends known to be on disk
        self._syncing = False  # a thread is in fsync (outside the lock)

    @classmethod
    def for_plan(cls, journal_dir: Path, plan_id: str) -> Journal:
        """The journal of `plan_id` under `journal_dir` (created on first write)."""
        return cls(journal_dir / f"{plan_id}.jsonl")

    def read(self) -> JournalState:
        """Replay the journal; a torn last line (crash mid-write) is ignored."""
        if not self.path.exists():
            return JournalState()
        outcomes: dict[str, OutcomeStatus] = {}
        attempts: dict[str, int] = {}
        in_flight: set[str] = set()
        for record in _records(self.path):
            if record.get("event") == "batch":
                for action in map(str, record.get("actions", [])):
                    attempts[action] = attempts.get(action, 0) + 1
                    in_flight.add(action)  # sent again after a failure: unknown until its outcome
            elif record.get("event") == "outcome":
                outcomes[str(record["action"])] = OutcomeStatus(record["status"])
                in_flight.discard(str(record["action"]))
        return JournalState(outcomes, frozenset(in_flight), attempts)

    def run_started(self, now: dt.datetime, *, provider: str, account: str) -> None:
        """Mark the start of one apply run, for people reading the journal."""
        self._append([{"event": "run", "at": now.isoformat(), "provider": provider, "account": account}])

    def batch_started(self, kind: str, action_ids: Iterable[str], calls: int) -> None:
        """Record that a vendor call for these actions is about to be sent."""
        self._append([{"event": "batch", "kind": kind, "calls": calls, "actions": list(action_ids)}])

    def outcomes(self, results: Iterable[tuple[str, OutcomeStatus, str]], *, durable: bool = True) -> None:
        """Record outcomes (action id, status, detail), one line each; fsync'd on return if `durable`."""
        records: list[dict[str, Any]] = [
            {"event": "outcome", "action": action_id, "status": status.value, "detail": detail}
            for action_id, status, detail in results
        ]
        self._append(records, durable=durable)

    def sync(self) -> None:
        """Make every line written so far durable (one fsync, shared with any other thread's)."""
        with self._lock:
            self._wait_synced(self._written)

    def _append(self, records: list[dict[str, Any]], *, durable: bool = True) -> None:
        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
        # O_APPEND: a line is either wholly in the file or torn at the very end, which `read` skips.
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, text.encode("utf-8"))
            finally:
                os.close(fd)
            self._written += 1
            if durable:
                self._wait_synced(self._written)

    def _wait_synced(self, upto: int) -> None:
        """With the lock held: return once appends up to number `upto` are fsync'd (group commit)."""
        while self._synced < upto:
            if self._syncing:  # another thread's fsync is under way; it may cover ours, or we go next
                self._lock.wait()
                continue
            self._syncing, covered = True, self._written
            self._lock.release()
            try:
                _fsync(self.path)
            finally:  # if fsync raised, nothing counts as synced and the next waiter tries itself
                self._lock.acquire()
                self._syncing = False
                self._lock.notify_all()
            self._synced = max(self._synced, covered)


def _fsync(path: Path) -> None:
    """fsync the file: it flushes the file's data whichever descriptor wrote it."""
    if not path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _records(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn line from a crash: that write never completed
        if isinstance(record, dict):
            records.append(record)
    return records

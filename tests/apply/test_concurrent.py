"""apply with several write calls in flight: per-user order, a truthful journal, bisected failing batches."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.apply.journal import Journal
from reconciler.apply.run import ApplyIncomplete, plan_id, run
from reconciler.core.model import Capabilities, ProviderConfig, ProviderKind
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.providers.base import Outcome, WriteBatch
from reconciler.transport.pacing import RateLimiter
from tests.apply.test_run import NOW, MemoryLms, add, directory_of, enrollment, plan_of, remove, update


@dataclass
class SlowLms(MemoryLms):
    """A MemoryLms whose calls take `latency` seconds and may overlap; notes the order each user saw."""

    latency: float = 0.02
    concurrency: int = 8
    poison: frozenset[str] = frozenset()  # a batch holding one of these users fails as a whole
    seen: list[tuple[str, ActionKind]] = field(default_factory=list)
    peak: int = 0
    _running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(enroll_batch_users=1000, enroll_batch_items=1000, concurrency=self.concurrency)

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        if self.poison:  # all adds of equal terms in one all-or-nothing call
            return super().batches(actions)
        return [WriteBatch(a.kind, (a,)) for a in actions]  # many small calls for the pool to overlap

    def write(self, batch: WriteBatch) -> list[Outcome]:
        with self._lock:
            self._running += 1
            self.peak = max(self.peak, self._running)
        try:
            time.sleep(self.latency)
            if any(a.user_id in self.poison for a in batch.actions):
                return [Outcome(a.id, OutcomeStatus.FAILED, "all or nothing") for a in batch.actions]
            with self._lock:
                self.seen.extend((a.user_id, a.kind) for a in batch.actions)
                return super().write(batch)
        finally:
            with self._lock:
                self._running -= 1


def _users(n: int) -> list[str]:
    return [f"u{i:02}" for i in range(n)]


def test_concurrent_apply_keeps_each_users_adds_before_updates_before_removals(tmp_path: Path) -> None:
    users = _users(12)
    lms = SlowLms(directory=directory_of(*users))
    actions: list[Action] = []
    for u in users:
        held = enrollment(u, "c2")
        gone = enrollment(u, "c3")
        lms.held[held.key] = held
        lms.held[gone.key] = gone
        actions += [add(u, "c1"), update(held), remove(gone)]
    result = run(plan_of(*actions, lms=lms), {"lms": lms}, tmp_path, now=NOW)
    assert result.done == len(actions)
    assert 1 < lms.peak <= 8  # calls overlapped (timing itself is left to benchmarks/)
    rank = {ActionKind.ADD: 0, ActionKind.UPDATE: 1, ActionKind.REMOVE: 2}
    for u in users:
        order = [rank[kind] for user, kind in lms.seen if user == u]
        assert order == sorted(order) == [0, 1, 2]


def test_concurrent_journal_has_whole_lines_and_every_batch_before_its_outcome(tmp_path: Path) -> None:
    users = _users(24)
    lms = SlowLms(directory=directory_of(*users), latency=0.005)
    plan = plan_of(*(add(u, c) for u in users for c in ("c1", "c2")), lms=lms)
    run(plan, {"lms": lms}, tmp_path, now=NOW)
    lines = (tmp_path / f"{plan_id(plan)}.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # a torn or interleaved line would not parse
    started = {a: i for i, r in enumerate(records) if r["event"] == "batch" for a in r["actions"]}
    finished = {r["action"]: i for i, r in enumerate(records) if r["event"] == "outcome"}
    assert set(started) == set(finished) == {a.id for a in plan.actions}
    assert all(started[a] < finished[a] for a in started)


def test_a_batch_that_keeps_failing_is_bisected_until_the_healthy_part_lands(tmp_path: Path) -> None:
    users = _users(16)
    lms = SlowLms(directory=directory_of(*users), latency=0.0, poison=frozenset({"u05"}))
    plan = plan_of(*(add(u, "c1") for u in users), lms=lms)
    sent: list[int] = []
    for _run in range(6):
        before = len(lms.calls)
        try:
            run(plan, {"lms": lms}, tmp_path, now=NOW)
        except ApplyIncomplete as incomplete:
            assert incomplete.result.failed >= 1
        sent.append(len(lms.calls) - before)
    landed = {u for u, _ in lms.held}
    assert landed == set(users) - {"u05"}  # everyone but the one who makes any batch fail
    state = Journal.for_plan(tmp_path, plan_id(plan)).read()
    # runs 1 and 2: 16 users in one call (one failure splits nothing); 3: halves of 8 (one lands); 4: the
    # other 8 in pieces of 2 (three land); 5: the last two alone (one lands); 6: u05 alone. Only what is not
    # done yet is ever sent again.
    assert state.attempts[next(a.id for a in plan.actions if a.user_id == "u05")] == 6
    assert sent == [0, 0, 1, 3, 1, 0]  # calls that landed, per run


def test_rate_limiter_shared_by_threads_never_exceeds_its_window() -> None:
    lock = threading.Lock()
    now = [0.0]

    def clock() -> float:
        with lock:
            return now[0]

    def sleep(seconds: float) -> None:
        with lock:
            now[0] += seconds

    limiter = RateLimiter(30, clock=clock, sleep=sleep)
    stamps: list[float] = []

    def worker() -> None:
        for _ in range(25):
            limiter.acquire()
            with lock:
                stamps.append(now[0])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 200
    assert all(stamps[i + 30] - stamps[i] >= 60.0 - 1e-9 for i in range(len(stamps) - 30))


def test_default_concurrency_per_vendor_and_from_enrollctl_yaml() -> None:
    from reconciler.providers.ispring.provider import capabilities_for as ispring
    from reconciler.providers.litmos.provider import capabilities_for as litmos

    assert ispring(ProviderConfig("a", ProviderKind.ISPRING)).concurrency == 8
    assert litmos(ProviderConfig("b", ProviderKind.LITMOS)).concurrency == 4
    assert ispring(ProviderConfig("a", ProviderKind.ISPRING, concurrency=2)).concurrency == 2

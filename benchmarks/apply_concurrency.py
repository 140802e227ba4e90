"""Concurrent apply (issue 16): wall time against max(rate floor, calls × latency / concurrency).

Each scenario applies a real plan through `apply.run.run` (staleness read, writes on the bounded pool,
journal, confirmation read) against an in-process emulator behind the sandbox's own latency switch
(`Faults.latency_ms`: every request waits that long before the emulator answers it; the wait runs outside
the emulator's lock, like network time). The bound is max(calls / rate, calls × latency / concurrency)
over every call of the apply, its re-reads included; the target is wall ≤ 1.2 × bound at 150 ms.
Latencies 50, 150 and 300 ms are printed side by side, with the sequential time (calls × latency) and
where the time went (re-reads, writes) for comparison.

iSpring documents no rate limit: a plan of ChangeEnrollment calls (one per update), default concurrency 8.
Litmos: adds (one assign call per user), default concurrency 4, at 600 calls a minute with the limiter's
60 s window scaled to 6 s (as in apply_bench.py), so the rate floor binds at low latency and the pool at
high latency.

    python benchmarks/apply_concurrency.py            # both vendors at 50/150/300 ms
    python benchmarks/apply_concurrency.py --quick    # tiny plans, 5 ms (CI: no thresholds)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reconciler.apply.run import run as apply_run
from reconciler.core.model import Directory, Due, DueKind, ItemKind, ProviderConfig, ProviderKind, Terms
from reconciler.core.plan import Action, ActionKind, Plan, ProviderPlan
from reconciler.providers.base import Credentials, Provider
from reconciler.providers.ispring import provider as ispring
from reconciler.providers.litmos import provider as litmos
from reconciler.sandbox.faults import faults_from_dict
from reconciler.sandbox.litmos.app import DEFAULT_API_KEYS
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app
from reconciler.sandbox.store.database import Store
from reconciler.transport.http import VendorClient

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
WINDOW = 6.0  # the limiter's 60 s window scaled tenfold (Litmos scenario)
TARGET = 1.2
TARGET_LATENCY = 150.0  # ms: the target latency; the others are figures


@dataclass(frozen=True)
class Scenario:
    vendor: str
    users: int
    latency_ms: float
    per_minute: int | None


@dataclass(frozen=True)
class Measured:
    actions: int
    calls: int
    seconds: float
    concurrency: int
    reads: float = 0.0  # seconds in the staleness and confirmation re-reads

    def bound(self, s: Scenario) -> float:
        floor = self.calls * 60.0 / s.per_minute if s.per_minute else 0.0
        return max(floor, self.calls * s.latency_ms / 1000.0 / self.concurrency)


def _store(users: int) -> Store:
    store = Store.open(":memory:")
    org = generate_org(users, departments=10, groups=3, courses=12, learning_paths=2, enrollments_per_user=4)
    seed_store(store, org)
    return store


def _provider(s: Scenario, store: Store) -> tuple[Provider, VendorClient]:
    # the Litmos emulator's own per-key limit (100 a minute) is lifted: the client's limiter is measured
    faults: dict[str, float] = {"latency_ms": s.latency_ms}
    if s.vendor == "litmos":
        faults["rate_limit_per_minute"] = 10**9
    app = build_app(s.vendor, store, faults_from_dict(faults))
    if s.vendor == "litmos":
        client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://litmos.bench/v1.svc")
        config = ProviderConfig("lms", ProviderKind.LITMOS, requests_per_minute=s.per_minute)
        lp = litmos.create(config, client, Credentials(api_key=DEFAULT_API_KEYS[0]))
        vendor = lp.api.vendor
        provider: Provider = lp
    else:
        client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://ispring.bench")
        config = ProviderConfig("lms", ProviderKind.ISPRING, requests_per_minute=s.per_minute)
        ip = ispring.create(config, client, Credentials(token=SANDBOX_CREDENTIALS["ispring"]["token"]))
        vendor = ip.api.http
        provider = ip
    if s.per_minute:
        vendor.limiter.WINDOW = WINDOW  # type: ignore[misc]
        vendor.limiter.requests_per_minute = max(1, round(s.per_minute * WINDOW / 60))
    return provider, vendor


def _actions(s: Scenario, provider: Provider, directory: Directory) -> list[Action]:
    if s.vendor == "litmos":  # a course for every active user who lacks it: one assign (+ read-back) each
        course = next(i for i in directory.items if i.kind is ItemKind.COURSE)
        held = {e.user_id for e in provider.read_enrollments(directory, frozenset({course.id}))}
        return [
            Action(ActionKind.ADD, u.id, u.login, course.id, course.kind, course.title, Terms(), notify=False)
            for u in directory.users
            if u.id not in held and u.status.value == "active"
        ]
    courses = {i.id: i.title for i in directory.items if i.kind is ItemKind.COURSE}
    held = provider.read_enrollments(directory, frozenset(list(courses)[:3]))
    terms = Terms(Due(DueKind.UNLIMITED), lock_after_due=True)
    return [
        Action(ActionKind.UPDATE, e.user_id, e.user_id, e.item_id, e.item_kind, courses[e.item_id], terms, e)
        for e in held
        if not e.lock_after_due and e.access is not None
    ]


def run(s: Scenario) -> Measured:
    """Apply one plan; calls counted on the client (every attempt), wall time of the apply alone."""
    store = _store(s.users)
    provider, vendor = _provider(s, store)
    directory = provider.read_directory()
    actions = _actions(s, provider, directory)
    part = ProviderPlan("lms", provider.kind, provider.account, actions=tuple(actions))
    plan = Plan(created_at=NOW, manifest_digest="bench", providers=(part,))
    reading: list[float] = []
    read_enrollments = provider.read_enrollments

    def timed_read(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return read_enrollments(*args, **kwargs)
        finally:
            reading.append(time.perf_counter() - started)

    provider.read_enrollments = timed_read  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        vendor.stats.reset()
        started = time.perf_counter()
        result = apply_run(plan, {"lms": provider}, Path(tmp), now=NOW, directories={"lms": directory})
        seconds = time.perf_counter() - started
    store.close()
    assert result.failed == 0, result.outcomes[:3]
    concurrency = provider.capabilities.concurrency
    return Measured(len(actions), vendor.stats.total, seconds, concurrency, sum(reading))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny plans, 5 ms latency, no thresholds (CI)")
    parser.add_argument("--vendor", choices=("ispring", "litmos"), action="append", help="only these")
    parser.add_argument("--latency", type=float, action="append", help="only these latencies (ms)")
    args = parser.parse_args(argv)
    latencies = args.latency or ([5.0] if args.quick else [50.0, 150.0, 300.0])
    sizes = {"ispring": 30, "litmos": 20} if args.quick else {"ispring": 1000, "litmos": 200}
    limits = {"ispring": None, "litmos": None if args.quick else 600}
    print(
        f"{'vendor':<9}{'limit/min':>10}{'latency':>9}{'conc':>6}{'actions':>9}{'calls':>7}"
        f"{'wall s':>9}{'reads s':>9}{'bound s':>9}{'ratio':>7}{'sequential s':>14}"
    )
    verdicts: list[tuple[str, float]] = []
    for vendor in args.vendor or ("ispring", "litmos"):
        for latency in latencies:
            s = Scenario(vendor, sizes[vendor], latency, limits[vendor])
            m = run(s)
            bound = m.bound(s)
            ratio = m.seconds / bound if bound else float("nan")
            sequential = m.calls * latency / 1000.0
            print(
                f"{vendor:<9}{s.per_minute or '-':>10}{latency:>7.0f}ms{m.concurrency:>6}{m.actions:>9}"
                f"{m.calls:>7}{m.seconds:>9.2f}{m.reads:>9.2f}{bound:>9.2f}{ratio:>7.2f}{sequential:>14.2f}",
                flush=True,
            )
            if latency == TARGET_LATENCY:
                verdicts.append((vendor, ratio))
    if not args.quick:
        for vendor, ratio in verdicts:
            verdict = "MET" if ratio <= TARGET else "NOT MET"
            print(
                f"TARGET {vendor} apply wall / max(rate floor, calls x latency / concurrency) <= {TARGET} "
                f"at {TARGET_LATENCY:.0f} ms: {ratio:.2f}  {verdict}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

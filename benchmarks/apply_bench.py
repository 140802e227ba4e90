"""Apply wall time against the rate-limit floor, on the Litmos and iSpring sandboxes with injected latency.

A rate limit of R calls a minute means N calls cannot take less than N / R minutes once the limit binds
(the floor). enrollctl's limiter is a sliding window; to keep the benchmark short the window is scaled from
60 s to 6 s with R scaled alike (60 calls per 6 s is still 600 calls a minute), and every request is
delayed by the injected latency before the in-process emulator answers it. Each scenario applies a real
plan through `apply.run` (staleness read, writes, journal, confirmation read) and prints calls made,
wall time, the floor and their ratio.

    python benchmarks/apply_bench.py            # 600 calls/min, 50 ms latency, both vendors; then 150 ms
    python benchmarks/apply_bench.py --quick    # no limit, no latency, tiny plans (CI: no thresholds)
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.apply import run as apply
from reconciler.core.model import Directory, Due, DueKind, ItemKind, ProviderConfig, ProviderKind, Terms
from reconciler.core.plan import Action, ActionKind, Plan, ProviderPlan
from reconciler.providers.base import Credentials, Provider
from reconciler.providers.ispring import provider as ispring
from reconciler.providers.litmos import provider as litmos
from reconciler.sandbox.litmos.app import DEFAULT_API_KEYS, make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app
from reconciler.sandbox.store.database import Store
from reconciler.transport.http import RateLimiter

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
WINDOW = 6.0  # seconds: the limiter's 60-second window, scaled down tenfold


class SlowTransport(httpx.WSGITransport):
    """The in-process emulator, answering each request after `latency` seconds (network + vendor time)."""

    def __init__(self, app: object, latency: float) -> None:
        super().__init__(app=app)  # type: ignore[arg-type]
        self.latency = latency

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.latency)
        return super().handle_request(request)


@dataclass(frozen=True)
class Scenario:
    vendor: str
    users: int
    per_minute: int | None  # None: no rate limit (quick mode)
    latency: float


@dataclass(frozen=True)
class Result:
    calls: int
    seconds: float
    actions: int

    def floor(self, per_minute: int | None) -> float:
        """Seconds N calls need at the limit's sustained rate (0 without a limit)."""
        return self.calls * 60.0 / per_minute if per_minute else 0.0

    def window_floor(self, per_minute: int | None) -> float:
        """The strict floor of a sliding window: each full window of calls must end before the next."""
        if not per_minute:
            return 0.0
        per_window = max(1, round(per_minute * WINDOW / 60))
        return (math.ceil(self.calls / per_window) - 1) * WINDOW


def _scaled(limiter: RateLimiter, per_minute: int | None) -> None:
    """Scale the limiter's window to WINDOW seconds, keeping the rate per minute."""
    if per_minute is None:
        return
    limiter.WINDOW = WINDOW  # type: ignore[misc]
    limiter.requests_per_minute = max(1, round(per_minute * WINDOW / 60))


def _store(users: int) -> Store:
    store = Store.open(":memory:")
    org = generate_org(users, departments=10, groups=3, courses=12, learning_paths=2, enrollments_per_user=4)
    seed_store(store, org)
    return store


def _litmos(s: Scenario, store: Store) -> Provider:
    app = make_litmos_app(store, rate_limit=RateLimit(requests_per_minute=10**9))
    client = httpx.Client(transport=SlowTransport(app, s.latency), base_url="http://litmos.bench/v1.svc")
    config = ProviderConfig("lms", ProviderKind.LITMOS, requests_per_minute=s.per_minute or 10**9)
    provider = litmos.create(config, client, Credentials(api_key=DEFAULT_API_KEYS[0]))
    _scaled(provider.api.vendor.limiter, s.per_minute)
    return provider


def _ispring(s: Scenario, store: Store) -> Provider:
    client = httpx.Client(
        transport=SlowTransport(build_app("ispring", store), s.latency), base_url="http://ispring.bench"
    )
    config = ProviderConfig("lms", ProviderKind.ISPRING, requests_per_minute=s.per_minute)
    token = SANDBOX_CREDENTIALS["ispring"]["token"]
    provider = ispring.create(config, client, Credentials(token=token))
    _scaled(provider.api.http.limiter, s.per_minute)
    return provider


def _litmos_actions(provider: Provider, directory: Directory) -> list[Action]:
    """One new course for every user who lacks the first course: one assign call (+ read-back) each."""
    course = next(i for i in directory.items if i.kind is ItemKind.COURSE)
    held = {e.user_id for e in provider.read_enrollments(directory, frozenset({course.id}))}
    return [
        Action(ActionKind.ADD, u.id, u.login, course.id, course.kind, course.title, Terms(), notify=False)
        for u in directory.users
        if u.id not in held and u.status.value == "active"
    ]


def _ispring_actions(provider: Provider, directory: Directory) -> list[Action]:
    """Every unlocked enrollment of two courses made unlimited and locked: one ChangeEnrollment call each."""
    courses = [i for i in directory.items if i.kind is ItemKind.COURSE][:2]
    titles = {i.id: i.title for i in courses}
    held = provider.read_enrollments(directory, frozenset(titles))
    actions = []
    for e in held:
        if e.lock_after_due or e.access is None:
            continue
        actions.append(
            Action(
                ActionKind.UPDATE,
                e.user_id,
                e.user_id,
                e.item_id,
                e.item_kind,
                titles[e.item_id],
                terms=Terms(Due(DueKind.UNLIMITED), lock_after_due=True),
                before=e,
                changes=("lock_after_due",),
            )
        )
    return actions


def run(s: Scenario) -> Result:
    """Apply one plan of the scenario; calls counted on the client, wall time of apply.run alone."""
    store = _store(s.users)
    make: Callable[[Scenario, Store], Provider] = _litmos if s.vendor == "litmos" else _ispring
    provider = make(s, store)
    directory = provider.read_directory()
    choose = _litmos_actions if s.vendor == "litmos" else _ispring_actions
    actions = choose(provider, directory)
    part = ProviderPlan("lms", provider.kind, provider.account, actions=tuple(actions))
    plan = Plan(created_at=NOW, manifest_digest="bench", providers=(part,))
    stats = provider.api.vendor.stats if s.vendor == "litmos" else provider.api.http.stats  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as tmp:
        stats.reset()
        started = time.perf_counter()
        result = apply.run(plan, {"lms": provider}, Path(tmp), now=NOW, directories={"lms": directory})
        seconds = time.perf_counter() - started
    store.close()
    assert result.failed == 0, result.outcomes[:3]
    return Result(stats.total, seconds, len(actions))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no limit, no latency, tiny plans (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        scenarios = [Scenario("litmos", 40, None, 0.0), Scenario("ispring", 40, None, 0.0)]
    else:
        scenarios = [
            Scenario("litmos", 300, 600, 0.05),
            Scenario("ispring", 400, 600, 0.05),
            Scenario("litmos", 300, 600, 0.15),
        ]
    print(
        f"{'vendor':<9}{'limit/min':>10}{'latency':>9}{'actions':>9}{'calls':>7}{'wall s':>9}{'floor s':>9}"
    )
    verdicts = []
    for s in scenarios:
        r = run(s)
        floor = r.floor(s.per_minute)
        ratio = r.seconds / floor if floor else float("nan")
        limit = str(s.per_minute or "-")
        print(
            f"{s.vendor:<9}{limit:>10}{s.latency * 1000:>7.0f}ms{r.actions:>9}{r.calls:>7}"
            f"{r.seconds:>9.2f}{floor:>9.2f}  ratio {ratio:.2f}  (strict window floor "
            f"{r.window_floor(s.per_minute):.1f} s)"
        )
        verdicts.append((s, ratio))
    if not args.quick:
        print()
        for s, ratio in verdicts:
            verdict = "MET" if ratio <= 1.2 else "NOT MET"
            print(
                f"TARGET apply wall / rate-limit floor <= 1.2, {s.vendor} at {s.per_minute}/min, "
                f"{s.latency * 1000:.0f} ms latency: {ratio:.2f}  {verdict}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

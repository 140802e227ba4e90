"""Builders for the Litmos provider tests: a seeded emulator, a recording transport, actions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from reconciler.core.model import Directory, ItemKind, ProviderConfig, ProviderKind
from reconciler.core.plan import Action, ActionKind
from reconciler.providers.base import Credentials
from reconciler.providers.litmos.provider import LitmosProvider, create
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.litmos.app import DEFAULT_API_KEYS, make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.org.load import parse_org, seed_store
from reconciler.sandbox.serve import build_app
from reconciler.sandbox.store.database import Store

KEY = DEFAULT_API_KEYS[0]
BASE_URL = "http://litmos.sandbox/v1.svc"

ORG = """
departments:
  - name: Acme
    children:
      - name: Engineering
        children: [{name: Platform}, {name: Contractors}]
      - {name: Sales, children: [{name: EMEA}, {name: Americas}]}
groups: [New hires, Managers]
users:
  - {login: helen@acme.example, first_name: Helen, last_name: Jones, department: Acme/Sales/EMEA,
     groups: [Managers]}
  - {login: kevin@acme.example, department: Acme/Engineering/Platform, groups: [New hires]}
  - {login: ann@acme.example, department: Acme}
  - {login: ina@acme.example, department: Acme/Engineering, status: inactive}
courses: [{title: Security Awareness 2026}, {title: Anti-Bribery}]
learning_paths:
  - {title: Onboarding, courses: [Security Awareness 2026]}
enrollments:
  - {user: helen@acme.example, course: Anti-Bribery, status: complete, progress: 100, due: 2026-01-31}
  - {user: helen@acme.example, learning_path: Onboarding, status: not_started}
  - {user: ina@acme.example, course: Anti-Bribery, status: in_progress, progress: 30}
"""


def generated_org(users: int) -> str:
    """The small org plus a synthetic one of `users` users with a few enrollments each."""
    return ORG + (
        f"generate: {{users: {users}, departments: 12, groups: 4, courses: 6, learning_paths: 2,"
        " enrollments_per_user: 3, seed: 7}\n"
    )


@dataclass
class FakeClock:
    """One clock for the emulator and the client; sleeping advances it instantly."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def ticking(self, seconds: float) -> Callable[[], float]:
        """A monotonic clock that moves `seconds` on every reading (a slow vendor)."""

        def read() -> float:
            self.now += seconds
            return self.now

        return read

    def wall(self) -> dt.datetime:
        return dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=self.now)


class Recorder(httpx.BaseTransport):
    """Passes requests to the emulator, keeping each one; `rewrite` may change a request on the way."""

    def __init__(self, app: object, rewrite: Callable[[httpx.Request], httpx.Request] | None = None) -> None:
        self.inner = httpx.WSGITransport(app=app)  # type: ignore[arg-type]
        self.rewrite = rewrite
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.inner.handle_request(self.rewrite(request) if self.rewrite else request)

    def bodies(self, method: str, path: str) -> list[object]:
        return [json.loads(r.content) for r in self.requests if r.method == method and r.url.path == path]


@dataclass
class Sandbox:
    store: Store
    recorder: Recorder
    provider: LitmosProvider

    def directory(self) -> Directory:
        return self.provider.read_directory()


def sandbox(
    org: str = ORG,
    *,
    rewrite: Callable[[httpx.Request], httpx.Request] | None = None,
    clock: FakeClock | None = None,
    emulator_limit: int = 100_000,
    client_limit: int | None = 100_000,
    faults: Faults | None = None,
) -> Sandbox:
    store = Store.open(":memory:")
    seed_store(store, parse_org(org))
    if faults is not None:
        app = build_app("litmos", store, faults, clock.wall if clock else None)
    else:
        limit = RateLimit(requests_per_minute=emulator_limit)
        app = make_litmos_app(store, clock=clock.wall if clock else None, rate_limit=limit)
    recorder = Recorder(app, rewrite)
    client = httpx.Client(transport=recorder, base_url=BASE_URL)
    config = ProviderConfig(name="academy", kind=ProviderKind.LITMOS, requests_per_minute=client_limit)
    fake = clock or FakeClock()
    provider = create(config, client, Credentials(api_key=KEY), clock=fake.monotonic, sleep=fake.sleep)
    return Sandbox(store, recorder, provider)


def add(user_id: str, item_id: str, kind: ItemKind = ItemKind.COURSE, notify: bool = True) -> Action:
    return Action(ActionKind.ADD, user_id, user_id, item_id, kind, item_id, notify=notify)


def remove(user_id: str, item_id: str, kind: ItemKind = ItemKind.COURSE) -> Action:
    return Action(ActionKind.REMOVE, user_id, user_id, item_id, kind, item_id)


def by_login(directory: Directory) -> dict[str, str]:
    return {u.login: u.id for u in directory.users}


def by_title(directory: Directory) -> dict[str, str]:
    return {i.title: i.id for i in directory.items}

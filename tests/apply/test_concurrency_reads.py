"""Apply's re-reads on iSpring: a read filtered by more learners than one call's filter takes is split into
chunks, and up to `concurrency` chunks are read at once; the calls and the enrollments are those of a read
one chunk after the other."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import httpx

from reconciler.core.model import ProviderConfig, ProviderKind
from reconciler.providers.ispring import provider as ispring
from reconciler.providers.ispring.provider import IspringOptions, IspringProvider
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.serve import build_app
from reconciler.sandbox.store.database import Store
from tests.providers.test_ispring_provider import ADMIN


class InFlight:
    """WSGI wrapper: the most requests the emulator was answering at once."""

    def __init__(self, app: Any) -> None:
        self.app, self.now, self.peak = app, 0, 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.now -= 1


def _provider(store: Store, concurrency: int) -> tuple[IspringProvider, InFlight]:
    app = InFlight(build_app("ispring", store, Faults(latency_ms=15)))
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.ispring.invalid/")
    config = ProviderConfig("lms", ProviderKind.ISPRING, api="soap", concurrency=concurrency)
    options = IspringOptions(ids_per_filter=4)
    return ispring.create(config, client, ADMIN, options=options, sleep=lambda _s: None), app


def test_a_filtered_read_in_concurrent_chunks_makes_the_same_calls_and_finds_the_same() -> None:
    store = Store.open(":memory:")
    seed_store(store, generate_org(40, courses=5, learning_paths=1, enrollments_per_user=3, seed=4))
    one, one_app = _provider(store, 1)
    many, many_app = _provider(store, 6)
    directory = one.read_directory()
    items = frozenset(i.id for i in directory.items if i.kind.value == "course")
    users = frozenset(u.id for u in directory.users[:30])  # 8 chunks of at most 4 learners
    one.api.http.stats.reset()
    alone = one.read_enrollments(directory, items, users)
    many.read_directory()
    many.api.http.stats.reset()
    together = many.read_enrollments(directory, items, users)
    assert together == alone and alone
    assert {e.user_id for e in alone} <= users
    assert many.api.http.stats.calls == one.api.http.stats.calls
    assert one_app.peak == 1
    assert 1 < many_app.peak <= 6

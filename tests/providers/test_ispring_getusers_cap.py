"""SOAP GetUsers is not paged, so its one answer has a size cap of its own; every other call keeps the
client's. Small caps stand in for the real ones (64 MiB per answer, 256 MiB for GetUsers) against the
emulator over httpx's WSGI transport."""

from __future__ import annotations

import httpx
import pytest

from reconciler.providers.base import Credentials
from reconciler.providers.ispring import api as ispring_api
from reconciler.providers.ispring.api import IspringApi
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.soap_wire import SoapWire
from reconciler.sandbox.org.generate import generate_org
from reconciler.sandbox.org.load import seed_store
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app
from reconciler.sandbox.store.database import Store
from reconciler.transport import bounds
from reconciler.transport.failures import AnswerTooLarge
from reconciler.transport.http import VendorClient

CREDS = SANDBOX_CREDENTIALS["ispring"]
ADMIN = Credentials(client_id=CREDS["client_id"], client_secret=CREDS["client_secret"])
CLIENT_CAP = 6_000  # bytes: the token, departments, groups and catalog answers fit; 80 users' profiles do not


def soap_wire(max_bytes: int) -> SoapWire:
    store = Store.open(":memory:")
    seed_store(store, generate_org(80, departments=4, groups=2, courses=3, learning_paths=0, seed=3))
    transport = httpx.WSGITransport(app=build_app("ispring", store))
    client = httpx.Client(transport=transport, base_url="http://sandbox.ispring.invalid/")
    http = VendorClient(client, provider="lms", max_bytes=max_bytes, sleep=lambda _: None)
    return SoapWire(IspringApi(http, TokenSource(http, ADMIN), page_size=1000), ids_per_filter=500)


def test_getusers_reads_an_answer_over_the_clients_cap_within_its_own() -> None:
    assert bounds.MAX_USER_LIST_BYTES > bounds.MAX_RESPONSE_BYTES
    wire = soap_wire(CLIENT_CAP)
    assert len(wire.users()) == 80
    assert len(wire.groups()) == 2  # other calls still answer under the client's cap


def test_getusers_over_its_own_cap_fails_naming_the_call_and_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(ispring_api.ANSWER_CAPS, "GetUsers", CLIENT_CAP)
    wire = soap_wire(bounds.MAX_RESPONSE_BYTES)
    with pytest.raises(AnswerTooLarge) as raised:
        wire.users()
    assert "GetUsers" in str(raised.value) and f"{CLIENT_CAP:,} bytes" in str(raised.value)


def test_other_calls_keep_the_clients_cap() -> None:
    wire = soap_wire(500)
    with pytest.raises(AnswerTooLarge) as raised:
        wire.items()
    assert "ListContent" in str(raised.value)

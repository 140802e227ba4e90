"""Open a sandbox (store + organisation), build a vendor emulator app on it, and serve it over HTTP.

The credentials below are fixed test values that only the sandbox accepts; printing them is fine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from reconciler.errors import ConfigError
from reconciler.sandbox.faults import DroppedConnection, FaultInjector, Faults
from reconciler.sandbox.ispring import rest
from reconciler.sandbox.ispring.app import (
    DEFAULT_TOKEN_TTL,
    Client,
    ISpringApp,
    canonical_method,
    method_name,
)
from reconciler.sandbox.org.load import load_org, seed_store
from reconciler.sandbox.org.sync import follow_org, remember_org
from reconciler.sandbox.store import compliance
from reconciler.sandbox.store.database import Store

StartResponse = Callable[..., Any]
WSGIApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Clock = Callable[[], dt.datetime]

SANDBOX_CREDENTIALS: dict[str, dict[str, str]] = {
    "ispring": {
        "client_id": "sandbox-ispring-client",
        "client_secret": "sandbox-ispring-secret",
        "token": "sandbox-ispring-static-token",  # a ready token that never expires (`token_env`)
        "department_admin_client_id": "sandbox-ispring-department-admin",
        "department_admin_client_secret": "sandbox-ispring-department-admin-secret",
    },
    "litmos": {
        "api_key": "sandbox-litmos-api-key",
        "second_api_key": "sandbox-litmos-api-key-2",  # a second key, with its own rate-limit budget
        "source": "enrollctl",
    },
}
VENDORS = ("ispring", "litmos")
log = logging.getLogger("enrollctl.sandbox")


def ispring_clients() -> tuple[Client, ...]:
    """The iSpring API keys the sandbox accepts: an account administrator and a department administrator."""
    creds = SANDBOX_CREDENTIALS["ispring"]
    return (
        Client(creds["client_id"], creds["client_secret"]),
        Client(creds["department_admin_client_id"], creds["department_admin_client_secret"], ()),
    )


def open_sandbox(org_file: str, db_path: str | None = None, *, now: dt.datetime | None = None) -> Store:
    """A store seeded from `org_file`; an existing database at `db_path` is reused (state persists between
    plan and apply), a missing one is created and seeded; None means in memory. Either way it then follows
    the file (org/sync.py): changes since the last run and events due by `now` (default: the real clock)."""
    path = db_path or ":memory:"
    existed = path != ":memory:" and os.path.exists(path)
    if path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    store = Store.open(path)
    if not existed or store.is_empty():
        seed_store(store, load_org(org_file))
        store.set_meta("org_file", os.path.abspath(org_file))
        remember_org(store, org_file)
    change = follow_org(store, org_file, now or dt.datetime.now(dt.UTC))
    if change:
        log.warning("%s", change)
    return store


def build_app(
    vendor: str,
    store: Store,
    faults: Faults | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
) -> WSGIApplication:
    """The WSGI emulator of `vendor` ("ispring" or "litmos") over `store`, wrapped in `faults` if given;
    `sleep` is how the fault middleware waits (latency, slow answers), for tests."""
    if vendor == "ispring":
        app = _ispring_app(store, faults, clock)
    elif vendor == "litmos":
        app = _litmos_app(store, faults, clock)
    else:
        raise ConfigError(f"unknown sandbox vendor {vendor!r}", hint="use ispring or litmos")
    app = _scripted(app, store, clock or (lambda: dt.datetime.now(dt.UTC)))
    if faults is None or not _needs_middleware(faults, vendor):
        return app
    if vendor == "litmos":  # the Litmos app enforces its own per-key limit (see _litmos_app)
        faults = dataclasses.replace(faults, rate_limit_per_minute=None)
    key_of = _ispring_key(store) if vendor == "ispring" else _litmos_key
    action_of = _ispring_action if vendor == "ispring" else _litmos_action
    return FaultInjector(app, faults, store, vendor, key_of, action_of, sleep=sleep)


def _scripted(app: WSGIApplication, store: Store, clock: Clock) -> WSGIApplication:
    """Completions the org file scripts at dates take effect before the first call answered after them."""

    def answer(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # one transaction per request: a write and its request-log line commit together, so a process
        # killed mid-request (the crash tests kill the client, and the in-process emulator with it) leaves
        # either both or neither, never a change the log does not show. A streamed answer reads on after
        # this returns, outside it (reads only).
        with store.transaction():
            compliance.apply_due(store, clock())
            return app(environ, start_response)

    return answer


def _needs_middleware(faults: Faults, vendor: str) -> bool:
    """Token lifetimes and page-token expiry are applied by the apps; the rest by `FaultInjector`."""
    limited = faults.rate_limit_per_minute is not None and vendor == "ispring"
    injected = faults.latency_ms or faults.jitter_ms or faults.drop_rate or faults.truncate_rate
    per_method = (
        faults.drop_rates or faults.drop_after_commit_rates or faults.slow_rates or faults.malformed_rates
    ) or faults.malformed_streaks
    reshaped = faults.renames or faults.forbid_unscoped  # answers the fault switches rewrite or replace
    return bool(injected or per_method or faults.error_rates or faults.burst or limited or reshaped)


def _ispring_app(store: Store, faults: Faults | None, clock: Clock | None) -> WSGIApplication:
    creds = SANDBOX_CREDENTIALS["ispring"]
    ttl = faults.token_ttl_seconds if faults and faults.token_ttl_seconds else DEFAULT_TOKEN_TTL
    return ISpringApp(
        store,
        ispring_clients(),
        clock=clock or (lambda: dt.datetime.now(dt.UTC)),
        token_ttl=ttl,
        page_token_ttl=faults.page_token_ttl if faults else None,
        static_tokens={creds["token"]: creds["client_id"]},
        users_v1=bool(faults and faults.ispring_users_v1),
    )


def _litmos_app(store: Store, faults: Faults | None, clock: Clock | None) -> WSGIApplication:
    # Imported lazily: the Litmos emulator is its own module, built alongside this one.
    litmos = importlib.import_module("reconciler.sandbox.litmos.app")
    limits = importlib.import_module("reconciler.sandbox.litmos.limits")
    creds = SANDBOX_CREDENTIALS["litmos"]
    kwargs: dict[str, Any] = {"api_keys": (creds["api_key"], creds["second_api_key"])}
    if faults is not None and faults.rate_limit_per_minute:
        kwargs["rate_limit"] = limits.RateLimit(faults.rate_limit_per_minute, faults.rate_limit_status)
    elif faults is not None:
        kwargs["rate_limit"] = limits.RateLimit(status=faults.rate_limit_status)
    app: WSGIApplication = litmos.make_litmos_app(store, faults, clock, **kwargs)
    return app


_TOKEN = re.compile(rb"<(?:\w+:)?token>\s*([^<\s]+)\s*</", re.IGNORECASE)
_REQUEST_ELEMENT = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+?)Request\b")


def _ispring_key(store: Store) -> Callable[[Mapping[str, Any], bytes], str]:
    """Rate limits count per API client: the client behind a token, or the client id asking for one."""

    def key_of(environ: Mapping[str, Any], body: bytes) -> str:
        match = _TOKEN.search(body)
        token = (
            match.group(1).decode() if match else str(environ.get("HTTP_AUTHORIZATION", "")).split(" ")[-1]
        )
        issued = store.get_token(token) if token else None
        if issued is not None:
            return issued.client_id
        client = re.search(rb"client_id=([^&]+)", body)
        return client.group(1).decode() if client else token or str(environ.get("REMOTE_ADDR", ""))

    return key_of


def _ispring_action(environ: Mapping[str, Any], body: bytes) -> str:
    path = str(environ.get("PATH_INFO", ""))
    if path.endswith("/token"):
        return "token"
    if rest.is_rest_path(path):
        return rest.operation(path)
    name = method_name(environ.get("HTTP_SOAPACTION"), None)
    if not name:
        match = _REQUEST_ELEMENT.search(body)
        name = match.group(1).decode().lower() if match else ""
    return canonical_method(name)


def _litmos_key(environ: Mapping[str, Any], body: bytes) -> str:
    key = environ.get("HTTP_APIKEY")
    if key:
        return str(key)
    query = re.search(r"(?:^|&)apikey=([^&]*)", str(environ.get("QUERY_STRING", "")), re.IGNORECASE)
    return query.group(1) if query else ""


def _litmos_action(environ: Mapping[str, Any], body: bytes) -> str:
    path = str(environ.get("PATH_INFO", "")).removeprefix("/v1.svc")
    return f"{environ.get('REQUEST_METHOD', 'GET')} {path}"


# --- real HTTP -----------------------------------------------------------------------------------------


class _Handler(WSGIRequestHandler):
    """A request handler that keeps stderr quiet: the store's request log records every call."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def _drop_connections(app: WSGIApplication) -> WSGIApplication:
    """Turn an injected dropped connection into what wsgiref answers by writing nothing and closing."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        except DroppedConnection as dropped:
            # wsgiref's ServerHandler treats ConnectionResetError as "the peer went away": no response
            # is written and the socket is closed, so the client sees a connection closed mid-request.
            raise ConnectionResetError(str(dropped)) from dropped

    return wrapped


class _ThreadingServer(WSGIServer):
    """One thread per connection; threads are daemons so shutdown never waits for a slow client."""

    daemon_threads = True
    allow_reuse_address = True

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_one, args=(request, client_address), daemon=True)
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # dropped or reset client connections are expected under fault injection


class RunningServer:
    """A served emulator: `url`, and `close()` which stops it within a fraction of a second."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self.server, self.thread = server, thread
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=2)


def serve(
    app: WSGIApplication, host: str = "127.0.0.1", port: int = 0, *, poll_interval: float = 0.1
) -> tuple[RunningServer, str]:
    """Serve `app` on a background thread (port 0 = any free port); returns the server and its URL.

    `close()` waits for the serving loop's next poll, up to `poll_interval` seconds (tests that start
    hundreds of servers poll more often)."""
    server = make_server(
        host, port, _drop_connections(app), server_class=_ThreadingServer, handler_class=_Handler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
    )
    thread.start()
    running = RunningServer(server, thread)
    return running, running.url

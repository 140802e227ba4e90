"""Helpers for the bad-input and secret-hygiene suites: a sandbox served over loopback HTTP behind a
middleware that can replace any call's answer, a repository pointed at it by `url:`, and the CLI.

The middleware records every request it sees (method, path, query, SOAP action, headers), so tests can
assert what was sent; the sandbox's own request log says what the emulator answered.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from reconciler.cli.app import Runtime, main
from reconciler.engine.build import sandbox_db_path
from reconciler.sandbox.ispring.app import Client, ISpringApp
from reconciler.sandbox.litmos.app import make_litmos_app
from reconciler.sandbox.litmos.limits import RateLimit
from reconciler.sandbox.serve import open_sandbox, serve
from reconciler.sandbox.store.database import Store
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples"
FIXED_NOW = "2026-11-25T12:00:00+00:00"
ISPRING_WRITES = frozenset({"EnrollLearnersInCourses", "ChangeEnrollment", "Unenroll"})
LITMOS_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})

# The credentials these suites run with: recognisable, so a leak is found by a plain substring search.
CANARY = "SECRET-CANARY-7f3a9"
ISPRING_ENV = {
    "ISPRING_CLIENT_ID": "enrollctl-test-client",  # an identifier, not a secret
    "ISPRING_CLIENT_SECRET": f"{CANARY}-client-secret",
}
ISPRING_TOKEN_ENV = {"ISPRING_TOKEN": f"{CANARY}-static-token"}
LITMOS_ENV = {"LITMOS_API_KEY": f"{CANARY}-api-key"}
ALL_CANARY_ENV = {**ISPRING_ENV, **ISPRING_TOKEN_ENV, **LITMOS_ENV}

Answer = tuple[int, list[tuple[str, str]], bytes]
Rule = Callable[["Seen"], Answer | None]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Seen:
    """One request as it reached the server."""

    method: str
    path: str
    query: str
    action: str  # iSpring: SOAP action or `token`; Litmos: `METHOD /path` without /v1.svc
    headers: Mapping[str, str]
    body: bytes


_REQUEST_ELEMENT = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+?)(?:Request)?\b")


def _action(vendor: str, environ: Mapping[str, Any], body: bytes) -> str:
    path = str(environ.get("PATH_INFO", ""))
    if vendor == "litmos":
        return f"{environ.get('REQUEST_METHOD', 'GET')} {path.removeprefix('/v1.svc')}"
    if path.endswith("/token"):
        return "token"
    soap_action = str(environ.get("HTTP_SOAPACTION", "")).strip('"').rsplit("/", 1)[-1]
    if soap_action:
        return soap_action
    match = _REQUEST_ELEMENT.search(body)
    return match.group(1).decode() if match else path


@dataclass
class Recorder:
    """A WSGI middleware: records every request; the first matching rule replaces the app's answer."""

    app: WsgiApp
    vendor: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")
        }
        seen = Seen(
            str(environ.get("REQUEST_METHOD", "")),
            str(environ.get("PATH_INFO", "")),
            str(environ.get("QUERY_STRING", "")),
            _action(self.vendor, environ, body),
            headers,
            body,
        )
        with self.lock:
            self.seen.append(seen)
        for rule in self.rules:
            answer = rule(seen)
            if answer is not None:
                status, answer_headers, payload = answer
                start_response(f"{status} X", [*answer_headers, ("Content-Length", str(len(payload)))])
                return [payload]
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def replace(pattern: str, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> Rule:
    """A rule: calls whose action matches the glob `pattern` (any case) get this answer instead."""

    def rule(seen: Seen) -> Answer | None:
        if fnmatch.fnmatch(seen.action.lower(), pattern.lower()):
            return status, [("Content-Type", content_type)], body
        return None

    return rule


@dataclass
class Served:
    """A sandbox served over loopback HTTP for one repository."""

    vendor: str
    url: str  # what `url:` in enrollctl.yaml says (Litmos: with /v1.svc)
    recorder: Recorder
    store: Store

    def writes(self) -> list[str]:
        """Write calls the emulator answered (from its request log) or that reached the server at all."""
        logged = [e.action for e in self.store.request_log() if _is_write(self.vendor, e.method, e.action)]
        sent = [s.action for s in self.recorder.seen if _is_write(self.vendor, s.method, s.action)]
        return logged + sent


def _is_write(vendor: str, method: str, action: str) -> bool:
    if vendor == "ispring":
        return action in ISPRING_WRITES
    return method.upper() in LITMOS_WRITE_METHODS


def _app(vendor: str, store: Store) -> WsgiApp:
    """The emulator of `vendor`, accepting the canary credentials (and only those)."""
    if vendor == "ispring":
        client_id = ISPRING_ENV["ISPRING_CLIENT_ID"]
        return ISpringApp(
            store,
            (Client(client_id, ISPRING_ENV["ISPRING_CLIENT_SECRET"]),),
            static_tokens={ISPRING_TOKEN_ENV["ISPRING_TOKEN"]: client_id},
        )
    # no per-minute limit: these suites are about answers, and a run of many commands must not wait
    unlimited = RateLimit(requests_per_minute=1_000_000)
    app: WsgiApp = make_litmos_app(store, api_keys=(LITMOS_ENV["LITMOS_API_KEY"],), rate_limit=unlimited)
    return app


@contextmanager
def served_sandbox(vendor: str, org_file: Path, db: Path) -> Iterator[Served]:
    """Serve the emulator of `vendor` seeded from `org_file` on a free loopback port until the block ends."""
    store = open_sandbox(str(org_file), str(db))
    recorder = Recorder(_app(vendor, store), vendor)
    server, url = serve(recorder, poll_interval=0.01)  # close() within 10 ms
    try:
        yield Served(vendor, f"{url}/v1.svc" if vendor == "litmos" else url, recorder, store)
    finally:
        server.close()
        store.close()


EXAMPLE_OF = {"ispring": ("quickstart", "lms"), "litmos": ("litmos", "academy")}


def url_repository(
    vendor: str, target: Path, url: str, *, token: bool = False, api: str | None = None
) -> Path:
    """A copy of the vendor's example repository whose provider talks to `url` with canary credentials."""
    example, _provider = EXAMPLE_OF[vendor]
    shutil.copytree(EXAMPLES / example, target, ignore=shutil.ignore_patterns(".enrollctl"))
    config = target / "enrollctl.yaml"
    text = config.read_text(encoding="utf-8")
    if vendor == "ispring":
        creds = (
            "token_env: ISPRING_TOKEN"
            if token
            else ("client_id_env: ISPRING_CLIENT_ID\n    client_secret_env: ISPRING_CLIENT_SECRET")
        )
    else:
        creds = "api_key_env: LITMOS_API_KEY"
    if api is not None:
        creds += f"\n    api: {api}"
    text = text.replace("sandbox: sandbox.yaml", f"url: {url}\n    {creds}")
    assert f"url: {url}" in text, f"no `sandbox:` line to replace in {config}"
    config.write_text(text, encoding="utf-8")
    return target


def _no_wait(_seconds: float) -> None:
    return None


# retries and rate limits wait for real seconds; suites about what is said and written, not timing, run
# the CLI with this (`enrollctl(..., runtime=NO_WAIT)`): every wait returns at once
NO_WAIT = Runtime(sleep=_no_wait)


def enrollctl(
    root: Path | None,
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    runtime: Runtime | None = None,
) -> Result:
    """Run the CLI (in-process) with the clock pinned and the canary credentials in the environment."""
    chdir = ["-C", str(root)] if root is not None else []
    environment = {"ENROLLCTL_NOW": FIXED_NOW, **ALL_CANARY_ENV, **(env or {})}
    return CliRunner().invoke(main, [*chdir, *args], env=environment, input=input, obj=runtime)


def assert_clean_failure(result: Result, *needles: str) -> None:
    """Exit 1 with an `Error:` message containing every needle; no traceback, never exit 2."""
    output = result.output
    assert result.exit_code == 1, f"exit {result.exit_code}:\n{output}"
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Error" in output, output
    for needle in needles:
        assert needle.lower() in output.lower(), f"{needle!r} not in:\n{output}"


def environ_without_credentials() -> dict[str, str]:
    """The process environment minus every variable these suites set."""
    return {k: v for k, v in os.environ.items() if k not in ALL_CANARY_ENV}


def copy_example(name: str, target: Path) -> Path:
    """A fresh copy of examples/<name> without any sandbox state."""
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns(".enrollctl"))
    return target


def sandbox_writes(root: Path, provider: str = "lms", vendor: str = "ispring") -> list[str]:
    """Write calls the in-process sandbox of a `sandbox:` repository answered (its request log)."""
    store = open_sandbox(str(root / "sandbox.yaml"), str(sandbox_db_path(root, provider)))
    try:
        return [e.action for e in store.request_log() if _is_write(vendor, e.method, e.action)]
    finally:
        store.close()

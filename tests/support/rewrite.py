"""A WSGI middleware that lets the emulator answer, then rewrites the body of chosen calls.

Misshapen answers are made from the emulator's own answers (an array turned into its first object, a
record element renamed), so every other byte is what the emulator really serves. Works in-process
(httpx.WSGITransport) and over loopback HTTP (`sandbox.serve.serve`).
"""

from __future__ import annotations

import fnmatch
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Rewrite = Callable[[bytes], bytes]


def call_of(environ: dict[str, Any]) -> str:
    """`GET /users` for Litmos (no /v1.svc), the SOAP action for iSpring."""
    soap = str(environ.get("HTTP_SOAPACTION", "")).strip('"')
    if soap:
        return soap
    path = str(environ.get("PATH_INFO", "")).removeprefix("/v1.svc")
    return f"{environ.get('REQUEST_METHOD', 'GET')} {path}"


@dataclass
class BodyRewriter:
    """Rewrites the answers of calls matching a glob (`GET /teams/*/users`, `GetUsers`); counts rewrites."""

    app: WsgiApp
    rules: list[tuple[str, Rewrite]] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        call = call_of(environ)
        rule = next((r for p, r in self.rules if fnmatch.fnmatchcase(call, p)), None)
        if rule is None:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")
        captured: list[Any] = []
        body = b"".join(self.app(environ, lambda status, headers, *exc: captured.extend([status, headers])))
        new = rule(body)
        if new != body:
            self.rewritten.append(call)
        status, headers = captured
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(new)))])
        return [new]


def first_object(body: bytes) -> bytes:
    """A JSON array answer as its first element (an object where a list belongs)."""
    data = json.loads(body)
    return json.dumps(data[0] if data else {"Id": "phantom"}).encode()


def rename_key(old: str, new: str) -> Rewrite:
    """Every JSON key `old` renamed `new` (a field the reader needs, renamed)."""
    return lambda body: body.replace(f'"{old}":'.encode(), f'"{new}":'.encode())


def rename_element(old: str, new: str) -> Rewrite:
    """Every XML element `old` (any prefix) renamed `new`."""
    pattern = re.compile(rb"<(/?)((?:\w+:)?)" + re.escape(old).encode() + rb"([\s>/])")
    return lambda body: pattern.sub(rb"<\1\2" + new.encode() + rb"\3", body)


def replace_text(old: str, new: str) -> Rewrite:
    """A plain substitution in the body."""
    return lambda body: body.replace(old.encode(), new.encode())

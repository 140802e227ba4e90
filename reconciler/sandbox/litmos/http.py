"""Litmos v1.svc HTTP conventions: requests, replies, content negotiation, credentials, paging, routing."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from reconciler.sandbox.litmos.wire import Entity, EntityList, error_document, to_json, to_xml
from reconciler.sandbox.wsgi import read_body

BASE_PATH = "/v1.svc"
# The vendor silently stops /users and /teams at 100 rows when `limit` is missing; inferred: every paged
# list here (rosters, courses, learning paths) behaves the same.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # inferred: clients cap pages at 1000; larger limits are clamped, not refused
MAX_SOURCE_LENGTH = 50


class LitmosError(Exception):
    """An answer other than success: status and the message for the error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> LitmosError:
    """400: the request is malformed."""
    return LitmosError(400, message)


def not_found(message: str) -> LitmosError:
    """404: the addressed user, team, course or learning path does not exist."""
    return LitmosError(404, message)


@dataclass(frozen=True)
class LitmosRequest:
    """One HTTP request as the emulator reads it; query keys are lower-cased (ASP.NET ignores case)."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def api_key(self) -> str:
        """The key from the `apikey` header, or from the query as older docs send it."""
        return self.headers.get("apikey") or self.query.get("apikey", "")

    @property
    def wants_json(self) -> bool:
        """JSON with `format=json` or `Accept: application/json`; XML otherwise (the vendor's default)."""
        requested = self.query.get("format", "").lower()
        if requested:
            return requested == "json"
        return "application/json" in self.headers.get("accept", "").lower()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def flag(self, name: str, default: bool) -> bool:
        """A boolean query parameter such as `sendmessage=false` or `showInactive=false`."""
        raw = self.query.get(name.lower())
        if raw is None or raw == "":
            return default
        return raw.strip().lower() not in ("false", "0", "no")


def request_from_environ(environ: Mapping[str, Any]) -> LitmosRequest:
    """Read method, path, query, headers and body from a WSGI environ."""
    query: dict[str, str] = {}
    for key, value in parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True):
        query.setdefault(key.lower(), value)
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return LitmosRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
        query=query,
        headers=headers,
        body=read_body(environ),
    )


# --- replies -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What a handler answers: a status and an optional document, rendered later in the asked format."""

    status: int = 200
    document: Entity | EntityList | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rendered:
    """A reply as bytes on the wire."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def status_line(self) -> str:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        return f"{self.status} {phrase}"


def render(reply: Reply, as_json: bool) -> Rendered:
    """Serialise a reply; empty bodies (201 on assign, 200 on delete) carry no Content-Type."""
    headers = list(reply.headers)
    body = b""
    if reply.document is not None:
        body = to_json(reply.document) if as_json else to_xml(reply.document)
        kind = "application/json" if as_json else "application/xml"
        headers.append(("Content-Type", f"{kind}; charset=utf-8"))
    headers.append(("Content-Length", str(len(body))))
    return Rendered(reply.status, tuple(headers), body)


def error_reply(error: LitmosError, extra_headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """The reply for a `LitmosError`."""
    return Reply(error.status, error_document(error.message), extra_headers)


# --- credentials and paging --------------------------------------------------------------------------


def check_credentials(request: LitmosRequest, api_keys: Collection[str]) -> None:
    """403 unless the key is known and `source` names the calling application, as the vendor requires."""
    if not request.api_key:
        raise LitmosError(403, "Forbidden: an apikey is required")
    if request.api_key not in api_keys:
        raise LitmosError(403, "Forbidden: the apikey is not valid")
    source = request.query.get("source", "")
    if not source.strip():
        raise LitmosError(403, "Forbidden: the source parameter is required")
    if len(source) > MAX_SOURCE_LENGTH:
        # inferred: the docs limit source to 50 characters but do not say how longer ones fail
        raise LitmosError(403, f"Forbidden: source must be at most {MAX_SOURCE_LENGTH} characters")


def _non_negative(request: LitmosRequest, name: str, default: int) -> int:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if not re.fullmatch(r"\s*\d+\s*", raw):
        raise bad_request(f"{name} must be a non-negative integer, got {raw!r}")  # inferred status
    return int(raw)


def page_bounds(request: LitmosRequest) -> tuple[int, int]:
    """(offset, count) from `start` and `limit`: 100 rows when `limit` is missing, at most 1000."""
    start = _non_negative(request, "start", 0)
    limit = _non_negative(request, "limit", DEFAULT_LIMIT)
    return start, min(limit, MAX_LIMIT)


# --- routing -----------------------------------------------------------------------------------------

Handler = Callable[[LitmosRequest, Mapping[str, str]], Reply]


@dataclass(frozen=True)
class Route:
    """A method and a path pattern such as `users/{user}/courses/{course}`."""

    method: str
    pattern: tuple[str, ...]
    handler: Handler

    @property
    def name(self) -> str:
        """`GET /users/{user}/courses`: the action recorded in the request log."""
        return f"{self.method} /{'/'.join(self.pattern)}"


def route(method: str, pattern: str, handler: Handler) -> Route:
    """Build a route from `"GET", "users/{user}"`."""
    return Route(method, tuple(pattern.strip("/").split("/")), handler)


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{"):
            if not actual:
                return None
            params[expected.strip("{}")] = actual
        elif expected != actual.lower():
            return None
    return params


def path_segments(path: str) -> tuple[str, ...] | None:
    """The segments after `/v1.svc`, or None for a path outside the API."""
    if path.lower().rstrip("/") == BASE_PATH:
        return ()
    if not path.lower().startswith(BASE_PATH + "/"):
        return None
    rest = path[len(BASE_PATH) + 1 :].strip("/")
    return tuple(rest.split("/")) if rest else ()


def resolve(routes: Sequence[Route], request: LitmosRequest) -> tuple[Route, dict[str, str]]:
    """The matching route and its path parameters; 404 for unknown paths, 405 for a wrong method."""
    segments = path_segments(request.path)
    if segments is None or not segments:
        raise not_found(f"no resource at {request.path}")
    allowed = False
    for candidate in routes:
        params = _match(candidate.pattern, segments)
        if params is None:
            continue
        if candidate.method == request.method:
            return candidate, params
        allowed = True
    if allowed:
        raise LitmosError(405, f"{request.method} is not allowed on {request.path}")  # inferred (WCF)
    raise not_found(f"no resource at {request.path}")

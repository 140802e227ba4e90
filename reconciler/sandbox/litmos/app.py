"""The Litmos REST API emulator (`/v1.svc`), a WSGI app over the sandbox store.

Written from the vendor pages (`vendor-docs/litmos-rest-user-assignments.txt`) and vendor-apis.md section 2:
`apikey` header (or query), `source` on every call, XML by default and JSON with `format=json`,
`limit`/`start` paging, 100 requests per minute per key.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from reconciler.sandbox.faults import Faults
from reconciler.sandbox.litmos import reads, writes
from reconciler.sandbox.litmos.http import (
    LitmosError,
    LitmosRequest,
    Rendered,
    Reply,
    Route,
    check_credentials,
    error_reply,
    render,
    request_from_environ,
    resolve,
    route,
)
from reconciler.sandbox.litmos.limits import RateLimit, SlidingWindowLimiter
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import RequestLogEntry

VENDOR = "litmos"
DEFAULT_API_KEYS: tuple[str, ...] = ("sandbox-litmos-api-key",)

Clock = Callable[[], dt.datetime]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
ContextHandler = Callable[[reads.Context, LitmosRequest, Mapping[str, str]], Reply]

# Literal paths come before `{user}` patterns so `POST /users/courses` is the bulk read.
ROUTES: tuple[tuple[str, str, ContextHandler], ...] = (
    ("POST", "users/courses", reads.bulk_user_courses),
    ("GET", "users", reads.list_users),
    ("GET", "users/{user}", reads.get_user),
    ("GET", "users/{user}/courses", reads.list_user_courses),
    ("POST", "users/{user}/courses", writes.assign_courses),
    ("GET", "users/{user}/courses/{course}", reads.get_user_course),
    ("DELETE", "users/{user}/courses/{course}", writes.unassign_course),
    ("PUT", "users/{user}/courses/{course}/reset", writes.reset_course),
    ("GET", "users/{user}/learningpaths", reads.list_user_learning_paths),
    ("POST", "users/{user}/learningpaths", writes.assign_learning_paths),
    ("DELETE", "users/{user}/learningpaths/{path}", writes.unassign_learning_path),
    ("GET", "teams", reads.list_teams),
    ("GET", "teams/{team}", reads.get_team),
    ("GET", "teams/{team}/teams", reads.list_sub_teams),
    ("GET", "teams/{team}/users", reads.list_team_users),
    ("GET", "courses", reads.list_courses),
    ("GET", "courses/{course}", reads.get_course),
    ("GET", "courses/{course}/modules", reads.list_course_modules),
    ("GET", "courses/{course}/users", reads.list_course_users),
    ("GET", "learningpaths", reads.list_learning_paths),
    ("GET", "learningpaths/{path}", reads.get_learning_path),
    ("GET", "learningpaths/{path}/courses", reads.list_learning_path_courses),
    ("GET", "learningpaths/{path}/users", reads.list_learning_path_users),
)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LitmosApp:
    """The emulator: credentials, rate limit, routing, rendering and the request log around each call."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        api_keys: Collection[str],
        rate_limit: RateLimit,
        faults: Faults | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.api_keys = frozenset(api_keys)
        self.limiter = SlidingWindowLimiter(rate_limit)
        settings = faults or Faults()
        self.team_parents_in_json = settings.litmos_team_parents

    def _routes(self, ctx: reads.Context) -> tuple[Route, ...]:
        return tuple(route(m, p, functools.partial(handler, ctx)) for m, p, handler in ROUTES)

    def _throttle(self, request: LitmosRequest, now: dt.datetime) -> None:
        wait = self.limiter.retry_after(request.api_key, now.timestamp())
        if wait is not None:
            limit = self.limiter.limit
            raise _Throttled(limit.status, wait, limit.requests_per_minute)

    def answer(self, request: LitmosRequest) -> tuple[str, Rendered]:
        """The action name and the rendered reply for one request."""
        now = self.clock()
        resolved: tuple[Route, dict[str, str]] | LitmosError
        try:
            ctx = reads.Context(self.store, now, self.team_parents_in_json)
            resolved = resolve(self._routes(ctx), request)
        except LitmosError as unresolved:
            resolved = unresolved
        action = resolved[0].name if isinstance(resolved, tuple) else f"{request.method} {request.path}"
        try:
            # Credentials and the rate limit come first: an unknown path with a bad key is still a 403.
            check_credentials(request, self.api_keys)
            self._throttle(request, now)
            if isinstance(resolved, LitmosError):
                raise resolved
            matched, params = resolved
            reply = matched.handler(request, params)
        except _Throttled as throttled:
            reply = error_reply(throttled, (("Retry-After", str(throttled.retry_after)),))
        except LitmosError as error:
            reply = error_reply(error)
        return action, render(reply, request.wants_json)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request = request_from_environ(environ)
        try:
            action, rendered = self.answer(request)
        except Exception as error:  # a server answers 500; it must not crash
            action = f"{request.method} {request.path}"
            rendered = render(error_reply(LitmosError(500, f"internal error: {type(error).__name__}")), False)
        self._log(request, action, rendered.status, started)
        start_response(rendered.status_line, list(rendered.headers))
        return [rendered.body]

    def _log(self, request: LitmosRequest, action: str, status: int, started: float) -> None:
        entry = RequestLogEntry(
            vendor=VENDOR,
            method=request.method,
            path=request.path,
            action=action,
            status=status,
            duration_ms=(time.perf_counter() - started) * 1000,
            at=self.clock(),
            client=request.query.get("source", "")[:50],  # the application name, never the key
        )
        self.store.log_request(entry)


class _Throttled(LitmosError):
    def __init__(self, status: int, retry_after: int, per_minute: int) -> None:
        super().__init__(status, f"Rate limit exceeded: {per_minute} requests per minute")
        self.retry_after = retry_after


def make_litmos_app(
    store: Store,
    faults: Faults | None = None,
    clock: Clock | None = None,
    *,
    api_keys: Collection[str] = DEFAULT_API_KEYS,
    rate_limit: RateLimit | None = None,
) -> WSGIApp:
    """The Litmos `/v1.svc` emulator as a WSGI app over `store`.

    The per-key rate limit is the app's own (`rate_limit`, else the switches in `faults`, else 100 per
    minute with 503), and so is `litmos_team_parents` (`ParentTeamId` in JSON rows); the other fault
    switches are applied around the app by `serve.build_app`.
    """
    if rate_limit is None:
        rate_limit = _rate_limit_from(faults)
    return LitmosApp(store, clock or _utc_now, api_keys, rate_limit, faults)


def _rate_limit_from(faults: Faults | None) -> RateLimit:
    if faults is None:
        return RateLimit()
    per_minute = faults.rate_limit_per_minute or RateLimit().requests_per_minute
    return RateLimit(per_minute, faults.rate_limit_status)

"""The clocks of a fault lab: the client's fake time, and the LMS's wall clock with its jumps.

The LMS's clock jumps either at random (seeded, `jump_rate` per reading: the soak's slow day) or exactly
where a test says (`ClockJumps` in front of the vendor app: the first request with each key of a rule),
so a case that must meet an expired token meets it on every run, whatever the plan's size or the order in
which concurrent requests read the clock.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

BASE = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FakeTime:
    """The client's clock: sleeping advances it at once, so waits cost nothing but are still counted."""

    def __init__(self) -> None:
        self.now_seconds = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now_seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_seconds += max(0.0, seconds)


class ServerClock:
    """The LMS's wall clock: follows the client's fake time, plus jumps (a slow day on its side): seeded
    random ones (`jump_rate` per reading), or exactly where a test puts them (`jump`)."""

    def __init__(self, time: FakeTime, *, jump_seconds: float = 0.0, jump_rate: float = 0.0, seed: int = 0):
        self.time, self.jump_seconds, self.jump_rate = time, jump_seconds, jump_rate
        self.skew = 0.0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            if self.jump_rate and self._rng.random() < self.jump_rate:
                self.skew += self.jump_seconds
            return BASE + dt.timedelta(seconds=self.time.now_seconds + self.skew)

    def jump(self) -> None:
        """Move the LMS's clock `jump_seconds` ahead, now."""
        with self._lock:
            self.skew += self.jump_seconds


# Which requests make the LMS's clock jump: a request's key (or None); the first request with each key does.
JumpRule = Callable[[dict[str, Any], bytes], str | None]
_SOAP_PAGE_TOKEN = re.compile(rb"<(?:\w+:)?pageToken>[^<]")
_ID_SEGMENT = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27,}")


def _call_name(environ: dict[str, Any]) -> str:
    """`ListUsers` (SOAP action) or `GET /users`, `POST /enrollment/{id}` (REST, ids folded)."""
    action = str(environ.get("HTTP_SOAPACTION", "")).strip('"').rsplit("/", 1)[-1]
    path = _ID_SEGMENT.sub("/{id}", str(environ.get("PATH_INFO", "")))
    return action or f"{environ.get('REQUEST_METHOD', 'GET')} {path}"


def first_continuation_of_each_listing(environ: dict[str, Any], body: bytes) -> str | None:
    """A page asked for by page token (REST query or SOAP element): the listing it continues."""
    query = str(environ.get("QUERY_STRING", ""))
    continued = re.search(r"(?:^|&)pageToken=[^&]", query) or _SOAP_PAGE_TOKEN.search(body)
    return _call_name(environ) if continued else None


def first_use_of_each_call(environ: dict[str, Any], body: bytes) -> str | None:
    """Every call but the token request itself, by name."""
    return None if str(environ.get("PATH_INFO", "")).endswith("/token") else _call_name(environ)


class ClockJumps:
    """In front of the vendor app: the first request with each key (`rule`) makes the LMS's clock jump."""

    def __init__(self, app: WSGIApp, clock: ServerClock, rule: JumpRule) -> None:
        self.app, self.clock, self.rule = app, clock, rule
        self.jumped: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = Body(body)
        key = self.rule(environ, body)
        with self._lock:
            if key is not None and key not in self.jumped:
                self.jumped.append(key)
                self.clock.jump()
        return self.app(environ, start_response)


class Body:
    """A request body read once, readable again by the app behind."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._at + size
        chunk, self._at = self._data[self._at : end], min(end, len(self._data))
        return chunk

"""Bounds on one vendor exchange: how many bytes an answer may have, how long a request and a run may take,
and which URLs a secret may be sent to.

A response is read as a stream and counted while it arrives (decoded bytes and bytes on the wire), so an
endless body or a compression bomb fails at the cap instead of filling memory. A request has a wall-clock
deadline that covers connecting, sending and every chunk of the answer, not only the time between reads; a
run may have one more (`--timeout`), set once by the CLI for the whole process.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.errors import ConfigError

log = logging.getLogger("enrollctl.http")

MAX_RESPONSE_BYTES = (
    64 * 1024 * 1024
)  # one answer, decoded; the largest real page is ~0.5 MB (PERFORMANCE.md)
# iSpring SOAP GetUsers is not paged (vendor-docs/ispring-soap-GetUsers.txt): every profile comes in one
# answer, about 735 bytes a user in the vendor's sample shape (79 MB at 100,000 users, over the cap above).
# Its own cap, 256 MiB (safexml's parse limit too), is about 350,000 users; the parsed answer needs about 7
# times its size in memory while its users are read (PERFORMANCE.md). Larger accounts: the REST API pages.
MAX_USER_LIST_BYTES = 256 * 1024 * 1024
REQUEST_DEADLINE = 120.0  # seconds for one request: connect, send, and the whole answer
MAX_RETRY_AFTER = 60.0  # a server asking for a longer pause fails the call instead
ANNOUNCE_WAIT = 10.0  # waits longer than this are printed before they start
# pages of one list: at the vendors' page sizes (100-1,000) that is 1-10 million rows, beyond any real
# account; a list that keeps going (fresh page tokens, new rows on every page) is a broken or hostile server
MAX_LIST_PAGES = 10_000


def too_many_pages(pages: int) -> str:
    """The message for a list that did not end within MAX_LIST_PAGES pages."""
    return f"the list did not end after {pages:,} pages (limit {MAX_LIST_PAGES:,}): the server keeps paging"


Clock = Callable[[], float]


class BodyTooLarge(Exception):
    """An answer grew past the cap while it was read; `size` is how far it got."""

    def __init__(self, size: int, cap: int, *, wire: bool) -> None:
        super().__init__(f"{'on the wire ' if wire else ''}over {cap:,} bytes")
        self.size, self.cap, self.wire = size, cap, wire


class DeadlineExceeded(Exception):
    """A request or the run ran out of wall-clock time; `limit` says which limit, e.g. `the 120 s request
    deadline`."""

    def __init__(self, limit: str, *, sent: bool) -> None:
        super().__init__(limit)
        self.limit, self.sent = limit, sent


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time and the words that name it in an error."""

    at: float
    name: str

    def remaining(self, clock: Clock = time.monotonic) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.at - clock())


# --- the run deadline (`enrollctl --timeout`) -------------------------------------------------------------

_run: Deadline | None = None


def set_run_timeout(seconds: float | None, *, clock: Clock = time.monotonic) -> Callable[[], None]:
    """Start the run's deadline (None: no run deadline); returns the function that lifts it again."""
    global _run
    previous = _run
    _run = None if seconds is None else Deadline(clock() + seconds, f"the run timeout --timeout {seconds:g}s")

    def restore() -> None:
        global _run
        _run = previous

    return restore


def run_deadline() -> Deadline | None:
    """The run's deadline, if the CLI set one."""
    return _run


def earliest(request_seconds: float, clock: Clock = time.monotonic) -> Deadline:
    """The deadline of a request starting now: its own, or the run's if that comes first."""
    own = Deadline(clock() + request_seconds, f"the {request_seconds:g} s request deadline")
    run = _run
    return run if run is not None and run.at < own.at else own


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in `90`, `90s`, `1.5m`, `2h` or `500ms`; ValueError otherwise."""
    match = _DURATION.match(text)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"{text!r} is not a duration like 90s, 5m or 1h")
    return float(match[1]) * _UNIT[match[2] or "s"]


# --- reading an answer within its bounds ------------------------------------------------------------------


def phase_timeouts(base: httpx.Timeout, deadline: Deadline, clock: Clock = time.monotonic) -> httpx.Timeout:
    """httpx's per-operation timeouts from `base`, none longer than what is left of `deadline`."""
    left = max(deadline.remaining(clock), 0.001)

    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cap(base.connect), read=cap(base.read), write=cap(base.write), pool=cap(base.pool)
    )


def fetch(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    deadline: Deadline,
    max_bytes: int = MAX_RESPONSE_BYTES,
    timeout: httpx.Timeout | None = None,
    clock: Clock = time.monotonic,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request and read its answer within `deadline` and `max_bytes`, as a buffered response.

    Raises `BodyTooLarge`, `DeadlineExceeded` or httpx's own errors. The response returned holds the decoded
    body (its `Content-Encoding` header is dropped, since the body is no longer encoded).
    """
    if deadline.remaining(clock) <= 0:
        raise DeadlineExceeded(deadline.name, sent=False)
    limits = phase_timeouts(timeout if timeout is not None else client.timeout, deadline, clock)
    try:
        with client.stream(method, url, timeout=limits, **kwargs) as response:
            body = _read_body(response, deadline, max_bytes, clock)
    except httpx.TimeoutException as exc:
        if deadline.remaining(clock) <= 0:
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise DeadlineExceeded(deadline.name, sent=sent) from None
        raise
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)


def _read_body(response: httpx.Response, deadline: Deadline, max_bytes: int, clock: Clock) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(size, max_bytes, wire=False)
        if response.num_bytes_downloaded > max_bytes:  # a body that decodes to (almost) nothing
            raise BodyTooLarge(response.num_bytes_downloaded, max_bytes, wire=True)
        left = deadline.remaining(clock)
        if left <= 0:
            raise DeadlineExceeded(deadline.name, sent=True)
        _shorten_next_read(response, left)
        chunks.append(chunk)
    if deadline.remaining(clock) <= 0:
        raise DeadlineExceeded(deadline.name, sent=True)
    return b"".join(chunks)


def _shorten_next_read(response: httpx.Response, left: float) -> None:
    """Let the next read wait no longer than the deadline allows.

    httpcore looks the read timeout up in the request's `timeout` extension before every read, so lowering
    it here bounds a server that sends one byte and then falls silent. Without that (another transport), the
    deadline is still checked after every chunk, and a read never waits longer than it was given at the start.
    """
    timeouts = response.request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        current = timeouts.get("read")
        timeouts["read"] = left if current is None else min(float(current), left)


# --- where a secret may be sent ---------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: a request to them never leaves this machine."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecure_url_problem(url: str) -> str | None:
    """Why sending credentials to `url` would expose them (plain http to another host), or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return None  # not a URL at all: the URL checks report it
    if parts.scheme.lower() != "http" or is_loopback(host):
        return None
    return f"refusing plain http:// to {parts.hostname}: the credentials would cross the network unencrypted"


def check_url(url: str, *, provider: str, insecure_http: bool) -> None:
    """Refuse plain http to a non-loopback host unless the provider opted in; warn when it did."""
    problem = insecure_url_problem(url)
    if problem is None:
        return
    if not insecure_http:
        raise ConfigError(
            f"provider {provider!r}: {problem}",
            hint="use https://, or set `insecure_http: true` on the provider if you accept that",
        )
    log.warning(
        "provider %r uses plain http:// to %s (insecure_http: true): credentials and data are not encrypted",
        provider,
        urlsplit(url).hostname,
    )

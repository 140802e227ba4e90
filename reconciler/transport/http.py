"""Shared HTTP plumbing for every provider: retries, rate limiting, redaction, call counting.

One `VendorClient` wraps the run's single `httpx.Client`. It retries only what is safe to retry: a request
that never reached the server, a throttled one (429/503, after `Retry-After`), and a failed idempotent read.
A non-idempotent write whose request may have reached the server is never sent twice blindly: it raises
`WriteOutcomeUnknown`, and the provider reports the outcome as unknown so apply reads back.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from reconciler.errors import AuthError, PermissionDenied, ProviderError, RateLimited
from reconciler.transport.redact import Redactor, protect_third_party_logs

log = logging.getLogger("enrollctl.http")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
THROTTLED = frozenset({429, 503})
# the request never left this machine: always safe to send again
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# the request may have reached the server: only idempotent calls may be sent again
MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

Sleep = Callable[[float], None]
Clock = Callable[[], float]
WallClock = Callable[[], dt.datetime]
Answer = Callable[[httpx.Response], bool]


class WriteOutcomeUnknown(ProviderError):
    """A write may or may not have been applied (connection lost after sending, 5xx); read back to know."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; `attempts` counts the first try."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0  # a vendor asking to wait longer than this ends the run instead


def make_client(base_url: str, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, **kwargs: Any) -> httpx.Client:
    """The one `httpx.Client` of a run (pass `transport=` to talk to an in-process sandbox)."""
    return httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False, **kwargs)


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with full jitter for retry number `attempt` (1-based)."""
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return rng.uniform(0, ceiling)


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class RateLimiter:
    """At most `requests_per_minute` requests in any 60-second window (sliding window over send times)."""

    WINDOW = 60.0

    def __init__(
        self, requests_per_minute: int | None, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        if requests_per_minute is not None and requests_per_minute < 1:
            raise ValueError("requests_per_minute must be at least 1")
        self.requests_per_minute = requests_per_minute
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def acquire(self) -> float:
        """Wait until one more request fits the window, record it, and return the seconds waited."""
        if self.requests_per_minute is None:
            return 0.0
        now = self._clock()
        while self._sent and self._sent[0] + self.WINDOW <= now:
            self._sent.popleft()
        if len(self._sent) < self.requests_per_minute:
            self._sent.append(now)
            return 0.0
        oldest = self._sent.popleft()
        pause = oldest + self.WINDOW - now
        self._sleep(pause)
        # record the slot at the window's end even if float rounding left the clock a hair short of it
        self._sent.append(max(self._clock(), oldest + self.WINDOW))
        return pause


@dataclass
class CallStats:
    """Requests sent per call type (every attempt counts), and how many of them were retries."""

    calls: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    throttled_seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        """Start counting from zero (e.g. between the read and the write phase)."""
        self.calls.clear()
        self.retries.clear()
        self.throttled_seconds = 0.0


class VendorClient:
    """One provider's view of the run's HTTP client: retries, rate limit, redaction and counting."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        provider: str,
        redactor: Redactor | None = None,
        retry: RetryPolicy = RetryPolicy(),
        limiter: RateLimiter | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Sleep = time.sleep,
        now: WallClock = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
        log_bodies: bool = False,
    ) -> None:
        self.client = client
        self.provider = provider
        self.redactor = redactor if redactor is not None else Redactor()
        protect_third_party_logs(self.redactor)
        self.retry = retry
        self.limiter = limiter if limiter is not None else RateLimiter(None)
        self.timeout = timeout
        self.stats = CallStats()
        self.log_bodies = log_bodies
        self._sleep = sleep
        self._now = now
        self._rng = rng if rng is not None else random.Random()  # jitter, not crypto

    @property
    def base_url(self) -> str:
        return str(self.client.base_url)

    def request(
        self,
        method: str,
        url: str,
        *,
        call: str,
        idempotent: bool,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        answer: Answer | None = None,
    ) -> httpx.Response:
        """Send one logical call, retrying what is safe; return the response or raise a `ProviderError`.

        Responses with status < 500 (other than 429) are returned for the provider to interpret, and so is
        any response `answer` recognises as the vendor's definitive reply (e.g. a SOAP fault sent with 500).
        """
        body = content if content is not None else (urlencode(data).encode() if data else b"")
        for attempt in range(1, self.retry.attempts + 1):
            self.stats.throttled_seconds += self.limiter.acquire()
            self.stats.calls[call] += 1
            self._log_request(method, url, call, attempt, body)
            started = time.perf_counter()
            try:
                response = self.client.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    content=content,
                    data=data,
                    json=json,
                    timeout=self.timeout if self.timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.HTTPError as exc:
                failure = self._transport_failure(exc, call, idempotent)
                if not failure.retryable or attempt == self.retry.attempts:
                    raise failure from None
                delay = backoff_delay(attempt, self.retry, self._rng)
            else:
                self._log_response(response, call, time.perf_counter() - started)
                delay_or_none = self._retry_delay(response, call, idempotent, attempt, answer)
                if delay_or_none is None:
                    return response
                delay = delay_or_none
            self.stats.retries[call] += 1
            log.info("%s %s: retrying in %.1fs (attempt %d)", self.provider, call, delay, attempt + 1)
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _retry_delay(
        self, response: httpx.Response, call: str, idempotent: bool, attempt: int, answer: Answer | None
    ) -> float | None:
        """None to return `response`; seconds to wait before the next attempt; or raise when out of tries."""
        status = response.status_code
        if answer is not None and answer(response):
            return None
        last = attempt == self.retry.attempts
        if status in THROTTLED:
            # throttled requests were refused, not processed: retrying is safe even for writes
            wait = parse_retry_after(response.headers.get("Retry-After"), self._now())
            if wait is not None and wait > self.retry.max_retry_after:
                raise self.error(
                    RateLimited,
                    f"vendor asks to wait {wait:.0f}s",
                    call=call,
                    status=status,
                    retryable=True,
                    hint="try again later or lower requests_per_minute",
                )
            if last:
                raise self.error(
                    RateLimited,
                    f"still throttled after {attempt} attempts",
                    call=call,
                    status=status,
                    retryable=True,
                    hint="try again later or lower requests_per_minute",
                )
            return wait if wait is not None else backoff_delay(attempt, self.retry, self._rng)
        if status < 500:
            return None
        excerpt = self.redactor.bytes(response.content, limit=200)
        if not idempotent:
            raise self.error(
                WriteOutcomeUnknown,
                f"server error after sending a write: {excerpt}",
                call=call,
                status=status,
                hint="the change may or may not have been made; read back",
            )
        if last:
            raise self.error(
                ProviderError, f"server error: {excerpt}", call=call, status=status, retryable=True
            )
        return backoff_delay(attempt, self.retry, self._rng)

    def _transport_failure(self, exc: httpx.HTTPError, call: str, idempotent: bool) -> ProviderError:
        """Map a transport exception to a ProviderError that says whether sending again is safe."""
        what = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, NOT_SENT):
            return self.error(
                ProviderError,
                f"cannot connect ({what})",
                call=call,
                retryable=True,
                hint=f"check the provider URL {self.base_url}",
            )
        if isinstance(exc, MAYBE_SENT):
            if idempotent:
                return self.error(ProviderError, f"connection lost ({what})", call=call, retryable=True)
            return self.error(
                WriteOutcomeUnknown,
                f"connection lost after sending a write ({what})",
                call=call,
                hint="the change may or may not have been made; read back",
            )
        return self.error(ProviderError, f"HTTP failure ({what})", call=call)

    def error(
        self,
        cls: type[ProviderError],
        message: str,
        *,
        call: str,
        status: int | None = None,
        retryable: bool = False,
        hint: str = "",
    ) -> ProviderError:
        """Build a provider error whose message and hint are redacted."""
        return cls(
            self.redactor(message),
            provider=self.provider,
            call=call,
            status=status,
            retryable=retryable,
            hint=self.redactor(hint),
        )

    def raise_for_status(self, response: httpx.Response, *, call: str) -> None:
        """Raise the narrowest error for a 4xx/5xx response (for REST vendors); return on success."""
        status = response.status_code
        if status < 400:
            return
        excerpt = self.redactor.bytes(response.content, limit=300)
        cls: type[ProviderError] = ProviderError
        if status == 401:
            cls = AuthError
        elif status == 403:
            cls = PermissionDenied
        elif status in THROTTLED:
            cls = RateLimited
        raise self.error(
            cls,
            excerpt or response.reason_phrase,
            call=call,
            status=status,
            retryable=status in THROTTLED or status >= 500,
        )

    def _log_request(self, method: str, url: str, call: str, attempt: int, body: bytes) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        log.debug("%s", self.redactor(f"{self.provider} {call} -> {method} {url} (attempt {attempt})"))
        if self.log_bodies and body:
            log.debug("%s", f"{self.provider} {call} request body: {self.redactor.bytes(body)}")

    def _log_response(self, response: httpx.Response, call: str, seconds: float) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        size = len(response.content)
        log.debug(
            "%s",
            self.redactor(
                f"{self.provider} {call} <- {response.status_code} {size} bytes in {seconds * 1000:.0f} ms"
            ),
        )
        if self.log_bodies:
            log.debug("%s", f"{self.provider} {call} response body: {self.redactor.bytes(response.content)}")

    def close(self) -> None:
        """Close the underlying client (the run owns it; call once at the end)."""
        self.client.close()

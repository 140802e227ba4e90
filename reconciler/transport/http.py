"""Shared HTTP plumbing for every provider: retries, rate limiting, redaction, call counting.

One `VendorClient` wraps the run's single `httpx.Client`. It retries only what is safe to retry: a request
that never reached the server, a throttled one (429/503, after `Retry-After`), and a failed idempotent read.
A non-idempotent write whose request may have reached the server is never sent twice blindly: it raises
`WriteOutcomeUnknown`, and the provider reports the outcome as unknown so apply reads back.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from reconciler.errors import ProtocolError, ProviderError, RateLimited
from reconciler.transport.bounds import (
    ANNOUNCE_WAIT,
    MAX_RESPONSE_BYTES,
    REQUEST_DEADLINE,
    BodyTooLarge,
    DeadlineExceeded,
    check_url,
    earliest,
    fetch,
    run_deadline,
)
from reconciler.transport.failures import (
    THROTTLED,
    AnswerTooLarge,
    WriteOutcomeUnknown,
    bound_failure,
    error_class,
    transport_failure,
)
from reconciler.transport.pacing import RateLimiter, RetryPolicy, Sleep, backoff_delay, parse_retry_after
from reconciler.transport.redact import Redactor, protect_third_party_logs
from reconciler.transport.stats import CallStats, log_request, log_response
from reconciler.transport.terminal import VENDOR_EXCERPT

log = logging.getLogger("enrollctl.http")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
WallClock = Callable[[], dt.datetime]
Answer = Callable[[httpx.Response], bool]
T = TypeVar("T")
MALFORMED_READ_ATTEMPTS = 4  # rounds of a read whose answer cannot be parsed (or kept failing)


__all__ = [  # the pacing names were defined here before; providers still import them from here
    "AnswerTooLarge",
    "RateLimiter",
    "RetryPolicy",
    "Sleep",
    "VendorClient",
    "WriteOutcomeUnknown",
    "backoff_delay",
    "error_class",
    "make_client",
    "parse_retry_after",
]
DEFAULT_RETRY = RetryPolicy()


def make_client(
    base_url: str,
    *,
    provider: str = "",
    insecure_http: bool = False,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    **kwargs: Any,
) -> httpx.Client:
    """The one `httpx.Client` of a provider; refuses plain http to a non-loopback host before connecting."""
    check_url(base_url, provider=provider, insecure_http=insecure_http)
    kwargs.setdefault("verify", _tls_context())
    return httpx.Client(base_url=base_url, timeout=timeout, follow_redirects=False, **kwargs)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR), made once per
    process: loading the CA store costs 20-40 ms, and each provider and GitHub client would load it again."""
    return httpx.create_ssl_context()


class VendorClient:
    """One provider's view of the run's HTTP client: retries, rate limit, redaction and counting."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        provider: str,
        redactor: Redactor | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        limiter: RateLimiter | None = None,
        timeout: httpx.Timeout | None = None,
        deadline: float = REQUEST_DEADLINE,
        max_bytes: int = MAX_RESPONSE_BYTES,
        sleep: Sleep = time.sleep,
        now: WallClock = lambda: dt.datetime.now(dt.UTC),
        rng: random.Random | None = None,
        log_bodies: bool = False,
        message_of: Callable[[httpx.Response], str] | None = None,
    ) -> None:
        self.client = client
        self.provider = provider
        self.redactor = redactor if redactor is not None else Redactor()
        protect_third_party_logs(self.redactor)
        self.retry = retry
        self.limiter = limiter if limiter is not None else RateLimiter(None)
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.stats = CallStats()
        self.log_bodies = log_bodies
        self.message_of = message_of  # the vendor's reading of an error answer (its `Detail`); else the body
        self._sleep = sleep
        self._now = now
        self._rng = rng if rng is not None else random.Random()  # jitter, not crypto
        self._throttled = False  # a 429/503 came: calls go one at a time until the throttled ones pass
        self._serial = threading.Lock()
        self._calls = threading.Condition()  # guards _in_flight, the requests on the wire right now
        self._in_flight = 0
        self._queued = 0  # throttled calls waiting for their turn at `_serial`

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
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send one logical call, retrying what is safe; return the response or raise a `ProviderError`.

        Responses with status < 500 (other than 429) are returned for the provider to interpret, and so is
        any response `answer` recognises as the vendor's definitive reply (e.g. a SOAP fault sent with 500).
        `max_bytes` replaces the client's answer cap for this call (an unpaged list, with its own bound).
        """
        body = content if content is not None else (urlencode(data).encode() if data else b"")
        request = {"params": params, "headers": headers, "content": content, "data": data, "json": json}
        # once the vendor throttles, calls go one at a time: a throttled call holds `_serial` through its
        # waits and retries until it passes, so concurrent writers back off together
        held = False
        try:
            for attempt in range(1, self.retry.attempts + 1):
                held = self._enter(held)
                try:
                    outcome = self._attempt(
                        method, url, call, idempotent, attempt, body, answer, request, max_bytes
                    )
                finally:
                    with self._calls:
                        self._in_flight -= 1
                        self._calls.notify_all()
                if isinstance(outcome, httpx.Response):
                    if held:  # the gate opens once no other throttled call is still queued for its turn
                        with self._calls:
                            self._throttled = self._queued > 0
                    return outcome
                delay, throttled = outcome
                if throttled and not held:
                    held = self._hold()
                self.stats.count(call, retry=True)
                self._wait(delay, call, attempt)
        finally:
            if held:
                self._serial.release()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _enter(self, held: bool) -> bool:
        """Put this call on the wire; once throttled, only the holder of `_serial` sends, and alone. The
        check and the count are one step, so no call slips onto the wire between a throttled call's turns."""
        if not held:
            with self._calls:
                if not self._throttled:
                    self._in_flight += 1
                    return False
            held = self._hold()
        with self._calls:  # calls sent before the throttling finish first; then this one goes alone
            self._calls.wait_for(lambda: self._in_flight == 0)
            self._in_flight += 1
        return held

    def _hold(self) -> bool:
        """Close the gate and queue for `_serial`: throttled calls then retry one at a time."""
        with self._calls:
            self._throttled = True
            self._queued += 1
        self._serial.acquire()
        with self._calls:
            self._queued -= 1
        return True

    def _attempt(
        self,
        method: str,
        url: str,
        call: str,
        idempotent: bool,
        attempt: int,
        body: bytes,
        answer: Answer | None,
        request: Mapping[str, Any],
        max_bytes: int | None = None,
    ) -> httpx.Response | tuple[float, bool]:
        """Send once: the response to return, or (seconds to wait, throttled?) before the next attempt."""
        self.stats.waited(self.limiter.acquire())
        self.stats.count(call)
        log_request(self, method, url, call, attempt, body)
        started = time.perf_counter()
        try:
            response = fetch(
                self.client,
                method,
                url,
                deadline=earliest(self.deadline),
                max_bytes=self.max_bytes if max_bytes is None else max_bytes,
                timeout=self.timeout,
                **request,
            )
        except (BodyTooLarge, DeadlineExceeded) as exc:
            raise bound_failure(self, exc, call, idempotent) from None
        except httpx.HTTPError as exc:
            failure = transport_failure(self, exc, call, idempotent)
            if not failure.retryable or attempt == self.retry.attempts:
                raise failure from None
            return backoff_delay(attempt, self.retry, self._rng), False
        log_response(self, response, call, time.perf_counter() - started)
        delay = self._retry_delay(response, call, idempotent, attempt, answer)
        return response if delay is None else (delay, response.status_code in THROTTLED)

    def read_parsed(self, read: Callable[[], T], *, call: str) -> T:
        """Run `read` (an idempotent call and the parsing of its answer); an unparsable answer is read again.

        Reads change nothing, so a garbled answer or server errors past the request's own retries are tried
        again with backoff, MALFORMED_READ_ATTEMPTS rounds at most (never an over-size answer, never a write).
        """
        for attempt in range(1, MALFORMED_READ_ATTEMPTS + 1):
            try:
                return read()
            except ProviderError as error:
                garbled = isinstance(error, ProtocolError) and not isinstance(error, AnswerTooLarge)
                server_error = (
                    (error.status or 0) >= 500 and error.retryable and not isinstance(error, RateLimited)
                )
                if not (garbled or server_error) or attempt == MALFORMED_READ_ATTEMPTS:
                    raise
                log.info(
                    "%s %s: %s, reading again",
                    self.provider,
                    call,
                    "unreadable answer" if garbled else "server error",
                )
            self.stats.count(call, retry=True)
            self._wait(backoff_delay(attempt, self.retry, self._rng), call, attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, delay: float, call: str, attempt: int) -> None:
        """Pause before retrying; a long pause is announced, one past the run's deadline is refused."""
        run = run_deadline()
        if run is not None and delay >= run.remaining():
            raise self.error(
                ProviderError,
                f"a retry would have to wait {delay:.0f} s, past {run.name}",
                call=call,
                retryable=True,
                hint="try again later",
            )
        if delay > ANNOUNCE_WAIT:
            log.warning(
                "%s %s: waiting %.0f s before retrying (attempt %d)", self.provider, call, delay, attempt + 1
            )
        else:
            log.info("%s %s: retrying in %.1fs (attempt %d)", self.provider, call, delay, attempt + 1)
        self._sleep(delay)

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
                asked = self.redactor(response.headers.get("Retry-After", ""))[:40]
                raise self.error(
                    RateLimited,
                    f"the server asked to wait {wait:.0f} s before trying again (Retry-After: {asked}); "
                    f"enrollctl waits at most {self.retry.max_retry_after:.0f} s",
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
        if 300 <= status < 400 and status != 304:
            location = self.redactor.bytes(
                response.headers.get("Location", "").encode(), limit=VENDOR_EXCERPT
            )
            raise self.error(
                ProviderError,
                f"the server redirects to {location or '(no Location given)'}; redirects are not followed",
                call=call,
                status=status,
                hint="if that is the vendor's address, put it in the provider's `url:` in enrollctl.yaml",
            )
        if status < 500:
            return None
        excerpt = self.said(response)
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

    def said(self, response: httpx.Response) -> str:
        """What the server said in an error answer, redacted and short: `message_of` it, else its body."""
        if self.message_of is None:
            return self.redactor.bytes(response.content, limit=VENDOR_EXCERPT)
        return self.redactor.excerpt(self.message_of(response), VENDOR_EXCERPT)

    def raise_for_status(self, response: httpx.Response, *, call: str) -> None:
        """Raise the narrowest error for a 4xx/5xx response (for REST vendors); return on success."""
        status = response.status_code
        if status < 400:
            return
        excerpt = self.said(response)
        raise self.error(
            error_class(status),
            excerpt or response.reason_phrase,
            call=call,
            status=status,
            retryable=status in THROTTLED or status >= 500,
        )

    def close(self) -> None:
        """Close the underlying client (the run owns it; call once at the end)."""
        self.client.close()

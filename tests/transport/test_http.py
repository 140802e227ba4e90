"""The shared HTTP plumbing: what is retried, how long it waits, what it counts and what it never logs."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.errors import AuthError, PermissionDenied, ProviderError, RateLimited
from reconciler.transport.http import (
    RateLimiter,
    RetryPolicy,
    VendorClient,
    WriteOutcomeUnknown,
    backoff_delay,
    parse_retry_after,
)
from reconciler.transport.redact import Redactor

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
SECRET = "s3cr3t-FAKE-client-secret/+="

Step = httpx.Response | Exception


def scripted(steps: list[Step]) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose server answers with `steps` in order (an exception = that transport failure)."""
    seen: list[httpx.Request] = []
    queue: Iterator[Step] = iter(steps)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = next(queue)
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="https://lms.example"), seen


def vendor(
    steps: list[Step], *, attempts: int = 4, **kwargs: object
) -> tuple[VendorClient, list[float], list[httpx.Request]]:
    client, seen = scripted(steps)
    sleeps: list[float] = []
    http = VendorClient(
        client,
        provider="lms",
        retry=RetryPolicy(attempts=attempts),
        sleep=sleeps.append,
        now=lambda: NOW,
        rng=random.Random(7),
        redactor=Redactor([SECRET]),
        **kwargs,  # type: ignore[arg-type]
    )
    return http, sleeps, seen


def read(http: VendorClient) -> httpx.Response:
    return http.request("GET", "/users", call="users", idempotent=True)


def write(http: VendorClient) -> httpx.Response:
    return http.request("POST", "/enroll", call="enroll", idempotent=False, content=b"<x/>")


# --- retries ---------------------------------------------------------------------------------------------


def test_throttled_read_waits_the_retry_after_seconds_then_succeeds() -> None:
    http, sleeps, _ = vendor([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)])
    assert read(http).status_code == 200
    assert sleeps == [7.0]
    assert http.stats.calls["users"] == 2 and http.stats.retries["users"] == 1


def test_retry_after_as_http_date_waits_until_that_moment() -> None:
    when = "Wed, 25 Nov 2026 12:00:30 GMT"
    http, sleeps, _ = vendor([httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200)])
    assert read(http).status_code == 200
    assert sleeps == [30.0]


def test_throttled_write_is_retried_because_the_vendor_refused_it() -> None:
    http, sleeps, seen = vendor([httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200)])
    assert write(http).status_code == 200
    assert len(seen) == 2 and sleeps == [1.0]


def test_throttling_that_outlasts_the_retries_raises_rate_limited() -> None:
    http, _, seen = vendor([httpx.Response(429)] * 3, attempts=3)
    with pytest.raises(RateLimited) as caught:
        read(http)
    assert caught.value.retryable and caught.value.status == 429 and len(seen) == 3


def test_a_retry_after_beyond_the_limit_ends_the_run_instead_of_waiting() -> None:
    http, sleeps, _ = vendor([httpx.Response(429, headers={"Retry-After": "3600"})])
    with pytest.raises(RateLimited, match="3600"):
        read(http)
    assert sleeps == []


def test_server_error_on_a_read_is_retried_with_backoff() -> None:
    http, sleeps, _ = vendor([httpx.Response(500), httpx.Response(502), httpx.Response(200)])
    assert read(http).status_code == 200
    assert len(sleeps) == 2 and all(0 <= s <= 30 for s in sleeps)


def test_server_error_on_a_write_is_never_retried_and_reports_an_unknown_outcome() -> None:
    http, sleeps, seen = vendor([httpx.Response(500, text="boom")])
    with pytest.raises(WriteOutcomeUnknown) as caught:
        write(http)
    assert len(seen) == 1 and sleeps == []
    assert caught.value.status == 500 and "read back" in str(caught.value)


def test_connection_refused_is_retried_even_for_a_write() -> None:
    http, _, seen = vendor([httpx.ConnectError("refused"), httpx.Response(200)])
    assert write(http).status_code == 200
    assert len(seen) == 2


def test_read_timeout_after_sending_a_write_is_not_retried() -> None:
    http, _, seen = vendor([httpx.ReadTimeout("slow")])
    with pytest.raises(WriteOutcomeUnknown):
        write(http)
    assert len(seen) == 1


def test_read_timeout_on_a_read_is_retried() -> None:
    http, _, seen = vendor([httpx.ReadTimeout("slow"), httpx.Response(200)])
    assert read(http).status_code == 200
    assert len(seen) == 2


def test_connection_failures_that_persist_raise_a_retryable_provider_error() -> None:
    http, _, _ = vendor([httpx.ConnectError("refused")] * 2, attempts=2)
    with pytest.raises(ProviderError) as caught:
        read(http)
    assert caught.value.retryable and "cannot connect" in str(caught.value)


def test_a_response_the_caller_recognises_as_an_answer_is_not_retried() -> None:
    http, _, seen = vendor([httpx.Response(500, text="<Fault>Permission denied</Fault>")])
    response = http.request(
        "POST", "/soap", call="GetUsers", idempotent=True, answer=lambda r: b"Fault" in r.content
    )
    assert response.status_code == 500 and len(seen) == 1


def test_client_errors_are_returned_for_the_provider_to_interpret() -> None:
    http, _, seen = vendor([httpx.Response(404)])
    assert read(http).status_code == 404 and len(seen) == 1


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthError), (403, PermissionDenied), (409, ProviderError)]
)
def test_raise_for_status_picks_the_narrowest_error(status: int, error: type[ProviderError]) -> None:
    http, _, _ = vendor([httpx.Response(status, text="nope")])
    with pytest.raises(error) as caught:
        http.raise_for_status(read(http), call="users")
    assert caught.value.status == status and caught.value.call == "users"


@given(attempt=st.integers(1, 20), seed=st.integers(0, 2**32))
def test_backoff_is_full_jitter_below_an_exponential_ceiling(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    delay = backoff_delay(attempt, policy, random.Random(seed))
    assert 0 <= delay <= min(30.0, 0.5 * 2 ** (attempt - 1))


def test_retry_after_ignores_garbage_and_never_goes_negative() -> None:
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", NOW) == 0.0


# --- rate limiter ------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_waits_for_the_oldest_request_to_leave_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert limiter.acquire() == 0.0
    clock.now = 10.0
    assert limiter.acquire() == 50.0
    assert clock.now == 60.0


@given(rpm=st.integers(1, 10), gaps=st.lists(st.floats(0, 30), min_size=1, max_size=40))
def test_rate_limiter_never_lets_more_than_the_limit_into_any_minute(rpm: int, gaps: list[float]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for gap in gaps:
        clock.now += gap
        limiter.acquire()
        sent.append(clock.now)
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 60 - 1e-6) <= rpm


def test_vendor_client_consults_the_rate_limiter_before_every_attempt() -> None:
    clock = FakeClock()
    http, _, _ = vendor([httpx.Response(200)] * 3, limiter=RateLimiter(2, clock=clock, sleep=clock.sleep))
    for _ in range(3):
        read(http)
    assert clock.slept == [60.0] and http.stats.throttled_seconds == 60.0


# --- redaction -------------------------------------------------------------------------------------------


def test_redactor_masks_raw_and_url_encoded_secrets() -> None:
    redact = Redactor([SECRET, "tok"])  # too short to be a secret: left alone
    text = f"a={SECRET} b=s3cr3t-FAKE-client-secret%2F%2B%3D c=tok"
    assert redact(text) == "a=*** b=*** c=tok"


def test_a_secret_never_appears_in_errors_or_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = f"<error>bad secret {SECRET}</error>".encode()
    http, _, _ = vendor(
        [httpx.Response(200, content=body), httpx.Response(500, content=body)], log_bodies=True
    )
    http.request("POST", f"/token?x={SECRET}", call="token", idempotent=False, data={"client_secret": SECRET})
    with pytest.raises(WriteOutcomeUnknown) as caught:
        write(http)
    assert caplog.records, "debug logging should have produced records"
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert SECRET not in str(caught.value) and "***" in str(caught.value)


def test_the_logging_filter_redacts_third_party_records(caplog: pytest.LogCaptureFixture) -> None:
    redact = Redactor([SECRET])
    logger = logging.getLogger("tests.thirdparty")
    logger.addFilter(redact.filter())
    with caplog.at_level(logging.INFO, logger="tests.thirdparty"):
        logger.info("GET /users?apikey=%s", SECRET)
    assert caplog.records[0].getMessage() == "GET /users?apikey=***"


def test_redacted_dumps_are_truncated_after_masking() -> None:
    redact = Redactor([SECRET])
    dump = redact.bytes(b"x" * 10 + SECRET.encode() + b"y" * 100, limit=20)
    assert SECRET[:5] not in dump and dump.startswith("x" * 10 + "***")


@given(
    secret=st.text(min_size=4, max_size=40).filter(lambda s: s.strip() == s and "*" not in s),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_a_registered_secret_never_survives_redaction(secret: str, before: str, after: str) -> None:
    assert secret not in Redactor([secret])(before + secret + after)

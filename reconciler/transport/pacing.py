"""Pacing of vendor calls: the retry policy, backoff with jitter, `Retry-After`, the client rate limiter."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.transport.bounds import MAX_RETRY_AFTER

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; `attempts` counts the first try."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = MAX_RETRY_AFTER  # a vendor asking to wait longer than this fails the call


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
    """At most `requests_per_minute` requests in any 60-second window (sliding window over send times).

    Thread-safe: concurrent writers share one limiter. A thread waiting for a slot holds the lock while it
    sleeps, so slots are handed out one at a time in the order threads asked for them.
    """

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
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until one more request fits the window, record it, and return the seconds waited."""
        if self.requests_per_minute is None:
            return 0.0
        with self._lock:
            return self._acquire(self.requests_per_minute)

    def _acquire(self, requests_per_minute: int) -> float:
        now = self._clock()
        while self._sent and self._sent[0] + self.WINDOW <= now:
            self._sent.popleft()
        if len(self._sent) < requests_per_minute:
            self._sent.append(now)
            return 0.0
        oldest = self._sent.popleft()
        pause = oldest + self.WINDOW - now
        self._sleep(pause)
        # record the slot at the window's end even if float rounding left the clock a hair short of it
        self._sent.append(max(self._clock(), oldest + self.WINDOW))
        return pause

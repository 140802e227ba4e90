"""The Litmos rate limit: 100 requests per minute per API key, refused with 503 (or 429) and Retry-After."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class RateLimit:
    """How many requests per minute one key may make, and how refusals look.

    503 is the default because clients and recordings treat 503 as the Litmos throttle signal; the
    vendor's own wording is not known (vendor-apis.md 2.1), so 429 is a switch.
    """

    requests_per_minute: int = 100
    status: int = 503


class SlidingWindowLimiter:
    """Counts accepted requests per key over the last 60 s; thread-safe, clock passed in as seconds."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: float) -> int | None:
        """None when the request may proceed (and is counted); otherwise the seconds to wait."""
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - WINDOW_SECONDS:
                seen.popleft()
            if len(seen) < self.limit.requests_per_minute:
                seen.append(now)
                return None
            return max(1, math.ceil(seen[0] + WINDOW_SECONDS - now))

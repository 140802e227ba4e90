"""Counting and debug-logging of vendor calls, shared by every `VendorClient` (split out of `http`)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from reconciler.transport.http import VendorClient

log = logging.getLogger("enrollctl.http")


@dataclass
class CallStats:
    """Requests sent per call type (every attempt counts), and how many of them were retries.

    Thread-safe through `count`/`waited` (apply writes from several threads at once).
    """

    calls: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    throttled_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, call: str, *, retry: bool = False) -> None:
        """One more request of `call` (or one more retry of it)."""
        with self._lock:
            (self.retries if retry else self.calls)[call] += 1

    def waited(self, seconds: float) -> None:
        """Time spent waiting for the rate limiter."""
        with self._lock:
            self.throttled_seconds += seconds

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        """Start counting from zero (e.g. between the read and the write phase)."""
        self.calls.clear()
        self.retries.clear()
        self.throttled_seconds = 0.0


def log_request(vendor: VendorClient, method: str, url: str, call: str, attempt: int, body: bytes) -> None:
    """Debug-log one request (redacted; its body too when the client logs bodies)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    log.debug("%s", vendor.redactor(f"{vendor.provider} {call} -> {method} {url} (attempt {attempt})"))
    if vendor.log_bodies and body:
        log.debug("%s", f"{vendor.provider} {call} request body: {vendor.redactor.bytes(body)}")


def log_response(vendor: VendorClient, response: httpx.Response, call: str, seconds: float) -> None:
    """Debug-log one response (redacted)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    size = len(response.content)
    log.debug(
        "%s",
        vendor.redactor(
            f"{vendor.provider} {call} <- {response.status_code} {size} bytes in {seconds * 1000:.0f} ms"
        ),
    )
    if vendor.log_bodies:
        log.debug("%s", f"{vendor.provider} {call} response body: {vendor.redactor.bytes(response.content)}")

"""Fault switches for the emulators, so clients can be tested against a bad day.

A `Faults` value (from YAML or a dict) configures a WSGI middleware that wraps either vendor app: latency
(fixed + jitter), HTTP 500 at a rate per method, bursts of 429/503 with `Retry-After`, dropped connections
(before the app sees the call, or after it committed its answer), slow answers, truncated or malformed bodies,
a per-minute rate limit per client key, 500s served as an HTML error page (as a proxy or web front sends
them), and element or key names renamed in an answer (a vendor changing its layout). Random choices come from
a generator seeded by `seed`, so a test that sends the same requests in the same order sees the same faults.
Page-token expiry is applied by the iSpring app itself (it owns the tokens).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import io
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml

from reconciler.errors import ConfigError
from reconciler.sandbox.fault_answers import ERROR_PAGE, permission_denied, rename, renames_for
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import RequestLogEntry
from reconciler.sandbox.wsgi import read_body

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
KeyOf = Callable[[Mapping[str, Any], bytes], str]
ActionOf = Callable[[Mapping[str, Any], bytes], str]


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised instead of answering: in-process (httpx.WSGITransport) the client sees exactly the error a
    real dropped connection gives it; the real server (`serve.py`) closes the socket without a response."""


@dataclass(frozen=True)
class Burst:
    """In every window of `every` requests, the last `length` are refused with `status` and `Retry-After`
    (no `Retry-After` header when `retry_after` is None)."""

    every: int = 10
    length: int = 1
    status: int = 503
    retry_after: int | None = 1


@dataclass(frozen=True)
class Faults:
    """Every fault switch; the defaults inject nothing."""

    seed: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rates: Mapping[str, float] = field(default_factory=dict)  # action glob (case-insensitive) → P(500)
    burst: Burst | None = None
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    page_token_ttl_seconds: float | None = None  # iSpring page tokens older than this are refused
    token_ttl_seconds: int | None = None  # iSpring access token lifetime (vendor: 1800)
    rate_limit_per_minute: int | None = None  # per client key
    rate_limit_status: int = 503  # 503 like Litmos; 429 is the switch
    rate_limit_retry_after: int | None = None  # None: seconds until the window frees a slot
    # per method (glob → probability), drawn only when set, so older seeded sequences stay as they were
    drop_rates: Mapping[str, float] = field(default_factory=dict)  # dropped before the app sees the call
    drop_after_commit_rates: Mapping[str, float] = field(default_factory=dict)  # app commits, answer lost
    slow_rates: Mapping[str, float] = field(default_factory=dict)  # answer held back `slow_ms` after the app
    slow_ms: float = 0.0
    malformed_rates: Mapping[str, float] = field(default_factory=dict)  # answer neither valid XML nor JSON
    # glob → N, no randomness: each distinct request (method, path, query, body) is answered malformed N
    # times in a row, then once whole, then the count starts again; so every call meets garbling and a
    # client that reads again often enough always recovers, whatever the order of the calls
    malformed_streaks: Mapping[str, int] = field(default_factory=dict)
    html_errors: bool = False  # injected 500s come as a `text/html` error page instead of plain text
    # action glob → {name: new name}: XML elements (`<department>`) and JSON keys (`"departments":`) renamed
    renames: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # action globs refused with the vendor's `Permission denied` unless the call names a department, as a
    # server might answer a department administrator's account-wide read
    forbid_unscoped: tuple[str, ...] = ()
    # iSpring: an account whose SOAP API has no `getUsers/v2`: GetUsers with version 2 is `Wrong parameters`
    ispring_users_v1: bool = False
    # --- Litmos as recorded (vendor-docs/litmos-recorded); applied by the Litmos app itself (sandbox/litmos)
    litmos_team_parents: bool = (
        False  # JSON team rows carry `ParentTeamId` (the XML shape the pages document)
    )

    @property
    def page_token_ttl(self) -> dt.timedelta | None:
        """`page_token_ttl_seconds` as a timedelta."""
        seconds = self.page_token_ttl_seconds
        return None if seconds is None else dt.timedelta(seconds=seconds)


_PROBABILITIES = ("drop_rate", "truncate_rate")
_RATE_MAPS = ("error_rates", "drop_rates", "drop_after_commit_rates", "slow_rates", "malformed_rates")


def faults_from_dict(data: Mapping[str, Any]) -> Faults:
    """Build and check a `Faults` from plain data (the YAML file's content)."""
    known = set(Faults.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown fault switches {unknown}", hint=f"known: {', '.join(sorted(known))}")
    values = dict(data)
    try:
        if values.get("burst") is not None:
            values["burst"] = Burst(**values["burst"])
        for name in _RATE_MAPS:
            values[name] = {str(k): float(v) for k, v in (values.get(name) or {}).items()}
        values["malformed_streaks"] = _streaks(values.get("malformed_streaks") or {})
        values["renames"] = _renames(values.get("renames") or {})
        values["forbid_unscoped"] = tuple(str(g) for g in values.get("forbid_unscoped") or ())
        faults = Faults(**values)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"invalid fault switches: {error}") from error
    rates = [r for name in _RATE_MAPS for r in getattr(faults, name).values()]
    rates += [getattr(faults, name) for name in _PROBABILITIES]
    if any(not 0.0 <= rate <= 1.0 for rate in rates):
        raise ConfigError("fault rates must be between 0 and 1")
    if faults.rate_limit_status not in (429, 503):
        raise ConfigError("rate_limit_status must be 429 or 503")
    return faults


def _streaks(data: Mapping[str, Any]) -> dict[str, int]:
    if not isinstance(data, Mapping):
        raise ValueError("malformed_streaks: expected a mapping of action glob to a number of answers")
    streaks = {str(glob): int(n) for glob, n in data.items()}
    if any(n < 1 for n in streaks.values()):
        raise ValueError("malformed_streaks: each streak must be at least 1")
    return streaks


def _renames(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    if not isinstance(data, Mapping) or not all(isinstance(v, Mapping) for v in data.values()):
        raise ValueError("renames: expected a mapping of action glob to {name: new name}")
    return {str(glob): {str(k): str(v) for k, v in names.items()} for glob, names in data.items()}


def load_faults(path: str) -> Faults:
    """Read fault switches from a YAML file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read fault file {path}: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of fault switches")
    return faults_from_dict(data)


class _Limiter:
    """A sliding one-minute window per key; `clock` is in seconds."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> int | None:
        seen = self.seen.setdefault(key, deque())
        while seen and seen[0] <= now - 60.0:
            seen.popleft()
        if len(seen) < self.per_minute:
            seen.append(now)
            return None
        return max(1, math.ceil(seen[0] + 60.0 - now))


@dataclass(frozen=True)
class _After:
    """What happens to an answer the app produced: held back, cut, corrupted, or lost with the connection."""

    slow: float = 0.0
    truncate: bool = False
    malformed: bool = False
    drop: bool = False


@dataclass(frozen=True)
class _Refusal:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()


class FaultInjector:
    """WSGI middleware applying `Faults` around a vendor app; refused calls go to the request log."""

    def __init__(
        self,
        app: WSGIApp,
        faults: Faults,
        store: Store,
        vendor: str,
        key_of: KeyOf,
        action_of: ActionOf,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.app, self.faults, self.store, self.vendor = app, faults, store, vendor
        self.key_of, self.action_of = key_of, action_of
        # `time.sleep` is looked up per call, so tests can replace it without building the app themselves
        self.monotonic, self.wall_clock = monotonic, wall_clock
        self.sleep: Callable[[float], None] = sleep or (lambda seconds: time.sleep(seconds))
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._count = 0
        self._streaks: Counter[tuple[str, str, str, bytes]] = Counter()  # malformed_streaks: garbled so far
        self._limiter = _Limiter(faults.rate_limit_per_minute) if faults.rate_limit_per_minute else None
        self.injected: Counter[str] = Counter()  # faults injected so far, by kind (for test reports)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        action = self.action_of(environ, body)
        with self._lock:  # one decision at a time keeps the seeded sequence reproducible
            delay, refusal, drop, after = self._decide(environ, body, action)
        self._count_injected(refusal, drop, after)
        if delay > 0:
            self.sleep(delay)
        if drop:
            self._log(environ, action, 0, "fault: dropped connection")
            raise DroppedConnection("Server disconnected without sending a response.")
        if refusal is None and self._forbidden(environ, body, action):
            refusal = _Refusal(403, "Permission denied")
            self._count_injected(refusal, False, _After())
        if refusal is not None:
            self._log(environ, action, refusal.status, f"fault: {refusal.reason}")
            if refusal.status == 403:
                status, headers, answer = permission_denied(self.vendor, body)
                start_response(status, headers)
                return [answer]
            if refusal.status == 500 and self.faults.html_errors:
                start_response(_status_line(500), [("Content-Type", "text/html; charset=utf-8")])
                return [ERROR_PAGE]
            start_response(_status_line(refusal.status), [("Content-Type", "text/plain"), *refusal.headers])
            return [refusal.reason.encode()]
        names = renames_for(self.faults.renames, action)
        if names:
            chunks = self._renamed(environ, start_response, names)
        else:
            chunks = b"".join(self.app(environ, start_response))
        if after.slow > 0:
            self.sleep(after.slow)  # the app has answered (and committed); only the answer is late
        if after.drop:
            self._log(environ, action, 0, "fault: dropped connection after the app answered")
            raise DroppedConnection("Server disconnected without sending a response.")
        if after.malformed:
            # same length, so Content-Length still holds: the body arrives whole and fails to parse
            middle = len(chunks) // 2
            return [chunks[:middle] + b"<&{\x00"[: len(chunks) - middle] + chunks[middle + 4 :]]
        return [chunks[: len(chunks) // 2]] if after.truncate else [chunks]

    def _forbidden(self, environ: Mapping[str, Any], body: bytes, action: str) -> bool:
        """Whether `forbid_unscoped` refuses this call: its method is listed and it names no department."""
        if not any(fnmatch.fnmatchcase(action.lower(), g.lower()) for g in self.faults.forbid_unscoped):
            return False
        query = str(environ.get("QUERY_STRING", "")).lower()
        return "department" not in query and b"<departmentId" not in body

    def _renamed(
        self, environ: dict[str, Any], start_response: StartResponse, names: Mapping[str, str]
    ) -> bytes:
        """The app's answer with `names` renamed, sent with its length corrected."""
        answered: list[tuple[str, list[tuple[str, str]]]] = []

        def hold(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            answered.append((status, headers))
            return lambda data: None

        body = rename(b"".join(self.app(environ, hold)), names)
        status, headers = answered[0]
        fixed = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
        start_response(status, fixed)
        with self._lock:
            self.injected["renamed elements"] += 1
        return body

    def _decide(
        self, environ: Mapping[str, Any], body: bytes, action: str
    ) -> tuple[float, _Refusal | None, bool, _After]:
        f = self.faults
        self._count += 1
        delay = (f.latency_ms + (self._rng.uniform(0, f.jitter_ms) if f.jitter_ms else 0.0)) / 1000.0
        refusal = self._rate_limited(environ, body) or self._burst() or self._server_error(action)
        drop = refusal is None and f.drop_rate > 0 and self._rng.random() < f.drop_rate
        truncate = (
            not drop and refusal is None and f.truncate_rate > 0 and self._rng.random() < f.truncate_rate
        )
        if refusal is not None or drop:
            return delay, refusal, drop, _After()
        # the newer switches draw only when set, so older seeds give the faults they always gave
        drop = self._chance(f.drop_rates, action)
        after = _After(
            slow=f.slow_ms / 1000.0 if self._chance(f.slow_rates, action) else 0.0,
            truncate=truncate,
            malformed=self._chance(f.malformed_rates, action) or self._in_streak(environ, body, action),
            drop=self._chance(f.drop_after_commit_rates, action),
        )
        return delay, None, drop, after

    def _in_streak(self, environ: Mapping[str, Any], body: bytes, action: str) -> bool:
        """`malformed_streaks`: whether this request's answer is garbled (N times in a row, then once not)."""
        streak = _rate_for(self.faults.malformed_streaks, action)
        if not streak:
            return False
        request = (
            str(environ.get("REQUEST_METHOD", "")),
            str(environ.get("PATH_INFO", "")),
            str(environ.get("QUERY_STRING", "")),
            body,
        )
        if self._streaks[request] >= streak:
            del self._streaks[request]  # this answer goes out whole; the next send starts a new streak
            return False
        self._streaks[request] += 1
        return True

    def _count_injected(self, refusal: _Refusal | None, drop: bool, after: _After) -> None:
        kinds = {
            f"status {refusal.status if refusal else 0}": refusal is not None,
            "dropped before the app": drop,
            "slow answer": after.slow > 0,
            "dropped after the app": after.drop,
            "malformed body": after.malformed,
            "truncated body": after.truncate and not after.drop and not after.malformed,
        }
        with self._lock:
            self.injected.update(kind for kind, happened in kinds.items() if happened)

    def _chance(self, rates: Mapping[str, float], action: str) -> bool:
        rate = _rate_for(rates, action)
        return rate > 0 and self._rng.random() < rate

    def _rate_limited(self, environ: Mapping[str, Any], body: bytes) -> _Refusal | None:
        if self._limiter is None:
            return None
        wait = self._limiter.wait(self.key_of(environ, body), self.monotonic())
        if wait is None:
            return None
        retry_after = self.faults.rate_limit_retry_after or wait
        reason = f"Rate limit exceeded: {self._limiter.per_minute} requests per minute"
        return _Refusal(self.faults.rate_limit_status, reason, (("Retry-After", str(retry_after)),))

    def _burst(self) -> _Refusal | None:
        burst = self.faults.burst
        if burst is None or (self._count - 1) % burst.every < burst.every - burst.length:
            return None
        headers = () if burst.retry_after is None else (("Retry-After", str(burst.retry_after)),)
        return _Refusal(burst.status, "Service temporarily unavailable", headers)

    def _server_error(self, action: str) -> _Refusal | None:
        rate = _rate_for(self.faults.error_rates, action)
        if rate <= 0 or self._rng.random() >= rate:
            return None
        return _Refusal(500, "Internal Server Error")

    def _log(self, environ: Mapping[str, Any], action: str, status: int, detail: str) -> None:
        entry = RequestLogEntry(
            vendor=self.vendor,
            method=str(environ.get("REQUEST_METHOD", "")),
            path=str(environ.get("PATH_INFO", "")),
            action=action,
            status=status,
            duration_ms=0.0,
            at=self.wall_clock(),
            detail=detail,
        )
        self.store.log_request(entry)


def _rate_for(rates: Mapping[str, float], action: str) -> float:
    """The rate of the first glob matching `action` (exact names before wildcards)."""
    lowered = action.lower()
    for pattern in sorted(rates, key=lambda p: ("*" in p or "?" in p, p)):
        if fnmatch.fnmatchcase(lowered, pattern.lower()):
            return rates[pattern]
    return 0.0


_REASONS = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Error')}"

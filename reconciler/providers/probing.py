"""Shared by the vendors' doctor probes (`ispring/probe.py`, `litmos/probe.py`): send one call once, time it,
keep the exchange, and say what the answer means.

A probe goes through the provider's own `VendorClient` settings (bounds, redaction) but with a single
attempt: doctor reports what the vendor answered the first time, it does not retry past a refusal or a
server error. Every request and answer on the wire is captured by httpx event hooks on the run's client, so
the recording holds exactly what was sent, token fetches included.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import httpx

from reconciler.core.doctor import Check, Need, RateLimitSeen, Verdict
from reconciler.errors import ProtocolError, ProviderError
from reconciler.providers.base import Exchange
from reconciler.transport.http import RetryPolicy, VendorClient
from reconciler.transport.terminal import VENDOR_EXCERPT

ONCE = RetryPolicy(attempts=1)
THROTTLED = frozenset({429, 503})
_LIMIT_HEADER = re.compile(
    r"^(retry-after|x-ratelimit-[\w-]+|ratelimit(-[\w-]+)?|x-rate-limit-[\w-]+)$", re.I
)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")

Explain = Callable[[Exchange], tuple[str, str]]  # an answer with an error status → (vendor message, meaning)
Read = Callable[[httpx.Response], str]  # a success answer → what it held; ProtocolError if misshapen
Send = Callable[[], httpx.Response]

STATUS_MEANINGS = {
    400: "the vendor refused the request's parameters",
    401: "wrong credentials, or an expired or revoked key or token",
    404: "nothing answers this call at this URL: check `url:` (the region's host, the API's base path)",
    405: "this URL does not take this call: check `url:`",
}
THROTTLE_MEANING = "throttled by the vendor's rate limit: try later, or lower `requests_per_minute`"
SERVER_MEANING = "an error on the vendor's side; if it persists, contact the vendor"
UNEXPECTED = "the answer is not in the layout the provider reads: plan would stop here"
HTML_MEANING = (
    "an HTML error page, not the API's answer: a proxy, firewall or the vendor's web front answered; "
    "check `url:` and any proxy between here and the vendor"
)


class Refused(Exception):
    """A success status whose body is the vendor's refusal (a SOAP fault sent with 200)."""

    def __init__(self, message: str, meaning: str) -> None:
        super().__init__(message)
        self.message, self.meaning = message, meaning


def single_attempt(http: VendorClient) -> VendorClient:
    """A client like `http` (same connection, redactor, bounds) that sends each call exactly once."""
    return VendorClient(
        http.client,
        provider=http.provider,
        redactor=http.redactor,
        retry=ONCE,
        sleep=lambda _: None,
        message_of=http.message_of,
    )


def is_html(exchange: Exchange) -> bool:
    """Whether an answer is an HTML page (by content type, or by its first bytes)."""
    kind = dict((k.lower(), v) for k, v in exchange.response_headers).get("content-type", "")
    head = exchange.response_body.lstrip()[:15].lower()
    return "html" in kind or head.startswith((b"<!doctype html", b"<html"))


def html_title(body: bytes) -> str:
    """The `<title>` of an HTML page (or its first words), for a one-line message."""
    found = _TITLE.search(body)
    text = (found.group(1) if found else body[:300]).decode("utf-8", "replace")
    return " ".join(_TAGS.sub(" ", text).split())[:120]


def meaning_for(status: int, forbidden: str) -> str:
    """What an error status usually means; `forbidden` is the vendor's reading of 403."""
    if status == 403:
        return forbidden
    if status in THROTTLED:
        return THROTTLE_MEANING
    if 300 <= status < 400:
        return "the URL redirects; enrollctl does not follow redirects: put the API's address in `url:`"
    return STATUS_MEANINGS.get(status, SERVER_MEANING if status >= 500 else "the vendor refused the call")


def unreachable_meaning(message: str) -> str:
    """What a failure without an answer usually means, from the transport's message."""
    lowered = message.lower()
    if any(
        s in lowered for s in ("name or service", "nodename", "getaddrinfo", "errno -2", "errno -3", "11001")
    ):
        return "the host name does not resolve: check `url:`, DNS or the proxy settings"
    if any(s in lowered for s in ("certificate", "ssl", "tls")):
        return "the TLS handshake failed: a proxy intercepting HTTPS, or a wrong host in `url:`"
    if "timed out" in lowered or "timeout" in lowered or "no complete answer" in lowered:
        return "no answer in time: a firewall dropping the traffic, or the vendor is down"
    if "refused" in lowered:
        return "nothing listens at this address: check `url:`"
    return "no answer: check the network, proxy or firewall between here and the vendor"


@dataclass
class Prober:
    """Runs one vendor's probes and keeps what they saw: checks, exchanges, rate-limit signs."""

    http: VendorClient  # the provider's client: its httpx.Client gets the capturing hooks
    explain: Explain
    checks: list[Check] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    throttled: int = 0
    limit_headers: dict[str, str] = field(default_factory=dict)
    _sent: dict[int, tuple[httpx.Request, float]] = field(default_factory=dict)

    @property
    def once(self) -> VendorClient:
        """The single-attempt client probes send through."""
        return single_attempt(self.http)

    @contextmanager
    def capturing(self) -> Iterator[None]:
        """Keep every request and answer on the provider's httpx client while the block runs."""
        client = self.http.client
        hooks = client.event_hooks
        saved = {k: list(v) for k, v in hooks.items()}
        client.event_hooks = {
            "request": [*saved.get("request", []), self._on_request],
            "response": [*saved.get("response", []), self._on_response],
        }
        try:
            yield
        finally:
            client.event_hooks = saved

    def _on_request(self, request: httpx.Request) -> None:
        self._sent[id(request)] = (request, time.perf_counter())

    def _on_response(self, response: httpx.Response) -> None:
        response.read()  # the hooks run before the body is read; a probe's answers are small
        request = response.request
        started = self._sent.pop(id(request), (request, time.perf_counter()))[1]
        self.exchanges.append(_exchange(request, started, response))
        if response.status_code in THROTTLED:
            self.throttled += 1
        for name, value in response.headers.multi_items():
            if _LIMIT_HEADER.match(name):
                self.limit_headers[name] = value

    def rate_limit(self) -> RateLimitSeen:
        """Throttling seen over all probes."""
        return RateLimitSeen(self.throttled, tuple(sorted(self.limit_headers.items())))

    def add(self, check: Check) -> Check:
        """Keep a check; what the vendor said is redacted and cut short first (servers echo requests)."""
        redact = self.http.redactor
        check = replace(
            check, detail=redact.excerpt(check.detail, VENDOR_EXCERPT), meaning=redact(check.meaning)
        )
        self.checks.append(check)
        return check

    def run(self, call: str, needs: tuple[Need, ...], send: Send, read: Read) -> Check:
        """Send one probe, then judge it: ok, refused, unexpected shape or unreachable."""
        before = len(self.exchanges)
        started = time.perf_counter()
        try:
            response = send()
        except ProviderError as error:
            seconds = time.perf_counter() - started
            answered = [e for e in self.exchanges[before:] if e.status is not None]
            if not answered:
                self._unanswered()
                meaning = unreachable_meaning(error.message)
                return self.add(
                    Check(call, Verdict.UNREACHABLE, needs, error.message, meaning, None, seconds)
                )
            if isinstance(error, ProtocolError):  # answered, but the provider could not read it
                status = answered[-1].status
                check = Check(call, Verdict.UNEXPECTED, needs, error.message, UNEXPECTED, status, seconds)
                return self.add(check)
            return self.add(self._refusal(call, needs, answered[-1], seconds))
        seconds = time.perf_counter() - started
        limits = _limits(response)
        if response.status_code >= 300:
            return self.add(self._refusal(call, needs, self.exchanges[-1], seconds))
        try:
            detail = read(response)
        except Refused as refused:
            check = Check(
                call, Verdict.REFUSED, needs, refused.message, refused.meaning, 200, seconds, limits
            )
            return self.add(check)
        except ProtocolError as error:
            status = response.status_code
            return self.add(
                Check(call, Verdict.UNEXPECTED, needs, error.message, UNEXPECTED, status, seconds, limits)
            )
        return self.add(Check(call, Verdict.OK, needs, detail, "", response.status_code, seconds, limits))

    def _refusal(self, call: str, needs: tuple[Need, ...], exchange: Exchange, seconds: float) -> Check:
        message, meaning = self.explain(exchange)
        if is_html(exchange):
            message = f"HTML page {html_title(exchange.response_body)!r}"
            meaning = HTML_MEANING
        status = exchange.status
        limits = tuple((k, v) for k, v in exchange.response_headers if _LIMIT_HEADER.match(k))
        return Check(call, Verdict.REFUSED, needs, message, meaning, status, seconds, limits)

    def _unanswered(self) -> None:
        """Record the requests that got no answer (their response hook never ran)."""
        self.exchanges.extend(_exchange(request, started) for request, started in self._sent.values())
        self._sent.clear()


def _limits(response: httpx.Response) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in response.headers.multi_items() if _LIMIT_HEADER.match(k))


def not_probed(call: str, needs: tuple[Need, ...], permission: str) -> Check:
    """A write: never sent by doctor; says what permission plan/apply needs for it."""
    return Check(call, Verdict.NOT_PROBED, needs, "doctor is read-only", permission)


def skipped(call: str, needs: tuple[Need, ...], why: str) -> Check:
    """A read doctor could not probe (nothing to ask it about, or an earlier call failed)."""
    return Check(call, Verdict.SKIPPED, needs, why)


def _exchange(request: httpx.Request, started: float, response: httpx.Response | None = None) -> Exchange:
    """A request as sent and its answer as read (none: the call got no answer), timed from `started`."""
    sent = (request.method, str(request.url), tuple(request.headers.multi_items()), request.content)
    seconds = time.perf_counter() - started
    if response is None:
        return Exchange(*sent, status=None, seconds=seconds)
    answer = tuple(response.headers.multi_items())
    return Exchange(*sent, response.status_code, answer, response.content, seconds)

"""One iSpring Learn account's SOAP calls: envelope, token refresh, fault mapping, paging.

Envelopes are built and parsed in `soap`, listings paged in `listing`; this module sends them through the
shared `VendorClient` (retries, rate limit, redaction) and turns faults into enrollctl errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from functools import partial

from lxml import etree

from reconciler.errors import AuthError, PermissionDenied, ProviderError
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.listing import T, read_listing
from reconciler.providers.ispring.soap import (
    ENDPOINT,
    Fault,
    Params,
    build_request,
    looks_like_fault,
    parse_response,
    request_headers,
)
from reconciler.transport import bounds
from reconciler.transport.http import VendorClient
from reconciler.transport.terminal import VENDOR_EXCERPT

log = logging.getLogger("enrollctl.ispring")

SCOPE_HINT = (
    "a department administrator's token only reaches the departments that administrator manages and their "
    "sub-departments; use an account administrator's API key or narrow the policy"
)
# answer caps of their own (bytes), for calls the vendor does not page; every other call has the client's
ANSWER_CAPS = {"GetUsers": bounds.MAX_USER_LIST_BYTES}


def fault_is(fault: Fault, *names: str) -> bool:
    return fault.string.strip().rstrip(".").lower() in {n.lower() for n in names}


class IspringApi:
    """SOAP calls to one account, with the token they need and the faults they may answer."""

    def __init__(self, http: VendorClient, tokens: TokenSource, *, page_size: int) -> None:
        self.http = http
        self.tokens = tokens
        self.page_size = page_size
        self.users_v1 = False  # the server refused GetUsers version 2

    def call(
        self, method: str, params: Params = (), *, idempotent: bool, faults: Sequence[str] = ()
    ) -> etree._Element | Fault:
        """One SOAP call: its result element, or a `Fault` whose string is in `faults`; other faults raise."""
        for attempt in (1, 2):
            send = partial(self._send, method, params, idempotent)
            # a garbled answer to a read is read again (bounded); a write's is unknown, read back by apply
            fault_or_result = self.http.read_parsed(send, call=method) if idempotent else send()
            if not isinstance(fault_or_result, Fault):
                return fault_or_result
            fault = fault_or_result
            if fault_is(fault, "Authorization failed") and attempt == 1 and self.tokens.invalidate():
                log.info("iSpring %s: token refused, fetching a new one", method)
                continue  # the call was refused before doing anything, so sending it again is safe
            if faults and fault_is(fault, *faults):
                return fault
            raise self._fault_error(method, fault)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _send(self, method: str, params: Params, idempotent: bool) -> etree._Element | Fault:
        envelope = build_request(method, self.tokens.token(), params)
        response = self.http.request(
            "POST",
            ENDPOINT,
            call=method,
            idempotent=idempotent,
            content=envelope,
            headers=request_headers(method),
            answer=lambda r: looks_like_fault(r.content),
            max_bytes=ANSWER_CAPS.get(method),
        )
        if response.status_code >= 400 and not looks_like_fault(response.content):
            self.http.raise_for_status(response, call=method)
        return parse_response(
            response.content, method, status=response.status_code, redactor=self.http.redactor
        )

    def _fault_error(self, method: str, fault: Fault) -> ProviderError:
        message = f"iSpring answered {self.http.redactor.excerpt(fault.string, VENDOR_EXCERPT)!r}"
        if fault_is(fault, "Authorization failed"):
            return self.http.error(
                AuthError, message, call=method, hint="check the credentials; a static token may have expired"
            )
        if fault_is(fault, "Account subscription expired"):
            return self.http.error(
                AuthError, message, call=method, hint="the API needs an active Business plan"
            )
        if fault_is(fault, "Permission denied"):
            return self.http.error(PermissionDenied, message, call=method, hint=SCOPE_HINT)
        return self.http.error(ProviderError, message, call=method)

    def pages(
        self,
        method: str,
        params: Params,
        record: str,
        *,
        page_size: bool = True,
        first: etree._Element | None = None,
        parse: Callable[[etree._Element], T],
    ) -> Iterator[T]:
        """Records called `record` from every page of a listing, each read by `parse` as its page comes
        (see `listing.read_listing`)."""
        size = self.page_size if page_size else None
        found = read_listing(
            self.call, self.http, method, params, record, page_size=size, first=first, parse=parse
        )
        return iter(found)

"""Reading one iSpring listing to its end: pages by `nextPageToken`, restarts on an expired page token.

Each page's records are found by `ispring_soap.records`, which refuses a result whose records it cannot
find (renamed or unknown elements): the whole listing then fails with a `ProtocolError` naming the call,
never returning an empty or partial list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from lxml import etree

from reconciler.errors import ProtocolError, ProviderError
from reconciler.providers.ispring.soap import Fault, Params, next_page_token, records
from reconciler.transport import bounds
from reconciler.transport.http import VendorClient

log = logging.getLogger("enrollctl.ispring")

T = TypeVar("T")
PAGE_RESTARTS = 2  # times a listing is read again from its first page after its page token expired


class Caller(Protocol):
    """`IspringProvider.call`: one SOAP call, its result or an accepted `Fault`."""

    def __call__(
        self, method: str, params: Params = (), *, idempotent: bool, faults: Sequence[str] = ()
    ) -> etree._Element | Fault: ...


def read_listing(
    call: Caller,
    http: VendorClient,
    method: str,
    params: Params,
    record: str,
    *,
    page_size: int | None,
    first: etree._Element | None = None,
    parse: Callable[[etree._Element], T],
) -> list[T]:
    """Records called `record` from every page (starting at `first` if given) until no nextPageToken,
    each read by `parse` as its page comes (a page's tree is freed before the next is read).

    A continuation page refused with `Wrong parameters` means its page token expired (inferred: the
    vendor says nothing on token lifetime; the sandbox refuses old tokens so): the listing is read
    again from its first page, at most PAGE_RESTARTS times. Reads are idempotent, so this is safe.
    """
    for restart in range(PAGE_RESTARTS + 1):
        last_try = restart == PAGE_RESTARTS
        found = _listing(call, http, method, params, record, page_size, first, parse, last_try=last_try)
        if found is not None:
            return found
        log.info("iSpring %s: page token refused, reading the list again from its first page", method)
        first = None
    raise AssertionError("unreachable: the last try returns or raises")


def _listing(
    call: Caller,
    http: VendorClient,
    method: str,
    params: Params,
    record: str,
    page_size: int | None,
    first: etree._Element | None,
    parse: Callable[[etree._Element], T],
    *,
    last_try: bool,
) -> list[T] | None:
    """Every record of one listing, or None when a continuation page token was refused."""
    seen: set[str] = set()
    found: list[T] = []
    result = first
    if result is None:
        page = call(method, [*params, ("pageToken", None), ("pageSize", page_size)], idempotent=True)
        assert not isinstance(page, Fault)  # no fault is accepted here: call() raised it
        result = page
    while True:
        try:
            page_records = records(result, record)
        except ProtocolError as error:
            raise http.error(ProtocolError, error.message, call=method) from None
        found.extend(map(parse, page_records))
        del page_records  # with `result` replaced below, the page's tree goes
        token = next_page_token(result)
        if token is None:
            return found
        if token in seen:
            raise http.error(ProviderError, "the vendor returned the same page token twice", call=method)
        if len(seen) + 1 >= bounds.MAX_LIST_PAGES:
            raise http.error(ProtocolError, bounds.too_many_pages(len(seen) + 1), call=method)
        seen.add(token)
        expired = () if last_try else ("Wrong parameters",)
        paging: Params = [("pageToken", token), ("pageSize", page_size)]
        page = call(method, [*params, *paging], idempotent=True, faults=expired)
        if isinstance(page, Fault):
            return None
        result = page

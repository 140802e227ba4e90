"""Litmos REST v1.svc calls: the `apikey` header, `source` and `format=json` on every call, and paging.

Retries, the per-minute limiter, redaction and call counting come from the shared `VendorClient`; this
module adds what is Litmos's own: how a call is addressed, how a list is paged, how errors read. Recorded
errors (vendor-docs/litmos-recorded) are `{"Detail": "…"}` JSON, or for a 500 an IIS/WCF `text/html` page:
a user sees the Detail, or the page's text without its markup, never the raw page.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from reconciler.core.model import ItemKind
from reconciler.errors import AuthError, ProtocolError
from reconciler.providers.base import Progress as ProgressCallback
from reconciler.providers.base import no_progress
from reconciler.providers.litmos.body import Record, Shape, records_from_body, shape_for
from reconciler.providers.litmos.parse import as_text
from reconciler.transport import bounds
from reconciler.transport.http import VendorClient

log = logging.getLogger("enrollctl.litmos")

PAGE_LIMIT = 1000  # the largest page Litmos serves (inferred from client code); never rely on its default 100
PROGRESS_EVERY = 10.0  # seconds between progress lines of a long read

Clock = Callable[[], float]
T = TypeVar("T")

ERROR_BODY_SCAN = 64 * 1024  # bytes of an error body read for its message; an error page is not a payload
_HTML_NOISE = re.compile(r"<!--.*?(?:-->|$)|<(script|style)\b.*?(?:</\1\s*>|$)", re.DOTALL | re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>?")
_XML_DETAIL = re.compile(r"<(?:\w+:)?(Detail|Message)>([^<]*)</")
_DETAIL_KEYS = ("Detail", "Message", "detail", "message")  # `Detail` recorded; `Message` as clients read it


def error_text(body: bytes, content_type: str) -> str:
    """The server's own words in an error answer: a JSON (or XML) error's `Detail`, the text of an HTML
    page (said to be one), else the body as sent. Not redacted or shortened: the caller does both."""
    text = body[:ERROR_BODY_SCAN].decode("utf-8", errors="replace").strip()
    kind = content_type.split(";")[0].strip().lower()
    if "html" in kind or text[:5].lower() in ("<html", "<!doc"):
        words = " ".join(html.unescape(_HTML_TAG.sub(" ", _HTML_NOISE.sub(" ", text))).split())
        return f"an HTML page ({kind or 'no content type'}): {words or '(no text)'}"
    return _detail(text) or text


def said(response: httpx.Response) -> str:
    """`error_text` of an answer, or its reason phrase where it has no body: the `message_of` of Litmos's
    shared client, so every error it raises says what Litmos said."""
    return error_text(response.content, response.headers.get("Content-Type", "")) or response.reason_phrase


def _detail(text: str) -> str:
    """`Detail` (or `Message`) of `{"Detail": "…"}` or `<Error><Detail>…`; empty when there is none."""
    if text[:1] == "<":
        found = _XML_DETAIL.search(text)
        return html.unescape(found.group(2)).strip() if found else ""
    try:
        data: object = json.loads(text)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    said = (data.get(key) for key in _DETAIL_KEYS)
    return next((value.strip() for value in said if isinstance(value, str) and value.strip()), "")


def segment(ident: str) -> str:
    """An id as one URL path segment."""
    return quote(ident, safe="")


def collection_of(kind: ItemKind) -> str:
    """The path word for an item kind: `courses` or `learningpaths`."""
    return "courses" if kind is ItemKind.COURSE else "learningpaths"


class LitmosApi:
    """Addressing, paging and error mapping for one Litmos account."""

    def __init__(
        self,
        vendor: VendorClient,
        *,
        api_key: str,
        source: str,
        clock: Clock = time.monotonic,
        progress: ProgressCallback = no_progress,
    ):
        self.vendor = vendor
        self.progress = progress
        self.source = source
        self.clock = clock
        # the longest page this server has served: a page shorter than it cannot have been cut by a cap
        self.longest_page = 0
        # the key goes in a header only: query strings end up in proxy and server logs
        self._headers = {"apikey": api_key, "Accept": "application/json"}

    @property
    def provider(self) -> str:
        return self.vendor.provider

    def _params(self, extra: Mapping[str, str | int] | None = None) -> dict[str, str | int]:
        return {"source": self.source, "format": "json", **(extra or {})}

    def vendor_message(self, response: httpx.Response) -> str:
        """What Litmos said in an error answer (`said`), redacted and cut short for a message."""
        return self.vendor.said(response)

    def send(
        self,
        method: str,
        path: str,
        *,
        call: str,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """One call with the account's header and `source`; raise for auth failures, return the rest. A
        server error the shared client gives up on says what Litmos said (`said`), not the raw body."""
        response = self.vendor.request(
            method,
            path,
            call=call,
            idempotent=idempotent,
            params=self._params(params),
            headers=self._headers,
            json=body,
        )
        if response.status_code in (401, 403):
            # Litmos answers 403 for a wrong key, a missing source and plain HTTP alike
            raise self.vendor.error(
                AuthError,
                f"Litmos refused the API key or source: {self.vendor_message(response)}",
                call=call,
                status=response.status_code,
                hint="check the environment variable named by api_key_env, and `source` in enrollctl.yaml",
            )
        return response

    def raise_for_status(self, response: httpx.Response, *, call: str) -> None:
        """Raise the narrowest error for a 4xx/5xx answer, with what Litmos said; return on success."""
        self.vendor.raise_for_status(response, call=call)

    def records(
        self,
        method: str,
        path: str,
        *,
        call: str,
        shape: Shape | None = None,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> list[Record]:
        """A read call answering a list of `shape` (default: `shape_for` the path); other answers raise."""
        expected = shape or shape_for(method, path)

        def read() -> list[Record]:
            response = self.send(method, path, call=call, params=params, body=body)
            self.raise_for_status(response, call=call)
            try:
                return records_from_body(response.content, response.headers.get("Content-Type", ""), expected)
            except ProtocolError as error:
                # the parser knows what is wrong with the body; say which provider and call sent it
                raise self.vendor.error(
                    ProtocolError, error.message, call=call, status=response.status_code
                ) from None

        # every call here is a read: a garbled answer is read again (bounded), then fails closed
        return self.vendor.read_parsed(read, call=call)

    def pages(
        self,
        path: str,
        *,
        call: str,
        shape: Shape | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> list[Record]:
        """Every row of a paged list of `shape`: always sends `limit` and `start`; stops on an empty page,
        or on a page shorter than one this server has already served.

        A page shorter than `limit` alone does not end the list: the server's page cap is not documented
        (recorded traffic pages at 200, and its client reads until `[]`), so a cap below `limit` would cut
        the list silently. A page shorter than a page already served cannot be cut by a cap (inferred: one
        cap per server), which spares the extra call once one long list has been read.

        Rows are de-duplicated by `Id` (Litmos sometimes returns more rows than asked for); a page that adds
        nothing new also ends the read, so a server that ignores `start` cannot loop us forever. A page of
        any other shape, or with a row without an Id, ends the read with a `ProtocolError` (`records`).
        """
        return [
            row for page, _ in self.page_by_page(path, call=call, shape=shape, params=params) for row in page
        ]

    def page_by_page(
        self,
        path: str,
        *,
        call: str,
        shape: Shape | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Generator[tuple[list[Record], bool]]:
        """`pages` one call at a time: (the page's new rows, whether another page follows)."""
        seen: set[str] = set()
        start = pages = 0
        while True:
            paging = {**(params or {}), "limit": PAGE_LIMIT, "start": start}
            page = self.records("GET", path, call=call, shape=shape, params=paging)
            fresh: list[Record] = []
            for row in page:
                # every row has an Id (`records` checked): dropping one would make a person or item vanish
                ident = as_text(row.get("Id"))
                if ident not in seen:
                    seen.add(ident)
                    fresh.append(row)
            short = len(page) < PAGE_LIMIT and len(page) < self.longest_page
            self.longest_page = max(self.longest_page, len(page))
            more = bool(page) and bool(fresh) and not short
            pages += 1
            if more and pages >= bounds.MAX_LIST_PAGES:
                raise self.vendor.error(ProtocolError, bounds.too_many_pages(pages), call=call)
            yield fresh, more
            if not more:
                return
            start += min(len(page), PAGE_LIMIT)  # after what was served, whatever the server's cap


class Progress:
    """Reports a long read's progress to the provider's callback, at most every `PROGRESS_EVERY` seconds."""

    def __init__(self, api: LitmosApi, what: str, total: int) -> None:
        self.api = api
        self.what = what
        self.total = total
        self.started = api.clock()
        self.last = self.started

    def step(self, done: int) -> None:
        """Record that `done` of `total` units are read; report it when enough time has passed."""
        now = self.api.clock()
        if now - self.last < PROGRESS_EVERY or done >= self.total or done <= 0:
            return
        self.last = now
        # the engine's callback: the CLI shows it as a progress line (counts, rate, ETA)
        self.api.progress(f"{self.api.provider}: {self.what}", done, self.total, now - self.started)


def chunked(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`values` in consecutive slices of at most `size`."""
    for start in range(0, len(values), size):
        yield values[start : start + size]

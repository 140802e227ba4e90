"""iSpring Learn SOAP envelopes: built with lxml, parsed leniently, faults reported as data.

Layout as in the vendor samples: `SOAP-ENV:Envelope/Body/<MethodRequest>` holding `<credentials><token>`
then the parameters; id lists repeat `<id>`, value lists repeat `<value>`; the answer is `<MethodResult>`,
`<SuccessResult>` (the unenroll page writes `successResult`) or a `SOAP-ENV:Fault`. Responses are matched by
local name, so either namespace form (`http://` or `https://`) and stray prefixes are accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lxml import etree

from reconciler.errors import ProtocolError
from reconciler.providers.strict import names_seen
from reconciler.transport.redact import Redactor
from reconciler.transport.safexml import local_name, parse_xml

SOAP_NS = "https://ispringlearn.com/go/services/api/soap"
# SOAP 1.1's envelope namespace. The vendor samples write it with https://, which a SOAP 1.1 server answers
# with a VersionMismatch fault; the payload namespace is sent exactly as documented (https://).
ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENDPOINT = "/api/v2/soap/2.0"
PROVIDER = "ispring"


@dataclass(frozen=True)
class Ids:
    """A list parameter written as repeated `<id>` children."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class Values:
    """A list parameter written as repeated `<value>` children (statuses, content types)."""

    values: tuple[str, ...]


Param = str | int | bool | dt.date | Ids | Values | None
Params = Sequence[tuple[str, Param]]


@dataclass(frozen=True)
class Fault:
    """A SOAP fault: `faultstring` carries iSpring's error text (`Permission denied`, ...)."""

    code: str
    string: str
    detail: str = ""


def request_headers(method: str) -> dict[str, str]:
    """The HTTP headers of a SOAP call to `method` (the action quoted, as the vendor samples send it)."""
    return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{method}"'}


def build_request(method: str, token: str, params: Params = ()) -> bytes:
    """The SOAP envelope for `<method>Request` with credentials and parameters in the given order."""
    # the default namespace (None key) as in the samples; lxml-stubs type nsmap keys as str only
    nsmap = {"SOAP-ENV": ENVELOPE_NS, None: SOAP_NS}
    envelope = etree.Element(f"{{{ENVELOPE_NS}}}Envelope", nsmap=nsmap)  # type: ignore[arg-type]
    body = etree.SubElement(envelope, f"{{{ENVELOPE_NS}}}Body")
    request = etree.SubElement(body, f"{{{SOAP_NS}}}{method}Request")
    credentials = etree.SubElement(request, f"{{{SOAP_NS}}}credentials")
    etree.SubElement(credentials, f"{{{SOAP_NS}}}token").text = token
    for name, value in params:
        if value is not None:
            _add_param(request, name, value)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _add_param(parent: etree._Element, name: str, value: Param) -> None:
    element = etree.SubElement(parent, f"{{{SOAP_NS}}}{name}")
    if isinstance(value, Ids | Values):
        tag = "id" if isinstance(value, Ids) else "value"
        for item in value.values:
            etree.SubElement(element, f"{{{SOAP_NS}}}{tag}").text = item
    else:
        element.text = format_value(value)


def format_value(value: Param) -> str:
    """Scalars as the samples write them: `true`/`false`, dates `YYYY-MM-DD`, times `YYYY-MM-DD HH:MM:SS`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def looks_like_fault(response_body: bytes) -> bool:
    """Cheap check used to stop retrying: a fault is the vendor's definitive answer, even with HTTP 500."""
    return b"Fault" in response_body and b"faultstring" in response_body


def parse_response(
    body: bytes, method: str, *, status: int | None = None, redactor: Redactor | None = None
) -> etree._Element | Fault:
    """The `<method>Result` (or `SuccessResult`) element of a response, or its `Fault`."""
    root = parse_xml(body, provider=PROVIDER, call=method, status=status, redactor=redactor)
    soap_body = child(root, "Body") if local_name(root) == "Envelope" else None
    payload = next(iter(elements(soap_body)), None) if soap_body is not None else None
    if payload is None:
        raise ProtocolError(
            "response is not a SOAP envelope with a body", provider=PROVIDER, call=method, status=status
        )
    name = local_name(payload)
    if name == "Fault":
        return Fault(
            text(payload, "faultcode") or "",
            text(payload, "faultstring") or "",
            text(payload, "detail") or "",
        )
    if name.lower() in (f"{method.lower()}result", "successresult"):
        return payload
    raise ProtocolError(f"expected {method}Result, got {name}", provider=PROVIDER, call=method, status=status)


# --- reading elements by local name ----------------------------------------------------------------


def elements(parent: etree._Element) -> Iterator[etree._Element]:
    """Element children (no comments or processing instructions)."""
    return (c for c in parent if isinstance(c.tag, str))


def child(parent: etree._Element, name: str) -> etree._Element | None:
    """The first child element called `name` (any namespace)."""
    return next((c for c in elements(parent) if local_name(c) == name), None)


def children(parent: etree._Element, name: str) -> list[etree._Element]:
    """All child elements called `name`."""
    return [c for c in elements(parent) if local_name(c) == name]


def descendants(parent: etree._Element, name: str) -> Iterator[etree._Element]:
    """Every element called `name` below `parent`, whatever wraps it (`<departments><department>`)."""
    return (e for e in parent.iter() if e is not parent and local_name(e) == name)


# The wrapper each listing may put its records in (the ListLearnersResults page writes `learnersResults`).
WRAPPERS = {
    "userProfile": ("userProfiles",),
    "department": ("departments",),
    "group": ("groups",),
    "contentItem": ("contentItems",),
    "enrollment": ("enrollments",),
    "learnerResult": ("learnersResults", "learnerResults"),
}
PAGING = frozenset({"nextPageToken"})


def records(result: etree._Element, name: str) -> list[etree._Element]:
    """Records called `name` directly in `result` or in its documented wrapper (`<enrollments><enrollment>`).

    Anything else in the result (a renamed record, an unknown wrapper) raises `ProtocolError` listing the
    element names seen: a listing we cannot read for certain is never taken as empty or partial. The caller
    adds provider and call. Two levels only, not a full-tree search: a 100,000-row answer has millions of
    elements.
    """
    found: list[etree._Element] = []
    wrappers = WRAPPERS.get(name, ())
    own = "}" + name  # a tag ending so is `name` in a namespace (`local_name`, without a call per record)
    unexpected = False
    for element in elements(result):
        tag = local_name(element)
        if tag == name:
            found.append(element)
        elif tag in wrappers:
            for inner in elements(element):
                found.append(inner)
                inner_tag = inner.tag
                if not (inner_tag == name or inner_tag.endswith(own)) and local_name(inner) != name:
                    unexpected = True
        elif tag not in PAGING:
            unexpected = True
    if unexpected:
        wrapped = "".join(f" or <{w}> of them" for w in wrappers)
        seen = names_seen(_seen(result, wrappers))
        raise ProtocolError(f"expected <{name}> records{wrapped}, got <{seen}>")
    return found


def _seen(result: etree._Element, wrappers: tuple[str, ...]) -> Iterator[str]:
    """The element names of a result, its wrappers' records as `wrapper/record` (for a shape error only)."""
    for element in elements(result):
        tag = local_name(element)
        yield tag
        if tag in wrappers:
            yield from (f"{tag}/{local_name(inner)}" for inner in elements(element))


def fields(record: etree._Element) -> dict[str, str]:
    """A record's simple children as {local name: stripped text}; empty ones are left out, first one wins."""
    return fields_and_lists(record, ())[0]


def fields_and_lists(
    record: etree._Element, lists: tuple[str, ...]
) -> tuple[dict[str, str], dict[str, etree._Element]]:
    """`fields(record)`, and the first child called each of `lists` (`child(record, name)` for each), read
    in one pass over the record's children (a GetUsers profile has its `fields` and `groups` as children)."""
    # the hot loop of every read (a 10,000-user plan calls it 135,000 times): `local_name` inlined, once per
    # element, and without `lists` only for elements with text; a comment's or instruction's tag is no str
    found: dict[str, str] = {}
    wrappers: dict[str, etree._Element] = {}
    for element in record:
        tag = element.tag
        if not isinstance(tag, str):
            continue
        value = element.text
        value = value.strip() if value is not None else ""
        if not value and not lists:
            continue
        brace = tag.rfind("}")
        name = tag[brace + 1 :] if brace >= 0 else tag[tag.rfind(":") + 1 :]
        if value:
            found.setdefault(name, value)
        if lists and name in lists:
            wrappers.setdefault(name, element)
    return found, wrappers


def text(parent: etree._Element, name: str) -> str | None:
    """Stripped text of the first child `name`; None when missing or empty."""
    element = child(parent, name)
    value = (element.text or "").strip() if element is not None else ""
    return value or None


def ids(element: etree._Element | None) -> tuple[str, ...]:
    """The `<id>` values of a list element (none when there is no list)."""
    if element is None:
        return ()
    return tuple(v for v in ((c.text or "").strip() for c in children(element, "id")) if v)


def success(result: etree._Element) -> bool:
    """The `success` flag of a SuccessResult."""
    return (text(result, "success") or "").lower() == "true"


def next_page_token(result: etree._Element) -> str | None:
    """The token of the next page; None on the last page."""
    return text(result, "nextPageToken")

"""SOAP wire format of the iSpring Learn emulator: parsing requests leniently, writing envelopes and faults.

Namespaces and shapes follow the vendor pages (`vendor-docs/ispring-soap-*.txt`): the envelope namespace is
written there with `https://` (the standard one is `http://`); we accept both and answer with the one the
request used. Any other envelope namespace (SOAP 1.2's, a typo) gets SOAP 1.1's `VersionMismatch` fault.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

SOAP_NS = "https://ispringlearn.com/go/services/api/soap"
SOAP_NS_HTTP = "http://ispringlearn.com/go/services/api/soap"
ENVELOPE_NS_DOCS = "https://schemas.xmlsoap.org/soap/envelope/"
ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENVELOPE_NAMESPACES = (ENVELOPE_NS_DOCS, ENVELOPE_NS)
MAX_BODY_BYTES = 4 * 1024 * 1024

AUTHORIZATION_FAILED = "Authorization failed"
PERMISSION_DENIED = "Permission denied"
WRONG_PARAMETERS = "Wrong parameters"
UNKNOWN_ENROLLMENT = "Unknown Enrollment"
UNKNOWN_CONTENT_ITEM = "Unknown content item"
VERSION_MISMATCH = "Version Mismatch"  # SOAP 1.1 section 4.4.1

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


class SoapFault(Exception):
    """A fault the emulator answers with; `faultstring` is one of the documented texts."""

    def __init__(self, faultstring: str, detail: str = "", faultcode: str = "client") -> None:
        super().__init__(faultstring)
        self.faultstring = faultstring
        self.faultcode = faultcode
        self.detail = detail  # for the request log only, never sent


@dataclass(frozen=True)
class SoapCall:
    """A parsed SOAP request: the method's request element and the whole Body (for lenient lookups)."""

    envelope_ns: str
    ns: str
    element_name: str  # local name of the first Body child, e.g. `GetUsersRequest`
    request: etree._Element
    body: etree._Element
    recovered: bool  # the XML was malformed and parsed in lxml's recover mode


def _parser(recover: bool) -> etree.XMLParser:
    # Hardened: no entity expansion, no network, no huge trees; size is capped before parsing.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=recover, remove_comments=True
    )


def local(element: etree._Element) -> str:
    """The local name of an element (namespace dropped)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def parse_call(body: bytes) -> SoapCall:
    """Parse a SOAP request; malformed XML is retried in recover mode, then refused as `Wrong parameters`."""
    if len(body) > MAX_BODY_BYTES:
        raise SoapFault(WRONG_PARAMETERS, "request body too large")
    recovered = False
    root: etree._Element | None
    try:
        root = etree.fromstring(body, _parser(recover=False))
    except etree.XMLSyntaxError as error:
        # The vendor's own samples carry a mismatched `</soap:duePeriod>`: a forgiving server reads on.
        recovered = True
        try:
            root = etree.fromstring(body, _parser(recover=True))
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise SoapFault(WRONG_PARAMETERS, f"malformed XML: {error}") from error
    if root is None:
        raise SoapFault(WRONG_PARAMETERS, "empty request")
    body_element = next((c for c in root if local(c) == "Body"), None)
    if local(root) != "Envelope" or body_element is None:
        raise SoapFault(WRONG_PARAMETERS, "not a SOAP envelope")
    request = next((c for c in body_element if isinstance(c.tag, str)), None)
    if request is None:
        raise SoapFault(WRONG_PARAMETERS, "empty SOAP body")
    envelope_ns = etree.QName(root).namespace or ""
    if envelope_ns not in ENVELOPE_NAMESPACES:
        raise SoapFault(
            VERSION_MISMATCH, f"envelope namespace {envelope_ns!r}", faultcode="SOAP-ENV:VersionMismatch"
        )
    ns = etree.QName(request).namespace or SOAP_NS
    return SoapCall(envelope_ns, ns, local(request), request, body_element, recovered)


def child(element: etree._Element, name: str) -> etree._Element | None:
    """The first child with local name `name`."""
    return next((c for c in element if local(c) == name), None)


def param(call: SoapCall, name: str) -> etree._Element | None:
    """A request parameter; also found beside the request element, where a vendor sample puts `groupId`."""
    found = child(call.request, name)
    return found if found is not None else child(call.body, name)


def text(call: SoapCall, name: str) -> str | None:
    """A parameter's stripped text; None when absent or empty."""
    element = param(call, name)
    value = (element.text or "").strip() if element is not None else ""
    return value or None


def values(call: SoapCall, name: str) -> list[str] | None:
    """A list parameter (`<courseIds><id>…</id></courseIds>`, `<userStatuses><value>…`); None when absent."""
    element = param(call, name)
    if element is None:
        return None
    items = [(c.text or "").strip() for c in element if isinstance(c.tag, str)]
    if not items and (element.text or "").strip():
        items = [v.strip() for v in (element.text or "").split(",")]  # inferred: tolerate a plain list
    return [v for v in items if v]


def token_of(call: SoapCall) -> str | None:
    """The token in `<credentials><token>`."""
    credentials = param(call, "credentials")
    token = child(credentials, "token") if credentials is not None else None
    value = (token.text or "").strip() if token is not None else ""
    return value or None


def parse_moment(value: str, name: str) -> dt.datetime:
    """A date, `2019-09-24 10:30:00` or ISO 8601 with offset, as UTC; anything else is `Wrong parameters`."""
    value = value.strip()
    if not (_DATE.match(value) or _DATETIME.match(value)):
        raise SoapFault(WRONG_PARAMETERS, f"{name}: {value!r} is not a date")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:  # e.g. `2019-31-12`: month 31
        raise SoapFault(WRONG_PARAMETERS, f"{name}: {value!r} is not a valid date") from error
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def parse_int(value: str, name: str, minimum: int = 0) -> int:
    """A whole number ≥ `minimum`, else `Wrong parameters`."""
    try:
        number = int(value)
    except ValueError as error:
        raise SoapFault(WRONG_PARAMETERS, f"{name}: {value!r} is not a number") from error
    if number < minimum:
        raise SoapFault(WRONG_PARAMETERS, f"{name}: {number} is below {minimum}")
    return number


def parse_bool(value: str, name: str) -> bool:
    """`true`/`false` (also `1`/`0`), else `Wrong parameters`."""
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise SoapFault(WRONG_PARAMETERS, f"{name}: {value!r} is not true or false")


def iso(moment: dt.datetime) -> str:
    """`2019-12-25T01:00:00+00:00`, as in the ListLearnersResults sample."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def day(moment: dt.datetime) -> str:
    """`2019-09-25`, the REST Enrollment schema's `date` format."""
    return moment.astimezone(dt.UTC).date().isoformat()


def number(value: float) -> str:
    """`80` for whole numbers, `13.64` otherwise."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --- page tokens --------------------------------------------------------------------------------------------


def encode_page_token(kind: str, position: int, issued: dt.datetime) -> str:
    """An opaque base64 token like the vendor's; it carries the position and when it was issued."""
    raw = f"{kind}:{position}:{int(issued.timestamp())}"
    return base64.b64encode(raw.encode()).decode()


def decode_page_token(token: str, kind: str) -> tuple[int, dt.datetime]:
    """The position and issue time in a token from `encode_page_token`, else `Wrong parameters`."""
    try:
        token_kind, position, issued = base64.b64decode(token, validate=True).decode().split(":")
        if token_kind != kind:
            raise ValueError(kind)
        return int(position), dt.datetime.fromtimestamp(int(issued), dt.UTC)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise SoapFault(WRONG_PARAMETERS, f"pageToken {token!r} is not valid") from error


# --- writing ------------------------------------------------------------------------------------------------


def element(parent: etree._Element, name: str, value: str | None = None) -> etree._Element:
    """Append a child in the parent's namespace (the payload lives in the iSpring namespace)."""
    tag = parent.tag
    # `{ns}Name` → `{ns}name`: slicing the tag is several times faster than etree.QName on big pages
    node = etree.SubElement(parent, tag[: tag.find("}") + 1] + name if tag[0] == "{" else name)
    if value is not None:
        node.text = value
    return node


def id_list(parent: etree._Element, name: str, ids: Iterable[str], item: str = "id") -> etree._Element:
    """`<name><id>…</id>…</name>`."""
    node = element(parent, name)
    for value in ids:
        element(node, item, value)
    return node


def envelope(envelope_ns: str, ns: str, prefix: str | None = None) -> tuple[etree._Element, etree._Element]:
    """A response envelope and its Body; payload elements use `ns` as default namespace (or `prefix`)."""
    nsmap: dict[str | None, str] = {"SOAP-ENV": envelope_ns, prefix: ns}
    root = etree.Element(f"{{{envelope_ns}}}Envelope", nsmap=nsmap)  # type: ignore[arg-type]  # None = default
    return root, etree.SubElement(root, f"{{{envelope_ns}}}Body")


def result(envelope_ns: str, ns: str, name: str) -> tuple[etree._Element, etree._Element]:
    """An envelope and its `<NameResult>` payload element."""
    root, body = envelope(envelope_ns, ns)
    return root, etree.SubElement(body, f"{{{ns}}}{name}")


def success(envelope_ns: str, ns: str) -> bytes:
    """`<ns1:SuccessResult><ns1:success>true</ns1:success></ns1:SuccessResult>`, as in the enroll sample."""
    root, body = envelope(envelope_ns, ns, prefix="ns1")
    node = etree.SubElement(body, f"{{{ns}}}SuccessResult")
    element(node, "success", "true")
    return serialize(root)


def fault(envelope_ns: str, ns: str, error: SoapFault) -> bytes:
    """`SOAP-ENV:Fault` with `faultcode`/`faultstring`, as in the vendor's error sample.

    The sample declares the iSpring namespace as default, so its unprefixed `faultcode` and `faultstring`
    are in that namespace; we write exactly that document.
    """
    root, body = envelope(envelope_ns, ns)
    node = etree.SubElement(body, f"{{{envelope_ns}}}Fault")
    etree.SubElement(node, f"{{{ns}}}faultcode").text = error.faultcode
    etree.SubElement(node, f"{{{ns}}}faultstring").text = error.faultstring
    return serialize(root)


def tagged(name: str, value: str) -> str:
    """`<name>value</name>`, escaped: paged lists are built as text, several times faster than lxml trees."""
    return f"<{name}>{escape(value)}</{name}>"


def document(envelope_ns: str, ns: str, name: str, inner: str) -> bytes:
    """The same document `result()` + `serialize()` give, with `inner` (well-formed, escaped) in `<name>`."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f"<SOAP-ENV:Envelope xmlns:SOAP-ENV={quoteattr(envelope_ns)} xmlns={quoteattr(ns)}>"
        f"<SOAP-ENV:Body><{name}>{inner}</{name}></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def serialize(root: etree._Element) -> bytes:
    """The document with an XML declaration."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

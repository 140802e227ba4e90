"""A hardened XML parser for vendor responses: no DTDs, no entities, no network, bounded size.

Vendors answer with XML (iSpring SOAP, Litmos by default). A response is untrusted input: a DOCTYPE is
refused outright (entity expansion, external entities), the body size is capped, and an HTML error page is
reported as what it is instead of as a parse error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from lxml import etree

from reconciler.errors import ProtocolError
from reconciler.transport.redact import Redactor

DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # a 100,000-user GetUsers answer is well below this
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_HTML = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?<(html|body|head)\b", re.IGNORECASE)


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        load_dtd=False,
        dtd_validation=False,
        recover=recover,
    )


def local_name(element: etree._Element) -> str:
    """The tag without namespace or prefix (`{ns}GetUsersResult` and `ns1:SuccessResult` alike)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    brace = tag.rfind("}")
    if brace >= 0:
        return tag[brace + 1 :]
    return tag[tag.rfind(":") + 1 :]


def parse_xml(
    body: bytes,
    *,
    provider: str = "",
    call: str = "",
    status: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    redactor: Redactor | None = None,
) -> etree._Element:
    """Parse an untrusted XML body into its root element, or raise `ProtocolError` with a short excerpt.

    Undeclared namespace prefixes (as in the vendor's own `ns1:SuccessResult` sample) are tolerated: the
    document is otherwise well-formed, and elements are matched by `local_name`. Every other error is fatal.
    """
    redact = redactor if redactor is not None else Redactor()

    def fail(reason: str) -> ProtocolError:
        excerpt = redact.bytes(body, limit=200)
        return ProtocolError(f"{reason}: {excerpt!r}", provider=provider, call=call, status=status)

    if len(body) > max_bytes:
        limit = f"response of {len(body)} bytes exceeds the limit of {max_bytes}"
        raise ProtocolError(limit, provider=provider, call=call, status=status)
    if not body.strip():
        raise fail("empty response where XML was expected")
    if _HTML.match(body) or body.lstrip()[:15].lower().startswith(b"<!doctype html"):
        raise fail("got an HTML page instead of XML (proxy or server error page?)")
    if _DOCTYPE.search(body):
        raise fail("refusing XML with a DOCTYPE or entity declaration")
    strict = _parser(recover=False)
    try:
        return etree.fromstring(body, strict)
    except etree.XMLSyntaxError as exc:
        if not _only_namespace_errors(strict):
            raise fail(f"malformed XML ({exc.msg})") from None
    recovered = _parser(recover=True)
    root = etree.fromstring(body, recovered)
    if root is None or not _only_namespace_errors(recovered):
        raise fail("malformed XML")
    return root


def _only_namespace_errors(parser: etree.XMLParser) -> bool:
    """True when every error this parser met is an undeclared-prefix (namespace) error."""
    entries = list(cast(Iterable[Any], parser.error_log))  # lxml-stubs do not declare it iterable
    return bool(entries) and all(e.domain_name == "NAMESPACE" for e in entries)

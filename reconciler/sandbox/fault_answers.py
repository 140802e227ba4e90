"""What the fault switches answer in the vendor's place: an HTML error page, a `Permission denied`, renamed
elements (split out of `faults`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>"
    b"<body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>\n"
)


def rename(body: bytes, names: Mapping[str, str]) -> bytes:
    """`body` with each element (`<x>`, `<x ...>`, `</x>`, `<x/>`) and JSON key (`"x":`) renamed."""
    for old, new in names.items():
        a, b = old.encode(), new.encode()
        for before, after in ((b"<" + a + b">", b"<" + b + b">"), (b"<" + a + b" ", b"<" + b + b" ")):
            body = body.replace(before, after)
        body = body.replace(b"</" + a + b">", b"</" + b + b">").replace(b"<" + a + b"/>", b"<" + b + b"/>")
        body = body.replace(b'"' + a + b'":', b'"' + b + b'":')
    return body


def permission_denied(vendor: str, request: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """The vendor's refusal of a call outside the caller's permissions: a SOAP fault (with 500, as the iSpring
    emulator sends faults), REST v3's `ErrorResponse` with 403, or Litmos's plain 403."""
    if vendor == "litmos":
        return "403 Forbidden", [("Content-Type", "text/plain")], b"Forbidden"
    if b"Envelope" in request[:500]:
        fault = (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV='
            b'"http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault>'
            b"<faultcode>client</faultcode><faultstring>Permission denied</faultstring>"
            b"</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        )
        return "500 Internal Server Error", [("Content-Type", "text/xml; charset=utf-8")], fault
    answer = b'{"code": 403, "message": "Permission denied"}'
    return "403 Forbidden", [("Content-Type", "application/json")], answer


def renames_for(renames: Mapping[str, Mapping[str, str]], action: str) -> Mapping[str, str]:
    """The renames of the first glob matching `action` (exact names before wildcards)."""
    lowered = action.lower()
    for pattern in sorted(renames, key=lambda p: ("*" in p or "?" in p, p)):
        if fnmatch.fnmatchcase(lowered, pattern.lower()):
            return renames[pattern]
    return {}

"""What reached the LMS: a WSGI recorder in front of a vendor emulator noting which (user, item) pairs each
accepted write request touched (iSpring SOAP and REST v3, Litmos), for the fault harness (harness.py)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree

from tests.support.clocks import Body

Key = tuple[str, str]  # (user id, item id)
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class WriteRecorder:
    """In front of the vendor app (behind the faults): the pairs each write the LMS accepted touched."""

    def __init__(self, app: WSGIApp, vendor: str, enrollment_keys: Callable[[str], Key | None]) -> None:
        self.app, self.vendor, self.enrollment_keys = app, vendor, enrollment_keys
        self.writes: list[tuple[str, Key]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = Body(body)
        touched = self._touched(environ, body)  # read before the app runs: a removal deletes the row
        status: list[str] = []

        def recording_start(line: str, headers: Any, *rest: Any) -> Any:
            status.append(line)
            return start_response(line, headers, *rest)

        answer = list(self.app(environ, recording_start))
        if status and status[0].startswith("2"):  # refusals (expired token, unknown id) changed nothing
            with self._lock:
                self.writes.extend(touched)
        return answer

    def _touched(self, environ: dict[str, Any], body: bytes) -> list[tuple[str, Key]]:
        if self.vendor == "litmos":
            return _litmos_writes(str(environ.get("REQUEST_METHOD")), str(environ.get("PATH_INFO")), body)
        path = str(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") == "POST" and path.startswith("/enrollment"):
            return _ispring_rest_writes(path, body, self.enrollment_keys)
        return _ispring_writes(body, self.enrollment_keys)


_LITMOS_WRITE = re.compile(r"^(?:/v1\.svc)?/users/([^/]+)/(courses|learningpaths)(?:/([^/]+))?$")


def _litmos_writes(method: str, path: str, body: bytes) -> list[tuple[str, Key]]:
    match = _LITMOS_WRITE.match(path)
    if match is None or method not in ("POST", "DELETE"):
        return []
    user = match.group(1)
    if method == "DELETE":
        return [("remove", (user, match.group(3) or ""))]
    try:
        rows = json.loads(body or b"[]")
    except ValueError:
        return []
    return [("add", (user, str(r.get("Id")))) for r in rows if isinstance(r, dict)]


def _ispring_rest_writes(
    path: str, body: bytes, enrollment_keys: Callable[[str], Key | None]
) -> list[tuple[str, Key]]:
    """REST v3: `POST /enrollment` (learners × courses), `/enrollment/{id}` (change), `/enrollment/delete`."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    if path == "/enrollment":
        users, items = payload.get("learnerIds") or [], payload.get("courseIds") or []
        return [("add", (str(u), str(c))) for u in users for c in items]
    if path == "/enrollment/delete":
        keys = (enrollment_keys(str(e)) for e in payload.get("enrollmentIds") or [])
        return [("remove", key) for key in keys if key]
    key = enrollment_keys(path.rsplit("/", 1)[-1])
    return [("update", key)] if key else []


def _ispring_writes(body: bytes, enrollment_keys: Callable[[str], Key | None]) -> list[tuple[str, Key]]:
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    names = {etree.QName(e).localname for e in root.iter() if isinstance(e.tag, str)}

    def ids(name: str) -> list[str]:
        return [str(e.text) for e in root.iter() if isinstance(e.tag, str) and _under(e, name)]

    if "EnrollLearnersInCoursesRequest" in names:
        return [("add", (u, c)) for u in ids("learnerIds") for c in ids("courseIds")]
    kind = {"ChangeEnrollmentRequest": "update", "UnenrollRequest": "remove"}
    found = [kind[n] for n in names if n in kind]
    if not found:
        return []
    enrollment = next((str(e.text) for e in root.iter() if _local(e) == "enrollmentId"), "")
    key = enrollment_keys(enrollment)
    return [(found[0], key)] if key else []


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _under(element: Any, name: str) -> bool:
    parent = element.getparent()
    return parent is not None and _local(parent) == name

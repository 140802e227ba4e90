"""Broken, hostile and surprising vendor answers: every one ends the run with a clear error and no write.

Each case replaces one call's answer (by a middleware in front of the emulator served over loopback HTTP)
and runs `enrollctl apply --auto-approve`, which would write if the reads went through. The bodies are in
tests/data/bad_responses/; the generated ones (giant bodies) are built here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.bad import (
    CANARY,
    EXAMPLE_OF,
    EXAMPLES,
    NO_WAIT,
    Served,
    assert_clean_failure,
    enrollctl,
    replace,
    served_sandbox,
    url_repository,
)
from tests.support.paths import TESTS

BODIES = TESTS / "data" / "bad_responses"
XML = "text/xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
# 20 times the largest real page (~0.5 MB, docs/PERFORMANCE.md) and 2,000 times the output allowed: big enough
# to hurt a careless client (a whole body quoted, or read again and again), small enough to read 4 times
GIANT = 10 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One replaced answer and what the error must say."""

    name: str
    vendor: str
    call: str  # glob over the call: iSpring SOAP action or `token`; Litmos `METHOD /path`
    status: int
    body: str | bytes | Callable[[], bytes]  # a file in tests/data/bad_responses/, the bytes, or a maker
    content_type: str
    needles: tuple[str, ...]
    api: str | None = None  # iSpring: `api:` in enrollctl.yaml; SOAP cases (by their call) say soap

    def payload(self) -> bytes:
        if callable(self.body):
            return self.body()
        return self.body if isinstance(self.body, bytes) else (BODIES / self.body).read_bytes()


def _giant_xml() -> bytes:
    """10 MB of well-formed XML that is not a SOAP envelope."""
    head = b'<?xml version="1.0"?><Users>'
    return head + b"<User><Id>x</Id></User>" * (GIANT // 23) + b"</Users>"


def _giant_json() -> bytes:
    """10 MB of rows, cut off before the closing bracket (a proxy that gave up mid-transfer)."""
    return b"[" + b",".join([b'{"Id": "a", "UserName": "b"}'] * (GIANT // 28))


ISP, LIT = "ispring", "litmos"
ISPRING_REST_CASES = [
    # iSpring REST v3 (the default api): the call is the request path
    Case(
        "html-200-ispring-rest",
        ISP,
        "/departments",
        200,
        "html-error-page.html",
        HTML,
        ("ListDepartments", "not JSON"),
    ),
    Case("html-502-ispring-rest", ISP, "/users", 502, "html-error-page.html", HTML, ("ListUsers", "502")),
    Case(
        "renamed-list-ispring-rest", ISP, "/groups", 200, b'{"items": []}', JSON, ("ListGroups", "'groups'")
    ),
    Case("empty-ispring-rest", ISP, "/contents", 200, b"", JSON, ("ListContent", "not JSON")),
    Case(
        "object-for-record-ispring-rest", ISP, "/users", 200, b'{"userProfiles": [1]}', JSON, ("ListUsers",)
    ),
    Case("giant-json-ispring-rest", ISP, "/users", 200, _giant_json, JSON, ("ListUsers",)),
]
CASES = [
    # HTML where the API should answer: a proxy error page, a login page served with 200
    Case(
        "html-200-soap", ISP, "GetDepartments", 200, "html-error-page.html", HTML, ("GetDepartments", "HTML")
    ),
    Case("html-502-soap", ISP, "GetUsers", 502, "html-error-page.html", HTML, ("GetUsers", "502")),
    Case("html-login-token", ISP, "token", 200, "html-login-page.html", HTML, ("token", "HTML")),
    Case(
        "html-200-rest", LIT, "GET /users", 200, "html-login-page.html", HTML, ("academy GET /users", "HTML")
    ),
    Case("html-502-rest", LIT, "GET /courses", 502, "html-error-page.html", HTML, ("GET /courses", "502")),
    # a body of the wrong kind, or labelled as the wrong kind
    Case("json-for-soap", ISP, "GetUsers", 200, "json-object.json", JSON, ("GetUsers", "malformed XML")),
    Case(
        "plain-text-soap", ISP, "GetGroups", 200, "plain-text.txt", "text/plain", ("GetGroups", "malformed")
    ),
    Case(
        "xml-labelled-json-soap", ISP, "ListContent", 200, "truncated.xml", JSON, ("ListContent", "malformed")
    ),
    Case(
        "plain-text-rest", LIT, "GET /users", 200, "plain-text.txt", "text/plain", ("GET /users", "neither")
    ),
    Case(
        "html-labelled-json-rest",
        LIT,
        "GET /teams",
        200,
        "html-error-page.html",
        JSON,
        ("GET /teams", "JSON"),
    ),
    # empty and cut-short bodies
    Case("empty-soap", ISP, "GetDepartments", 200, b"", XML, ("GetDepartments", "empty")),
    Case("empty-token", ISP, "token", 200, b"", JSON, ("token", "not a JSON object")),
    Case("truncated-soap", ISP, "GetUsers", 200, "truncated.xml", XML, ("GetUsers", "malformed")),
    Case(
        "truncated-json-rest", LIT, "GET /users", 200, "litmos-truncated.json", JSON, ("GET /users", "JSON")
    ),
    # entity tricks: external entities (file, network) and exponential expansion are refused, not parsed
    Case("xxe-file-soap", ISP, "GetUsers", 200, "xxe-file.xml", XML, ("GetUsers", "DOCTYPE")),
    Case("xxe-network-soap", ISP, "GetGroups", 200, "xxe-network.xml", XML, ("GetGroups", "DOCTYPE")),
    Case(
        "billion-laughs-soap",
        ISP,
        "GetDepartments",
        200,
        "billion-laughs.xml",
        XML,
        ("GetDepartments", "DOCTYPE"),
    ),
    Case(
        "xxe-file-rest", LIT, "GET /users", 200, "xxe-file.xml", "application/xml", ("GET /users", "DOCTYPE")
    ),
    Case(
        "billion-laughs-rest", LIT, "GET /courses", 200, "billion-laughs.xml", "application/xml", ("DOCTYPE",)
    ),
    # not UTF-8
    Case("non-utf8-soap", ISP, "GetUsers", 200, "non-utf8.xml", XML, ("GetUsers", "malformed")),
    Case("non-utf8-rest", LIT, "GET /users", 200, "non-utf8.json", JSON, ("GET /users", "JSON")),
    # giant bodies of junk
    Case("giant-xml-soap", ISP, "GetUsers", 200, _giant_xml, XML, ("GetUsers",)),
    Case("giant-json-rest", LIT, "GET /learningpaths", 200, _giant_json, JSON, ("GET /learningpaths",)),
    # well-formed, but not what the call answers
    Case(
        "soap-fault-unknown-text",
        ISP,
        "GetUsers",
        500,
        "soap-fault-unknown.xml",
        XML,
        ("GetUsers", "Quantum flux"),
    ),
    Case("soap-wrong-result", ISP, "GetGroups", 200, "ispring-wrong-result.xml", XML, ("GetGroupsResult",)),
    Case(
        "soap-user-without-id",
        ISP,
        "GetUsers",
        200,
        "ispring-users-missing-id.xml",
        XML,
        ("GetUsers", "userId"),
    ),
    Case("soap-user-nil-id", ISP, "GetUsers", 200, "ispring-users-nil-id.xml", XML, ("GetUsers", "userId")),
    Case(
        "rest-user-null-id",
        LIT,
        "GET /users",
        200,
        "litmos-null-id.json",
        JSON,
        ("GET /users", "without an Id"),
    ),
    Case("rest-user-missing-id", LIT, "GET /users", 200, "litmos-missing-id.json", JSON, ("without an Id",)),
    Case(
        "rest-user-nil-id-xml",
        LIT,
        "GET /users",
        200,
        "litmos-nil-id.xml",
        XML,
        ("GET /users", "without an Id"),
    ),
]
CASES = [
    Case(c.name, c.vendor, c.call, c.status, c.body, c.content_type, c.needles, "soap")
    if c.vendor == ISP and c.call != "token"
    else c
    for c in CASES
] + ISPRING_REST_CASES


def _serve(vendor: str, tmp_path: Path, api: str | None = None) -> Iterator[tuple[Served, Path]]:
    org = EXAMPLES / EXAMPLE_OF[vendor][0] / "sandbox.yaml"
    with served_sandbox(vendor, org, tmp_path / "lms.sqlite") as served:
        yield served, url_repository(vendor, tmp_path / "repo", served.url, api=api)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_vendor_answer_fails_the_run_clearly_without_writing(case: Case, tmp_path: Path) -> None:
    for served, repo in _serve(case.vendor, tmp_path, case.api):
        served.recorder.rules.append(replace(case.call, case.status, case.payload(), case.content_type))
        result = enrollctl(repo, "apply", "--auto-approve", runtime=NO_WAIT)
        assert_clean_failure(result, *case.needles)
        assert served.writes() == []
        assert "root:" not in result.output  # no /etc/passwd content came back through an entity
        assert "lollol" not in result.output
        assert len(result.output) < 5000, "an error quotes an excerpt, never a whole body"
        assert CANARY not in result.output

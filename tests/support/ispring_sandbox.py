"""Test support for the iSpring emulator: a small org, a fake clock, raw SOAP over httpx, lxml helpers.

Written from the vendor pages: requests are plain XML strings, responses are read with lxml by local name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from lxml import etree

from reconciler.sandbox.faults import Faults
from reconciler.sandbox.org.load import parse_org, seed_store
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, build_app
from reconciler.sandbox.store.database import Store

VENDOR_DOCS = Path("/work/shared/vendor-docs")
SAMPLE_TOKEN = "p-1sJDjmULL5DdpXPJTcbm4jVIaWVHvNmrjAxATRbNE"
NS = "https://ispringlearn.com/go/services/api/soap"
ENV_DOCS = "https://schemas.xmlsoap.org/soap/envelope/"
ENV_STD = "http://schemas.xmlsoap.org/soap/envelope/"
CREDS = SANDBOX_CREDENTIALS["ispring"]
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)

SMALL_ORG = """
departments:
  - name: Acme
    children:
      - {name: Engineering, children: [{name: Platform}]}
      - {name: Sales, children: [{name: EMEA}, {name: Americas}]}
groups: [New hires, Managers]
users:
  - {login: helen@acme.example, first_name: Helen, last_name: Jones, department: Acme/Sales/EMEA,
     groups: [Managers]}
  - {login: kevin@acme.example, first_name: Kevin, last_name: Klein, department: Acme/Sales,
     role: department_administrator, manages: [Acme/Sales]}
  - {login: paul@acme.example, first_name: Paul, last_name: Ng, department: Acme/Engineering/Platform,
     groups: [New hires]}
  - {login: olga@acme.example, first_name: Olga, last_name: Ivanova, department: Acme/Sales/Americas,
     status: blocked}
  - {login: ed@acme.example, first_name: Ed, last_name: Stone, department: Acme/Engineering,
     status: employment_ended}
  - {login: ina@acme.example, first_name: Ina, last_name: Berg, department: Acme/Engineering,
     status: inactive}
courses: [{title: Security Awareness}, {title: Anti-Bribery}, {title: Forklift Safety, default_due_days: 14}]
learning_paths:
  - {title: Onboarding, courses: [Security Awareness, Anti-Bribery]}
enrollments:
  - {user: helen@acme.example, course: Anti-Bribery, status: complete, access: 2026-01-05, due: 2026-02-01,
     completed: 2026-01-20, score: 90}
  - {user: helen@acme.example, course: Security Awareness, status: in_progress, progress: 40,
     access: 2026-01-10}
  - {user: paul@acme.example, course: Security Awareness, status: not_started, access: 2026-02-01,
     due: 2026-02-15, lock_after_due: true}
  - {user: olga@acme.example, course: Anti-Bribery, status: failed, access: 2026-01-15, score: 30}
  - {user: paul@acme.example, learning_path: Onboarding, status: not_started, origin: catalog,
     access: 2026-02-02}
"""


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass
class Sandbox:
    """A store, the emulator on it, and an httpx client speaking to it in-process."""

    store: Store
    http: httpx.Client
    clock: FakeClock = field(default_factory=FakeClock)

    def token(self, client_id: str = CREDS["client_id"], secret: str = CREDS["client_secret"]) -> str:
        response = self.http.post(
            "/api/v3/token",
            data={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def admin_token(self) -> str:
        return self.token(CREDS["department_admin_client_id"], CREDS["department_admin_client_secret"])

    def call(
        self, method: str, params: str = "", token: str | None = None, envelope: str = ENV_DOCS
    ) -> Reply:
        token = token if token is not None else self.token()
        body = (
            f'<?xml version="1.0" encoding="utf-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="{envelope}" '
            f'xmlns="{NS}"><SOAP-ENV:Body><{method}Request><credentials><token>{token}</token></credentials>'
            f"{params}</{method}Request></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        )
        return self.post(body, method)

    def post(self, body: str | bytes, action: str | None) -> Reply:
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if action is not None:
            headers["SOAPAction"] = f'"{action}"'
        content = body.encode() if isinstance(body, str) else body
        return Reply(self.http.post("/api/v2/soap/2.0", content=content, headers=headers))


@dataclass
class Reply:
    """A SOAP response, parsed."""

    response: httpx.Response

    @property
    def root(self) -> etree._Element:
        return etree.fromstring(self.response.content)

    @property
    def fault(self) -> str | None:
        found = self.all("faultstring")
        return found[0].text if found else None

    def all(self, name: str) -> list[etree._Element]:
        return [e for e in self.root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == name]

    def texts(self, name: str) -> list[str]:
        return [e.text or "" for e in self.all(name)]

    def one(self, name: str) -> str | None:
        values = self.texts(name)
        return values[0] if values else None


def make_sandbox(
    org: str = SMALL_ORG,
    faults: Faults | None = None,
    store: Store | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Sandbox:
    """A seeded in-memory sandbox with a fake clock, served in-process."""
    if store is None:
        store = Store.open(":memory:")
        seed_store(store, parse_org(org))
    clock = FakeClock()
    app = build_app("ispring", store, faults, clock=clock, sleep=sleep)
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox.test")
    return Sandbox(store, http, clock)


def vendor_sample_request(page: str) -> str:
    """The first SOAP envelope on a vendor page, verbatim."""
    text = (VENDOR_DOCS / f"ispring-soap-{page}.txt").read_text()
    match = re.search(r"<\?xml.*?</SOAP-ENV:Envelope>", text, re.S)
    assert match is not None
    return match.group(0)


def vendor_sample_response(page: str) -> etree._Element:
    """The second SOAP envelope on a vendor page (the sample response), parsed leniently."""
    text = (VENDOR_DOCS / f"ispring-soap-{page}.txt").read_text()
    envelopes = re.findall(r"<\?xml.*?</SOAP-ENV:Envelope>", text, re.S)
    parser = etree.XMLParser(recover=True)
    return etree.fromstring(envelopes[1].encode(), parser)


def local_names(element: etree._Element) -> list[str]:
    """Local names of an element's children, in order."""
    return [etree.QName(c).localname for c in element if isinstance(c.tag, str)]


def ids(*values: str, tag: str = "id") -> str:
    """`<id>a</id><id>b</id>`."""
    return "".join(f"<{tag}>{v}</{tag}>" for v in values)

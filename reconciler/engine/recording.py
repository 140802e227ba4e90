"""`enrollctl doctor --record DIR`: the probes' exchanges, safe to attach to a bug report.

Each exchange becomes one JSON file (`DIR/<provider>/NN-<call>.json`: request line, headers and body, the
answer's status, headers and body), ready to become a test fixture. Before anything is written:
- secrets are masked (`***`): credential headers (`Authorization`, `apikey`, cookies) and query or form
  parameters by name, then every value the provider's `transport.redact.Redactor` knows (the credentials and
  any token fetched while probing) in any encoding;
- personal data is replaced by stable placeholders: every login, e-mail, name and phone number found in a
  body (by field name, in JSON and XML, and in iSpring's `<field><name>EMAIL</name><value>` pairs) or a
  query is replaced wherever it occurs, the same value by the same placeholder (`person3@example.invalid`,
  `login3`, `Name3`, `+1555000003`), so the exchanges still agree with one another.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from lxml import etree

from reconciler.errors import UsageError
from reconciler.providers.base import Diagnosis, Exchange
from reconciler.transport.redact import MASK, Redactor

PERSONAL = {
    "login": "login",
    "logins": "login",
    "username": "login",
    "email": "email",
    "emails": "email",
    "firstname": "name",
    "lastname": "name",
    "middlename": "name",
    "fullname": "name",
    "displayname": "name",
    "phone": "phone",
    "phonework": "phone",
    "phonemobile": "phone",
    "mobile": "phone",
    "mobilephone": "phone",
}
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "apikey", "api-key", "x-api-key", "cookie", "set-cookie"}
    | {"x-auth-password", "x-auth-email", "x-auth-token"}
)
SECRET_PARAMS = frozenset(
    {"apikey", "api_key", "token", "access_token", "refresh_token", "client_id", "client_secret", "password"}
)
MIN_PERSONAL = 2  # a one-character value would be replaced inside ordinary words
_WORD = re.compile(r"[\w.@+%\\-]+")  # a value's run of characters in a body, URL or header


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


class Pseudonyms:
    """Personal values found in the exchanges, each with its stable placeholder."""

    def __init__(self) -> None:
        self.placeholders: dict[str, str] = {}
        self._count = 0
        self._forms: dict[str, str] = {}
        self._compiled: tuple[int, dict[str, str], re.Pattern[str] | None] | None = None

    def add(self, kind: str, value: object) -> None:
        text = str(value).strip() if isinstance(value, str | int) else ""
        if len(text) < MIN_PERSONAL or text in self.placeholders or text == MASK:
            return
        self._count += 1
        n = self._count
        if kind == "email" or "@" in text:
            self.placeholders[text] = f"person{n}@example.invalid"
        elif kind == "login":
            self.placeholders[text] = f"login{n}"
        elif kind == "phone":
            self.placeholders[text] = f"+1555{n:06d}"
        else:
            self.placeholders[text] = f"Name{n}"

    def collect(self, exchange: Exchange) -> None:
        """Every personal value in an exchange's bodies and URL."""
        for name, value in parse_qsl(urlsplit(exchange.url).query):
            kind = PERSONAL.get(_key(name))
            if kind:
                self.add(kind, value)
        for body in (exchange.request_body, exchange.response_body):
            self._collect_body(body)

    def _collect_body(self, body: bytes) -> None:
        stripped = body.lstrip()
        if stripped[:1] in (b"{", b"["):
            try:
                data = json.loads(stripped)
            except ValueError:
                return  # not JSON after all: nothing to find by field name
            self._walk_json(data)
        elif stripped[:1] == b"<":
            parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
            try:
                root = etree.fromstring(stripped, parser)
            except etree.XMLSyntaxError:
                root = None
            if root is not None:
                self._walk_xml(root)

    def _walk_json(self, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            pair = {_key(str(k)): v for k, v in value.items()}
            if isinstance(pair.get("name"), str) and PERSONAL.get(_key(pair["name"])):
                self.add(PERSONAL[_key(pair["name"])], pair.get("value"))
            for name, inner in value.items():
                self._walk_json(inner, _key(str(name)))
        elif isinstance(value, list):
            for inner in value:
                self._walk_json(inner, key)
        elif key in PERSONAL:
            self.add(PERSONAL[key], value)

    def _walk_xml(self, root: etree._Element) -> None:
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            name = _key(etree.QName(element).localname)
            if name in PERSONAL and len(element) == 0:
                self.add(PERSONAL[name], element.text or "")
            if name == "field":  # iSpring: <field><name>EMAIL</name><value>...</value></field>
                parts = {
                    _key(etree.QName(c).localname): (c.text or "") for c in element if isinstance(c.tag, str)
                }
                kind = PERSONAL.get(_key(parts.get("name", "")))
                if kind:
                    self.add(kind, parts.get("value", ""))

    def replace(self, text: str) -> str:
        """`text` with every known personal value replaced, raw or JSON-, XML- or URL-encoded."""
        if not self.placeholders:
            return text
        words, phrases = self._matchers()
        if phrases is not None:  # values with spaces or punctuation ("Mary Ann", "O'Brien"): few
            text = phrases.sub(lambda m: self._forms[m.group(0)], text)
        # one-word forms are looked up word by word: a big account has tens of thousands of them
        return _WORD.sub(lambda m: words.get(m.group(0), m.group(0)), text)

    def _matchers(self) -> tuple[dict[str, str], re.Pattern[str] | None]:
        if self._compiled is None or self._compiled[0] != len(self.placeholders):
            forms: dict[str, str] = {}
            for value, placeholder in self.placeholders.items():
                for form in _encodings(value):
                    forms.setdefault(form, placeholder)
            words = {f: p for f, p in forms.items() if _WORD.fullmatch(f)}
            others = sorted((f for f in forms if f not in words), key=len, reverse=True)
            pattern = "|".join(rf"(?<![\w.@+-]){re.escape(f)}(?![\w@-])" for f in others)
            self._forms = forms
            self._compiled = (len(self.placeholders), words, re.compile(pattern) if others else None)
        return self._compiled[1], self._compiled[2]


def _encodings(value: str) -> Iterator[str]:
    yield value
    yield json.dumps(value)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    yield html.escape(value, quote=False)
    yield quote(value, safe="")
    yield quote_plus(value, safe="")


def _mask_params(text: str) -> str:
    """Query or form parameters named like secrets, masked (`client_secret=***`)."""
    names = "|".join(sorted(SECRET_PARAMS))
    return re.sub(rf"((?:^|[?&])(?:{names})=)[^&\s]*", rf"\g<1>{MASK}", text, flags=re.IGNORECASE)


class Recording:
    """The exchanges of every provider, scrubbed when written."""

    def __init__(self) -> None:
        self.providers: list[tuple[str, Diagnosis]] = []
        self.people = Pseudonyms()

    def add(self, provider: str, diagnosis: Diagnosis) -> None:
        self.providers.append((provider, diagnosis))
        for exchange in diagnosis.exchanges:
            self.people.collect(exchange)

    def write(self, directory: Path) -> int:
        """Write every exchange under `directory` (created); how many were written."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(
                f"--record {directory}: cannot create the directory ({error.strerror})"
            ) from None
        written = 0
        for provider, diagnosis in self.providers:
            folder = directory / _slug(provider)
            folder.mkdir(exist_ok=True)
            for n, exchange in enumerate(diagnosis.exchanges, 1):
                record = self.scrub(exchange, diagnosis.redactor)
                name = f"{n:02d}-{_slug(_call_name(exchange))}.json"
                (folder / name).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", "utf-8")
                written += 1
        return written

    def scrub(self, exchange: Exchange, redactor: Redactor) -> dict[str, Any]:
        """One exchange as written: secrets masked, personal data replaced."""

        def clean(text: str) -> str:
            return self.people.replace(redactor(_mask_params(text)))

        def headers(items: Iterable[tuple[str, str]]) -> list[str]:
            return [f"{k}: {MASK if k.lower() in SECRET_HEADERS else clean(v)}" for k, v in items]

        request = {
            "method": exchange.method,
            "url": clean(exchange.url),
            "headers": headers(exchange.request_headers),
            "body": clean(exchange.request_body.decode("utf-8", "replace")),
        }
        response: dict[str, Any] | None = None
        if exchange.status is not None:
            response = {
                "status": exchange.status,
                "headers": headers(exchange.response_headers),
                "body": clean(exchange.response_body.decode("utf-8", "replace")),
            }
        return {"request": request, "response": response, "seconds": round(exchange.seconds, 4)}


def _call_name(exchange: Exchange) -> str:
    action = dict((k.lower(), v) for k, v in exchange.request_headers).get("soapaction", "").strip('"')
    path = urlsplit(exchange.url).path.rsplit("/", 2)[-2:]
    return f"{exchange.method}-{action or '-'.join(path)}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60] or "call"

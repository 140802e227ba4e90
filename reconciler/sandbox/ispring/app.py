"""The iSpring Learn SOAP emulator: a WSGI app over the sandbox store.

`POST /api/v2/soap/2.0` (also under `/index.php`) with a `SOAPAction` header, and the OAuth token endpoint
`POST /api/v3/token`. Written from the vendor pages in `vendor-docs/` and vendor-apis.md section 1.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from reconciler.sandbox.ispring import reads, rest, writes
from reconciler.sandbox.ispring.context import Context
from reconciler.sandbox.ispring.results import list_learners_results
from reconciler.sandbox.ispring.soap import (
    AUTHORIZATION_FAILED,
    ENVELOPE_NS,
    MAX_BODY_BYTES,
    SOAP_NS,
    WRONG_PARAMETERS,
    SoapCall,
    SoapFault,
    fault,
    parse_call,
    text,
    token_of,
)
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import RequestLogEntry, TokenRow
from reconciler.sandbox.wsgi import read_body

VENDOR = "ispring"
SOAP_PATHS = ("/api/v2/soap/2.0", "/index.php/api/v2/soap/2.0")
TOKEN_PATHS = ("/api/v3/token", "/index.php/api/v3/token")
DEFAULT_TOKEN_TTL = 1800  # seconds, as the vendor's token endpoint answers
# inferred: PHP's SoapServer (iSpring's stack, `index.php`) and SOAP 1.1 send faults with HTTP 500
FAULT_STATUS = 500
MAX_FORM_BYTES = 64 * 1024

Clock = Callable[[], dt.datetime]
StartResponse = Callable[..., Any]
Answer = bytes | Iterator[bytes]  # an iterator is streamed (GetUsers: the vendor does not page it)
Handler = Callable[[Context], Answer]


@dataclass(frozen=True)
class Client:
    """An API key (client id + secret); `department_paths` scopes a department administrator's key.

    `department_paths=()` means "the departments the org's first department administrator manages" (or,
    with none, the first department below the root), so the sandbox has a scoped key for any org.
    """

    client_id: str
    client_secret: str
    department_paths: tuple[str, ...] | None = None  # None: the whole account


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


HANDLERS: dict[str, Handler] = {
    "getusers": lambda ctx: reads.get_users(ctx, 1),
    "getusersv2": lambda ctx: reads.get_users(ctx, 2),
    "getdepartments": reads.get_departments,
    "getgroups": reads.get_groups,
    "listcontent": reads.list_content,
    "listenrollments": reads.list_enrollments,
    "listlearnersresults": list_learners_results,
    "enrolllearnersincourses": writes.enroll_learners_in_courses,
    "changeenrollment": writes.change_enrollment,
    "unenroll": writes.unenroll,
}


def method_name(soap_action: str | None, call: SoapCall | None) -> str:
    """The lower-cased method from `SOAPAction` (quoted or not, any case, URI-prefixed) or the Body element.

    # inferred: the pages mention `getUsers/v2` but show no request; we accept SOAPAction `GetUsers/v2`,
    `GetUsersV2`, a `GetUsersV2Request` element, or `<version>2</version>` inside `GetUsersRequest`.
    """
    action = (soap_action or "").strip().strip('"').strip()
    if action.lower().endswith("/v2"):
        return action[:-3].rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower() + "v2"
    name = action.rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower()
    if not name and call is not None:
        name = call.element_name.removesuffix("Request").lower()
    v2_request = call is not None and call.element_name.lower() == "getusersv2request"
    if name == "getusers" and call is not None and (v2_request or text(call, "version") == "2"):
        return "getusersv2"
    return name


class ISpringApp:
    """The emulator; `token_ttl` is configurable so tests can expire tokens."""

    def __init__(
        self,
        store: Store,
        clients: Iterable[Client],
        *,
        clock: Clock = _utc_now,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        page_token_ttl: dt.timedelta | None = None,
        static_tokens: Mapping[str, str] | None = None,  # token → client id; never expire
        users_v1: bool = False,  # SOAP GetUsers version 2 refused with `Wrong parameters` (an older account)
    ) -> None:
        self.store, self.clock, self.token_ttl, self.page_token_ttl = store, clock, token_ttl, page_token_ttl
        self.users_v1 = users_v1
        self.clients = {c.client_id: c for c in clients}
        self.static_tokens = dict(static_tokens or {})

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        path, method = str(environ.get("PATH_INFO", "")), str(environ.get("REQUEST_METHOD", "GET"))
        action, client = f"{method} {path}", ""
        notes: list[str] = []
        body: Answer
        try:
            if path in TOKEN_PATHS and method == "POST":
                status, content_type, body, client, notes = self._token(environ)
                action = "token"
            elif path in SOAP_PATHS and method == "POST":
                status, body, action, client, notes = self._soap(environ)
                content_type = "text/xml; charset=utf-8"
            elif rest.is_rest_path(path):
                status, content_type, body, action, client, notes = self._rest(environ, path, method)
            elif path in SOAP_PATHS + TOKEN_PATHS:
                status, content_type, body = 405, "text/plain", b"Method Not Allowed"
            else:
                status, content_type, body = 404, "text/plain", b"Not Found"
        except Exception as error:  # a server answers 500 and keeps serving; the log names the error type
            status, content_type = 500, "text/xml; charset=utf-8"
            body = fault(ENVELOPE_NS, SOAP_NS, SoapFault("Internal error", faultcode="server"))
            notes = [f"internal error: {type(error).__name__}"]
        reason = f"{status} {_REASONS.get(status, 'OK')}"
        if not isinstance(body, bytes):
            # streamed: no Content-Length (the connection's end ends the body); logged once it is sent
            start_response(reason, [("Content-Type", content_type)])
            return _Streamed(
                body, lambda: self._log(method, path, action, status, started, client, "; ".join(notes))
            )
        allow = (
            [("Allow", rest.allowed(path) if rest.is_rest_path(path) else "POST")] if status == 405 else []
        )
        start_response(reason, [("Content-Type", content_type), ("Content-Length", str(len(body))), *allow])
        self._log(method, path, action, status, started, client, "; ".join(notes))
        return [body]

    # --- token endpoint --------------------------------------------------------------------------------

    def _token(self, environ: Mapping[str, Any]) -> tuple[int, str, bytes, str, list[str]]:
        form = _form(read_body(environ, MAX_FORM_BYTES))
        client_id, secret, grant = (
            form.get("client_id", ""),
            form.get("client_secret", ""),
            form.get("grant_type", ""),
        )
        if grant != "client_credentials":
            return 400, "application/json", _json({"code": 400, "message": WRONG_PARAMETERS}), client_id, []
        known = self.clients.get(client_id)
        if known is None or not secrets.compare_digest(known.client_secret.encode(), secret.encode()):
            body = _json({"code": 401, "message": AUTHORIZATION_FAILED})
            return 401, "application/json", body, client_id, ["bad client credentials"]
        token = secrets.token_urlsafe(32)
        expires = self.clock() + dt.timedelta(seconds=self.token_ttl)
        self.store.save_token(TokenRow(token, client_id, expires, self._scope_roots(known)))
        body = _json({"access_token": token, "expires_in": self.token_ttl, "token_type": "bearer"})
        return 200, "application/json", body, client_id, []

    def _scope_roots(self, client: Client) -> frozenset[str] | None:
        if client.department_paths is None:
            return None
        if client.department_paths:
            found = (self.store.get_department(p, by="path") for p in client.department_paths)
            return frozenset(d.uuid for d in found if d is not None)
        admins = [u for u in self.store.users() if u.role == "department_administrator"]
        if admins and admins[0].manageable_department_uuids:
            return frozenset(admins[0].manageable_department_uuids)
        below_root = [d for d in self.store.departments() if d.parent_uuid is not None]
        return frozenset({below_root[0].uuid}) if below_root else frozenset()

    # --- SOAP ------------------------------------------------------------------------------------------

    def _soap(self, environ: Mapping[str, Any]) -> tuple[int, Answer, str, str, list[str]]:
        soap_action = environ.get("HTTP_SOAPACTION")
        envelope_ns, ns, action, client = ENVELOPE_NS, SOAP_NS, str(soap_action or "").strip('"'), ""
        notes: list[str] = []
        try:
            call = parse_call(read_body(environ, MAX_BODY_BYTES + 1))
            envelope_ns, ns = call.envelope_ns, call.ns
            if call.recovered:
                notes.append("malformed XML read in recover mode")
            name = method_name(soap_action, call)
            action = name
            handler = HANDLERS.get(name)
            client, scope = self._authorize(call, environ)
            if handler is None or (self.users_v1 and name == "getusersv2"):
                raise SoapFault(WRONG_PARAMETERS, f"unknown method {action!r}")
            ctx = Context(self.store, self.clock(), call, scope, self.page_token_ttl, notes)
            return 200, handler(ctx), canonical_method(name), client, notes
        except SoapFault as error:
            notes.append(f"fault {error.faultstring}" + (f": {error.detail}" if error.detail else ""))
            return (
                FAULT_STATUS,
                fault(envelope_ns, ns, error),
                canonical_method(action.lower()),
                client,
                notes,
            )

    # --- REST v3 ---------------------------------------------------------------------------------------

    def _rest(
        self, environ: Mapping[str, Any], path: str, method: str
    ) -> tuple[int, str, bytes, str, str, list[str]]:
        notes: list[str] = []
        caller = [""]

        def context(call: SoapCall) -> Context:
            caller[0], scope = self._client_for(_bearer(environ))
            return Context(self.store, self.clock(), call, scope, self.page_token_ttl, notes)

        body = read_body(environ, MAX_BODY_BYTES + 1) if method == "POST" else b""
        reply = rest.answer(method, path, str(environ.get("QUERY_STRING", "")), body, context)
        if reply.detail:
            notes.append(reply.detail)
        return reply.status, reply.content_type, reply.body, reply.action, caller[0], notes

    def _authorize(self, call: SoapCall, environ: Mapping[str, Any]) -> tuple[str, frozenset[str] | None]:
        """The client behind the call's token and its department scope (expanded to sub-departments)."""
        return self._client_for(token_of(call) or _bearer(environ))

    def _client_for(self, token: str | None) -> tuple[str, frozenset[str] | None]:
        if token is None:
            raise SoapFault(AUTHORIZATION_FAILED, "no token")
        if token in self.static_tokens:
            client = self.clients.get(self.static_tokens[token])
            roots = self._scope_roots(client) if client else None
            return self.static_tokens[token], self._expand(roots)
        issued = self.store.get_token(token)
        if issued is None:
            raise SoapFault(AUTHORIZATION_FAILED, "unknown token")
        if issued.expires_at <= self.clock():
            raise SoapFault(AUTHORIZATION_FAILED, "token expired")
        return issued.client_id, self._expand(issued.department_uuids)

    def _expand(self, roots: frozenset[str] | None) -> frozenset[str] | None:
        return None if roots is None else self.store.department_subtree(roots)

    def _log(
        self, method: str, path: str, action: str, status: int, started: float, client: str, detail: str
    ) -> None:
        self.store.log_request(
            RequestLogEntry(
                vendor=VENDOR,
                method=method,
                path=path,
                action=action,
                status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                at=self.clock(),
                detail=detail,
                client=client,
            )
        )


class _Streamed:
    """A WSGI answer sent chunk by chunk; `done` runs when the server closes it (sent or abandoned)."""

    def __init__(self, chunks: Iterator[bytes], done: Callable[[], None]) -> None:
        self.chunks, self.done = chunks, done

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks

    def close(self) -> None:
        self.done()


_CANONICAL = {
    "getusers": "GetUsers",
    "getusersv2": "GetUsersV2",
    "getdepartments": "GetDepartments",
    "getgroups": "GetGroups",
    "listcontent": "ListContent",
    "listenrollments": "ListEnrollments",
    "listlearnersresults": "ListLearnersResults",
    "enrolllearnersincourses": "EnrollLearnersInCourses",
    "changeenrollment": "ChangeEnrollment",
    "unenroll": "Unenroll",
}
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Method Not Allowed",
    404: "Not Found",
    500: "Internal Server Error",
}


def canonical_method(name: str) -> str:
    """`GetUsers` for `getusers`: the name the request log uses."""
    return _CANONICAL.get(name.lower(), name or "unknown")


def _bearer(environ: Mapping[str, Any]) -> str | None:
    # Older docs send `Authorization: <token>` without "Bearer"; accept both.
    value = str(environ.get("HTTP_AUTHORIZATION", "")).strip()
    return value.removeprefix("Bearer ").removeprefix("bearer ").strip() or None


def _form(body: bytes) -> dict[str, str]:
    """The token request's fields: form-encoded as documented, or (leniently) a JSON object."""
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {k: v[0] for k, v in parse_qs(text).items()}


def _json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data).encode()

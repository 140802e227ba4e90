"""`enrollctl doctor` for iSpring Learn: each call plan and apply read, probed once over the configured API.

REST v3: the token, then `GET /departments`, `/groups`, `/users`, `/contents`, `/enrollments` and
`/learners/results`, each with `pageSize=1` (enrollments and results of the first content item, as plan
filters them). SOAP: the same reads by their method names; GetDepartments, GetGroups and GetUsers have no
paging in the vendor's pages, so they answer whole (GetUsers as plan sends it, version 2). Writes are never
sent: the vendor documents no harmless form of EnrollLearnersInCourses, ChangeEnrollment or Unenroll.

The department scope is read as `probe_scope` says: from the department list (confirmed by asking
results of a department outside it), or from an account-wide user list refused while one department's works.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from lxml import etree

from reconciler.core.doctor import Check, Need, ProviderDiagnosis, ScopeFinding, Verdict
from reconciler.core.model import Capabilities, Department
from reconciler.core.words import counted
from reconciler.errors import ProtocolError, ProviderError
from reconciler.providers.base import Diagnosis, Exchange
from reconciler.providers.ispring import records
from reconciler.providers.ispring.probe_scope import listed_scope, refused_account_wide
from reconciler.providers.ispring.rest_wire import RestWire, flat
from reconciler.providers.ispring.soap import (
    ENDPOINT,
    Fault,
    Ids,
    Params,
    Values,
    build_request,
    looks_like_fault,
    parse_response,
    request_headers,
)
from reconciler.providers.ispring.soap import fields as soap_fields
from reconciler.providers.ispring.soap import records as soap_records
from reconciler.providers.ispring.soap_wire import RESULT_USER_STATUSES
from reconciler.providers.ispring.wire import Wire
from reconciler.providers.probing import Prober, Refused, meaning_for, not_probed, skipped

PLAN = (Need.PLAN, Need.APPLY)  # apply reads the same calls again before writing (staleness, read-back)
APPLY = (Need.APPLY,)
FORBIDDEN = (
    "a department administrator's key reaching outside its departments, a role without this permission, "
    "or an IP allow-list"
)
FAULT_MEANINGS = {
    "authorization failed": "wrong credentials, or an expired or revoked key or token",
    "permission denied": FORBIDDEN,
    "account subscription expired": "the API needs an active Business plan",
    "wrong parameters": "the vendor refused the request's parameters",
}
WRITE_PERMISSION = (
    "need an account administrator's API key (a department administrator's reaches only the users of the "
    "departments it manages)"
)
REST_WRITES = (
    ("POST /enrollment", "adds"),
    ("POST /enrollment/{id}", "updates"),
    ("POST /enrollment/delete", "removals"),
)
SOAP_WRITES = (
    ("EnrollLearnersInCourses", "adds"),
    ("ChangeEnrollment", "updates"),
    ("Unenroll", "removals"),
)


def explain(exchange: Exchange) -> tuple[str, str]:
    """The vendor's message in a refused answer (a SOAP fault, `ErrorResponse.message`) and its meaning."""
    status = exchange.status or 0
    body = exchange.response_body
    if looks_like_fault(body):
        try:
            fault = parse_response(body, "probe", status=status)
        except ProtocolError:
            fault = None
        if isinstance(fault, Fault):
            key = fault.string.strip().rstrip(".").lower()
            return fault.string, FAULT_MEANINGS.get(key, meaning_for(status, FORBIDDEN))
    message = ""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        message = payload["message"]
    key = message.strip().rstrip(".").lower()
    return message or body[:200].decode("utf-8", "replace").strip(), FAULT_MEANINGS.get(
        key, meaning_for(status, FORBIDDEN)
    )


class _Run:
    """One doctor run over one account's wire."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.prober = Prober(wire.http, explain)
        self.once = self.prober.once
        self.rest_wire = RestWire(self.once, wire.tokens, page_size=1, ids_per_filter=wire.ids_per_filter)
        self.departments: list[Department] | None = None
        self.scope_error = ""  # why the whole department list could not be read
        self.item: str | None = None  # the first content item: enrollments and results are asked for it
        self.first_department: Department | None = None  # for a user list asked of one department

    # --- the token ----------------------------------------------------------------------------------

    def token(self) -> str | None:
        """A token for the probes (fetched: a check of its own), or None when it was refused."""
        if not self.wire.tokens.can_refresh:
            self.prober.add(Check("token", Verdict.SKIPPED, PLAN, "a static token (token_env): no fetch"))
            return self.wire.tokens.token()
        check = self.prober.run("POST /api/v3/token", PLAN, self._fetch_token, lambda _: "token issued")
        return None if check.blocking else self.wire.tokens.token()

    def _fetch_token(self) -> httpx.Response:
        self.wire.tokens.invalidate()
        self.wire.tokens.token()  # through the provider's own token source, as plan fetches it
        # the source keeps the token; the probe judges the answer the hooks captured
        last = self.prober.exchanges[-1]
        return httpx.Response(
            last.status or 0, headers=list(last.response_headers), content=last.response_body
        )

    # --- REST ---------------------------------------------------------------------------------------

    def rest_list(
        self, call: str, path: str, key: str, parse: Callable[[dict[str, Any]], object], params: Params = ()
    ) -> list[dict[str, Any]]:
        """Probe one paged listing with pageSize=1; its rows (empty when it failed)."""
        rows: list[dict[str, Any]] = []

        def send() -> httpx.Response:
            query = [*params, ("pageSize", 1)]
            return self.rest_wire.send("GET", path, call=call, idempotent=True, params=query)

        def read(response: httpx.Response) -> str:
            rows.extend(_json_rows(response.content, key))
            for row in rows:
                parse(row)
            return _seen(len(rows), NOUNS[key], first_page=True)

        self.prober.run(f"GET {path}", PLAN, send, read)
        return rows

    def probe_rest(self) -> None:
        departments = self.rest_list(
            "ListDepartments",
            "/departments",
            "departments",
            lambda r: records.department_from(flat(r), call="ListDepartments"),
        )
        if departments:
            self.first_department = records.department_from(flat(departments[0]), call="ListDepartments")
            try:  # the scope needs the whole list: read as plan reads it
                self.departments = self.rest_wire.departments()
            except ProviderError as error:
                self.scope_error = error.message
        self.rest_list(
            "ListGroups", "/groups", "groups", lambda r: records.group_from(flat(r), call="ListGroups")
        )
        self.rest_list("ListUsers", "/users", "userProfiles", _rest_user)
        contents = self.rest_list(
            "ListContent",
            "/contents",
            "contentItems",
            lambda r: records.item_from(flat(r), call="ListContent"),
        )
        self.item = str(contents[0]["contentItemId"]) if contents else None
        if self.item is None:
            self._no_item("GET /enrollments", "GET /learners/results")
            return
        self.rest_list(
            "ListEnrollments",
            "/enrollments",
            "enrollments",
            lambda r: records.enrollment_from(flat(r), call="ListEnrollments"),
            [("courseIds[]", self.item)],
        )
        statuses = [("userStatuses", s) for s in RESULT_USER_STATUSES]
        self.rest_list(
            "ListLearnerResults",
            "/learners/results",
            "results",
            lambda r: records.result_from(flat(r), call="ListLearnerResults"),
            [("courseIds", self.item), *statuses],
        )

    # --- SOAP ---------------------------------------------------------------------------------------

    def soap_send(self, method: str, params: Params) -> httpx.Response:
        envelope = build_request(method, self.wire.tokens.token(), params)
        return self.once.request(
            "POST",
            ENDPOINT,
            call=method,
            idempotent=True,
            content=envelope,
            headers=request_headers(method),
            answer=lambda _: True,
        )

    def soap_list(
        self, method: str, record: str, parse: Callable[[etree._Element], object], params: Params = ()
    ) -> list[object]:
        """Probe one SOAP listing; its parsed records (empty when it failed)."""
        found: list[object] = []

        def read(response: httpx.Response) -> str:
            result = parse_response(response.content, method, status=response.status_code)
            if isinstance(result, Fault):
                key = result.string.strip().rstrip(".").lower()
                raise Refused(result.string, FAULT_MEANINGS.get(key, "the vendor refused the call"))
            found.extend(parse(e) for e in soap_records(result, record))
            return _seen(len(found), f"<{record}> record", first_page=("pageSize", 1) in params)

        self.prober.run(method, PLAN, lambda: self.soap_send(method, params), read)
        return found

    def probe_soap(self) -> None:
        departments = self.soap_list("GetDepartments", "department", records.parse_department)
        self.departments = [d for d in departments if isinstance(d, Department)]
        self.first_department = next(iter(self.departments), None)
        self.soap_list("GetGroups", "group", records.parse_group)
        self.soap_list("GetUsers", "userProfile", records.parse_user, [("version", 2)])
        if self.prober.checks[-1].detail.strip().rstrip(".").lower() == "wrong parameters":
            # as the SOAP wire does: a server that refuses version 2 is read with v1 statuses
            self.prober.checks.pop()
            self.soap_list("GetUsers", "userProfile", records.parse_user)
        items = self.soap_list("ListContent", "contentItem", _content_id, [("pageSize", 1)])
        self.item = str(items[0]) if items else None
        if self.item is None:
            self._no_item("ListEnrollments", "ListLearnersResults")
            return
        course = ("courseIds", Ids((self.item,)))
        self.soap_list("ListEnrollments", "enrollment", records.parse_enrollment, [course, ("pageSize", 1)])
        statuses = ("userStatuses", Values(RESULT_USER_STATUSES))
        self.soap_list(
            "ListLearnersResults", "learnerResult", records.parse_result, [course, statuses, ("pageSize", 1)]
        )

    # --- shared -------------------------------------------------------------------------------------

    def _no_item(self, *calls: str) -> None:
        for call in calls:
            self.prober.add(
                skipped(call, PLAN, "no content item to ask about (the catalog list is empty or failed)")
            )

    def ask(self, rest: tuple[str, Params], soap: tuple[str, Params]) -> tuple[int | None, str]:
        """One extra question for the scope, over the wire's API: (status, the vendor's message)."""
        try:
            if self.wire.name == "rest":
                self.rest_wire.send("GET", rest[0], call="scope", idempotent=True, params=rest[1])
            else:
                self.soap_send(*soap)
        except ProviderError as error:
            if error.status is None:
                return None, error.message
        last = self.prober.exchanges[-1]
        return last.status, explain(last)[0] if (last.status or 0) >= 300 else ""

    def results_of(self, department: str) -> tuple[int | None, str]:
        rest: Params = [("departmentIds", department), ("pageSize", 1)]
        soap: Params = [("departmentIds", Ids((department,))), ("pageSize", 1)]
        return self.ask(("/learners/results", rest), ("ListLearnersResults", soap))

    def users_of(self, department: str) -> tuple[int | None, str]:
        rest: Params = [("departments[]", department), ("pageSize", 1)]
        return self.ask(("/users", rest), ("GetUsers", [("departmentId", department), ("version", 2)]))

    def scope(self) -> ScopeFinding:
        """The credentials' department scope, as far as the vendor shows it (`probe_scope`)."""
        users = next((c for c in self.prober.checks if c.call in ("GET /users", "GetUsers")), None)
        refused = refused_account_wide(users, self.first_department, self.users_of)
        if refused is not None:
            return refused
        if self.departments is None:
            why = self.scope_error or "the department list could not be read"
            return ScopeFinding(None, f"not determined: {why}")
        return listed_scope(self.departments, self.results_of)


def diagnose(wire: Wire, *, name: str, account: str, capabilities: Capabilities) -> Diagnosis:
    """Probe every read of `wire`'s API once, list its writes unprobed, and tell the department scope."""
    run = _Run(wire)
    with run.prober.capturing():
        token = run.token()
        if token is None:
            reads = REST_READS if wire.name == "rest" else SOAP_READS
            for call in reads:
                run.prober.add(skipped(call, PLAN, "no token: the credentials were refused"))
            scope = ScopeFinding(None, "not determined: no token")
        else:
            run.probe_rest() if wire.name == "rest" else run.probe_soap()
            scope = run.scope()
    writes: tuple[tuple[str, str], ...] = REST_WRITES if wire.name == "rest" else SOAP_WRITES
    if capabilities.reenroll and wire.name == "rest":
        writes = (*writes, ("POST /enrollment/{id}/reenroll", "re-enrollments"))
    for call, what in writes:
        run.prober.add(not_probed(call, APPLY, f"apply's {what} {WRITE_PERMISSION}"))
    report = ProviderDiagnosis(
        name, "ispring", wire.name, account, tuple(run.prober.checks), scope, run.prober.rate_limit()
    )
    return Diagnosis(report, tuple(run.prober.exchanges), wire.http.redactor)


REST_READS = (
    "GET /departments",
    "GET /groups",
    "GET /users",
    "GET /contents",
    "GET /enrollments",
    "GET /learners/results",
)
SOAP_READS = (
    "GetDepartments",
    "GetGroups",
    "GetUsers",
    "ListContent",
    "ListEnrollments",
    "ListLearnersResults",
)


def _json_rows(body: bytes, key: str) -> list[dict[str, Any]]:
    """The rows under `key` of a REST page; ProtocolError saying what came instead."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise ProtocolError(f"the answer is not JSON: {body[:80]!r}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
        seen = sorted(payload)[:10] if isinstance(payload, dict) else type(payload).__name__
        raise ProtocolError(f"expected a JSON object with a {key!r} list, got keys {seen}")
    rows: list[dict[str, Any]] = payload[key]
    if not all(isinstance(r, dict) for r in rows):
        raise ProtocolError(f"{key!r} holds something other than objects")
    return rows


def _rest_user(row: dict[str, Any]) -> object:
    profile = row.get("fields")
    if not isinstance(profile, dict):
        raise ProtocolError("a user record has no `fields` object")
    return records.user_from(
        flat(row), flat(profile), (str(g) for g in row.get("groups") or []), call="ListUsers"
    )


def _content_id(element: etree._Element) -> object:
    records.parse_item(element)  # checks the record as plan reads it
    return soap_fields(element)["contentItemId"]


NOUNS = {
    "departments": "department",
    "groups": "group",
    "userProfiles": "user",
    "contentItems": "content item",
    "enrollments": "enrollment",
    "results": "result",
}


def _seen(count: int, record: str, *, first_page: bool) -> str:
    where = " on the first page (pageSize=1)" if first_page else ""
    return f"{counted(count, record)}{where}"

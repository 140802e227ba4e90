"""iSpring Learn over REST v3, as the vendor's OpenAPI spec documents it (`ispring-rest-openapi.yaml`).

Reads: `GET /departments`, `/groups`, `/users`, `/contents`, `/enrollments`, `/learners/results`, each paged
by `nextPageToken`. Writes: `POST /enrollment` (learners × courses, one set of terms), `POST
/enrollment/{id}` (ChangeEnrollment, a full replace), `POST /enrollment/{id}/reenroll` (a new attempt with
the wanted terms; `recur:`), `POST /enrollment/delete` (many ids per call).
A page that is not a JSON object holding the expected list of objects is a `ProtocolError` naming the call,
never an empty list; record values go through the same strict readers as SOAP's (`records`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import httpx

from reconciler.core.model import Department, DueKind, Group, Item, Terms, User
from reconciler.core.plan import Action, OutcomeStatus
from reconciler.errors import AuthError, PermissionDenied, ProtocolError, ProviderError
from reconciler.providers.base import Outcome
from reconciler.providers.ispring import records
from reconciler.providers.ispring.api import SCOPE_HINT
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.batch import DUE_DATE_TYPES, Rectangle
from reconciler.providers.ispring.soap_wire import RESULT_USER_STATUSES
from reconciler.transport import bounds
from reconciler.transport.http import VendorClient
from reconciler.transport.terminal import VENDOR_EXCERPT

log = logging.getLogger("enrollctl.ispring")

JsonRecord = dict[str, Any]
PAGE_RESTARTS = 2  # a continuation refused with 400 (expired page token) restarts the listing this often
# Query names as the spec writes them: the older list calls take `name[]`, /learners/results plain names.
ENROLLMENT_FILTERS = ("courseIds[]", "learnerIds[]")
RESULT_FILTERS = ("courseIds", "userIds")


def utc_today() -> dt.date:
    """Today in UTC: the access date of a re-enrollment whose policy sets none."""
    return dt.datetime.now(dt.UTC).date()


def flat(record: Mapping[str, Any]) -> dict[str, str]:
    """A JSON record's scalar fields as text, the form the shared strict readers take (null = left out)."""
    values: dict[str, str] = {}
    for name, value in record.items():
        if isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, int | float | str):
            values[name] = str(value).strip()
    return {k: v for k, v in values.items() if v}


class RestWire:
    """The REST v3 calls of one account."""

    name = "rest"

    def __init__(
        self,
        http: VendorClient,
        tokens: TokenSource,
        *,
        page_size: int,
        ids_per_filter: int,
        today: Callable[[], dt.date] = utc_today,
    ) -> None:
        self.http, self.tokens, self.page_size, self.ids_per_filter = http, tokens, page_size, ids_per_filter
        self.today = today

    # --- calls -----------------------------------------------------------------------------------------

    def send(
        self, method: str, path: str, *, call: str, idempotent: bool, params: Any = None, body: Any = None
    ) -> httpx.Response:
        """One call with a bearer token; a 401 fetches a new token once (the call did nothing)."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.tokens.token()}", "Accept": "application/json"}
            response = self.http.request(
                method, path, call=call, idempotent=idempotent, params=params, json=body, headers=headers
            )
            if response.status_code == 401 and attempt == 1 and self.tokens.invalidate():
                log.info("iSpring %s: token refused, fetching a new one", call)
                continue
            return response
        raise AssertionError("unreachable: the second attempt returns")

    def vendor_message(self, response: httpx.Response) -> str:
        """What iSpring said, redacted and short (`said`, through the shared client)."""
        return self.http.said(response)

    def refusal(self, response: httpx.Response, call: str) -> ProviderError:
        """The error for a refused read: 401 credentials, 403 department scope, else the vendor's message."""
        message = f"iSpring answered {response.status_code} {self.vendor_message(response)!r}"
        status = response.status_code
        if status == 401:
            return self.http.error(AuthError, message, call=call, status=status, hint="check the credentials")
        if status == 403:
            return self.http.error(PermissionDenied, message, call=call, status=status, hint=SCOPE_HINT)
        return self.http.error(ProviderError, message, call=call, status=status, retryable=status >= 500)

    def listing(
        self, path: str, call: str, key: str, params: Sequence[tuple[str, Any]] = ()
    ) -> list[JsonRecord]:
        """Every record under `key` of every page; a refused continuation restarts from the first page."""
        for restart in range(PAGE_RESTARTS + 1):
            found = self._listing(path, call, key, params, last_try=restart == PAGE_RESTARTS)
            if found is not None:
                return found
            log.info("iSpring %s: page token refused, reading the list again from its first page", call)
        raise AssertionError("unreachable: the last try returns or raises")

    def _listing(
        self, path: str, call: str, key: str, params: Sequence[tuple[str, Any]], *, last_try: bool
    ) -> list[JsonRecord] | None:
        found: list[JsonRecord] = []
        seen: set[str] = set()
        token: str | None = None
        while True:
            # a page read changes nothing: a garbled page is asked for again (transport.http.read_parsed)
            read = partial(self._read_page, path, call, key, params, token, restartable=not last_try)
            page = self.http.read_parsed(read, call=call)
            if page is None:
                return None
            records_, token = page
            found.extend(records_)
            if token is None:
                return found
            if token in seen:
                raise self.http.error(
                    ProviderError, "the vendor returned the same page token twice", call=call
                )
            if len(seen) + 1 >= bounds.MAX_LIST_PAGES:
                raise self.http.error(ProtocolError, bounds.too_many_pages(len(seen) + 1), call=call)
            seen.add(token)

    def _read_page(
        self,
        path: str,
        call: str,
        key: str,
        params: Sequence[tuple[str, Any]],
        token: str | None,
        *,
        restartable: bool,
    ) -> tuple[list[JsonRecord], str | None] | None:
        """One page and the next page's token; None when the vendor refused `token` (start over)."""
        paging = [("pageSize", self.page_size)] + ([("pageToken", token)] if token else [])
        response = self.send("GET", path, call=call, idempotent=True, params=[*params, *paging])
        if response.status_code == 400 and token is not None and restartable:
            return None
        if response.status_code >= 400:
            raise self.refusal(response, call)
        return self._page(response, call, key)

    def _page(self, response: httpx.Response, call: str, key: str) -> tuple[list[JsonRecord], str | None]:
        try:
            payload = json.loads(response.content)
        except ValueError:
            excerpt = self.http.redactor.bytes(response.content, limit=VENDOR_EXCERPT)
            raise self.http.error(ProtocolError, f"the answer is not JSON: {excerpt!r}", call=call) from None
        if not isinstance(payload, dict) or not isinstance(payload.get(key), list):
            seen = sorted(payload)[:10] if isinstance(payload, dict) else type(payload).__name__
            message = f"expected a JSON object with a {key!r} list, got {seen}"
            raise self.http.error(ProtocolError, message, call=call)
        rows = payload[key]
        if not all(isinstance(r, dict) for r in rows):
            raise self.http.error(ProtocolError, f"{key!r} holds something other than objects", call=call)
        token = payload.get("nextPageToken")
        return rows, (str(token) if token not in (None, "") else None)

    # --- reads -----------------------------------------------------------------------------------------

    def departments(self) -> list[Department]:
        """GET /departments."""
        rows = self.listing("/departments", "ListDepartments", "departments")
        return [records.department_from(flat(r), call="ListDepartments") for r in rows]

    def groups(self) -> list[Group]:
        """GET /groups."""
        return [
            records.group_from(flat(r), call="ListGroups")
            for r in self.listing("/groups", "ListGroups", "groups")
        ]

    def users(self) -> list[User]:
        """GET /users: statuses 1 active, 3 inactive, 5 terminated, as the spec documents."""
        return [self._user(r) for r in self.listing("/users", "ListUsers", "userProfiles")]

    def _user(self, row: JsonRecord) -> User:
        profile = row.get("fields")
        if not isinstance(profile, dict):
            raise self.http.error(ProtocolError, "a user record has no `fields` object", call="ListUsers")
        groups = row.get("groups") or []
        if not isinstance(groups, list):
            raise self.http.error(ProtocolError, "a user record's `groups` is not a list", call="ListUsers")
        return records.user_from(flat(row), flat(profile), (str(g) for g in groups), call="ListUsers")

    def items(self) -> list[Item]:
        """GET /contents: courses and learning tracks (other materials are skipped)."""
        rows = self.listing("/contents", "ListContent", "contentItems")
        return [i for r in rows if (i := records.item_from(flat(r), call="ListContent"))]

    def enrollments(
        self, items: tuple[str, ...], users: tuple[str, ...] | None
    ) -> list[records.EnrollmentRecord]:
        """GET /enrollments of these courses (and learners)."""
        params = _filters(ENROLLMENT_FILTERS, items, users)
        rows = self.listing("/enrollments", "ListEnrollments", "enrollments", params)
        return [records.enrollment_from(flat(r), call="ListEnrollments") for r in rows]

    def results(self, items: tuple[str, ...], users: tuple[str, ...] | None) -> list[records.ResultRecord]:
        """GET /learners/results of these courses (and learners), active and blocked users."""
        params = [
            *_filters(RESULT_FILTERS, items, users),
            *(("userStatuses", s) for s in RESULT_USER_STATUSES),
        ]
        rows = self.listing("/learners/results", "ListLearnerResults", "results", params)
        return [records.result_from(flat(r), call="ListLearnerResults") for r in rows]

    # --- writes ----------------------------------------------------------------------------------------

    def enroll(self, rect: Rectangle) -> list[Outcome]:
        """POST /enrollment: every learner × every course of the rectangle, one set of terms."""
        body = {"courseIds": list(rect.items), "learnerIds": list(rect.learners), **_terms(rect.terms)}
        if rect.terms.access is not None:
            body["accessDate"] = rect.terms.access.isoformat()
        return self._write("POST", "/enrollment", "EnrollLearnersInCourses", body, rect.actions)

    def change(self, action: Action, enrollment_id: str) -> list[Outcome]:
        """POST /enrollment/{id} (ChangeEnrollment): a full replace, so the access date is always sent."""
        assert action.terms is not None
        access: dt.datetime | None = None
        if action.terms.access is not None:
            access = dt.datetime.combine(action.terms.access, dt.time())
        elif action.before is not None and action.before.access is not None:
            access = action.before.access.astimezone(dt.UTC).replace(tzinfo=None)
        body = _terms(action.terms)
        if access is not None:  # without one the vendor refuses the call, as SOAP's does
            body["accessDate"] = access.strftime("%Y-%m-%d %H:%M:%S")
        return self._write("POST", f"/enrollment/{enrollment_id}", "ChangeEnrollment", body, (action,))

    def reenroll(self, action: Action, enrollment_id: str) -> list[Outcome]:
        """POST /enrollment/{id}/reenroll: a new attempt with the wanted terms; the vendor keeps the earlier
        result. `accessDate` (a required date) is the policy's `access`, else today: the attempt starts."""
        assert action.terms is not None
        access = action.terms.access or self.today()
        body = {"accessDate": access.isoformat(), **_terms(action.terms)}
        path = f"/enrollment/{enrollment_id}/reenroll"
        return self._write("POST", path, "Reenroll", body, (action,))

    def remove(self, removals: Sequence[tuple[Action, str]]) -> list[Outcome]:
        """POST /enrollment/delete with every enrollment id of the batch in one call."""
        body = {"enrollmentIds": [enrollment_id for _, enrollment_id in removals]}
        return self._write("POST", "/enrollment/delete", "Unenroll", body, tuple(a for a, _ in removals))

    def _write(
        self, method: str, path: str, call: str, body: JsonRecord, actions: tuple[Action, ...]
    ) -> list[Outcome]:
        response = self.send(method, path, call=call, idempotent=False, body=body)
        status = response.status_code
        if status < 300:
            return [Outcome(a.id, OutcomeStatus.DONE) for a in actions]
        if status in (400, 403, 404, 409):
            detail = f"iSpring answered {status} {self.vendor_message(response)!r}"
            if status == 403:
                detail += f" ({SCOPE_HINT})"
            return [Outcome(a.id, OutcomeStatus.FAILED, self.http.redactor(detail)) for a in actions]
        raise self.refusal(response, call)


def _filters(
    names: tuple[str, str], items: tuple[str, ...], users: tuple[str, ...] | None
) -> list[tuple[str, str]]:
    course_name, user_name = names
    return [*((course_name, i) for i in items), *((user_name, u) for u in users or ())]


def _terms(terms: Terms) -> JsonRecord:
    """`dueDateType` with its `dueDate` or `duePeriod` (hours), and `lockAfterDueDate`."""
    due = terms.due
    body: JsonRecord = {"dueDateType": DUE_DATE_TYPES[due.kind], "lockAfterDueDate": terms.lock_after_due}
    if due.kind is DueKind.DATE and due.date is not None:
        body["dueDate"] = due.date.isoformat()
    if due.kind is DueKind.WITHIN and due.hours is not None:
        body["duePeriod"] = due.hours
    return body


def said(response: httpx.Response) -> str:
    """`ErrorResponse.message` when the body is one, else the body, else the reason phrase: the
    `message_of` of iSpring's shared client (a SOAP fault is no JSON object, so it is quoted as it came)."""
    try:
        payload = json.loads(response.content)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return str(payload["message"])
    return response.content[:65536].decode("utf-8", errors="replace") or response.reason_phrase

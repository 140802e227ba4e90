"""The iSpring Learn provider (SOAP API 2.0): reads the directory and enrollments, writes plan actions.

Envelopes live in `ispring_soap`, record parsing in `ispring_records`, grouping of writes in
`ispring_batch`, tokens in `ispring_auth`; this module runs the calls and maps faults to enrollctl errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import httpx
from lxml import etree

from reconciler.core.due import DueInformation
from reconciler.core.model import Capabilities, Directory, Enrollment, ItemKind, ProviderConfig, ProviderKind
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.errors import AuthError, PermissionDenied, ProtocolError, ProviderError
from reconciler.providers.base import Credentials, Outcome, Progress, WriteBatch, no_progress
from reconciler.providers.ispring import records
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.batch import (
    Rectangle,
    change_params,
    enroll_params,
    plan_batches,
    rectangles,
)
from reconciler.providers.ispring.listing import read_listing
from reconciler.providers.ispring.soap import (
    ENDPOINT,
    Fault,
    Ids,
    Params,
    Values,
    build_request,
    looks_like_fault,
    parse_response,
    success,
)
from reconciler.transport.http import RateLimiter, VendorClient, WriteOutcomeUnknown
from reconciler.transport.redact import Redactor
from reconciler.transport.terminal import VENDOR_EXCERPT

log = logging.getLogger("enrollctl.ispring")

SCOPE_HINT = (
    "a department administrator's token only reaches the departments that administrator manages and their "
    "sub-departments; use an account administrator's API key or narrow the policy"
)
# ListLearnersResults shows active users only unless asked: 1 active, 3 blocked (the doc's word)
RESULT_USER_STATUSES = Values(("1", "3"))
DEFAULT_CONCURRENCY = 8  # write calls in flight: the vendor documents no rate limit


@dataclass(frozen=True)
class IspringOptions:
    """Tunables; the vendor documents no limits for these, so they are conservative guesses."""

    page_size: int = 1000  # the documented default page size
    max_learners_per_call: int = 1000  # inferred: no documented limit on learnerIds per enroll call
    max_items_per_call: int = 100  # inferred: no documented limit on courseIds per enroll call
    ids_per_filter: int = 500  # ids per courseIds/learnerIds filter in reads, to keep envelopes small


def _fault_is(fault: Fault, *names: str) -> bool:
    return fault.string.strip().rstrip(".").lower() in {n.lower() for n in names}


def capabilities_for(config: ProviderConfig, options: IspringOptions = IspringOptions()) -> Capabilities:
    """What an iSpring Learn account can do; needs no network, so `validate --offline` can check policies."""
    return _capabilities(options, config.requests_per_minute, config.concurrency)


def _capabilities(
    options: IspringOptions, requests_per_minute: int | None, concurrency: int | None = None
) -> Capabilities:
    return Capabilities(
        item_kinds=frozenset({ItemKind.COURSE, ItemKind.LEARNING_PATH}),
        due_dates=True,
        due_periods=True,
        lock_after_due=True,
        access_dates=True,
        update_terms=True,
        remove=True,
        notify_switch=False,  # inferred: no SOAP parameter to suppress learner e-mails is documented
        enroll_batch_users=options.max_learners_per_call,
        enroll_batch_items=options.max_items_per_call,
        read_batch_users=options.ids_per_filter,
        requests_per_minute=requests_per_minute,
        concurrency=concurrency or DEFAULT_CONCURRENCY,
    )


class IspringProvider:
    """One iSpring Learn account behind the `Provider` protocol."""

    kind = ProviderKind.ISPRING

    def __init__(
        self,
        name: str,
        http: VendorClient,
        tokens: TokenSource,
        *,
        requests_per_minute: int | None = None,
        options: IspringOptions = IspringOptions(),
        progress: Progress = no_progress,
        concurrency: int | None = None,
    ) -> None:
        self.name = name
        self.progress = progress
        self.http = http
        self.tokens = tokens
        self.options = options
        self._requests_per_minute = requests_per_minute
        self._concurrency = concurrency
        self._users_v1 = False  # the server refused GetUsers version 2

    @property
    def capabilities(self) -> Capabilities:
        return _capabilities(self.options, self._requests_per_minute, self._concurrency)

    @property
    def account(self) -> str:
        return normalise_url(self.http.base_url)

    # --- calls -----------------------------------------------------------------------------------------

    def call(
        self, method: str, params: Params = (), *, idempotent: bool, faults: Sequence[str] = ()
    ) -> etree._Element | Fault:
        """One SOAP call: its result element, or a `Fault` whose string is in `faults`; other faults raise."""
        for attempt in (1, 2):
            send = partial(self._send, method, params, idempotent)
            fault_or_result = self.http.read_parsed(send, call=method) if idempotent else send()
            if not isinstance(fault_or_result, Fault):
                return fault_or_result
            fault = fault_or_result
            if _fault_is(fault, "Authorization failed") and attempt == 1 and self.tokens.invalidate():
                log.info("iSpring %s: token refused, fetching a new one", method)
                continue  # the call was refused before doing anything, so sending it again is safe
            if faults and _fault_is(fault, *faults):
                return fault
            raise self._fault_error(method, fault)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _send(self, method: str, params: Params, idempotent: bool) -> etree._Element | Fault:
        envelope = build_request(method, self.tokens.token(), params)
        response = self.http.request(
            "POST",
            ENDPOINT,
            call=method,
            idempotent=idempotent,
            content=envelope,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{method}"'},
            answer=lambda r: looks_like_fault(r.content),
        )
        if response.status_code >= 400 and not looks_like_fault(response.content):
            self.http.raise_for_status(response, call=method)
        return parse_response(
            response.content, method, status=response.status_code, redactor=self.http.redactor
        )

    def _fault_error(self, method: str, fault: Fault) -> ProviderError:
        message = f"iSpring answered {self.http.redactor.excerpt(fault.string, VENDOR_EXCERPT)!r}"
        if _fault_is(fault, "Authorization failed"):
            return self.http.error(
                AuthError, message, call=method, hint="check the credentials; a static token may have expired"
            )
        if _fault_is(fault, "Account subscription expired"):
            return self.http.error(
                AuthError, message, call=method, hint="the API needs an active Business plan"
            )
        if _fault_is(fault, "Permission denied"):
            return self.http.error(PermissionDenied, message, call=method, hint=SCOPE_HINT)
        return self.http.error(ProviderError, message, call=method)

    def _pages(
        self,
        method: str,
        params: Params,
        record: str,
        *,
        page_size: bool = True,
        first: etree._Element | None = None,
    ) -> Iterator[etree._Element]:
        """Records called `record` from every page of a listing (see `ispring_listing.read_listing`)."""
        size = self.options.page_size if page_size else None
        return iter(read_listing(self.call, self.http, method, params, record, page_size=size, first=first))

    # --- reads -----------------------------------------------------------------------------------------

    def read_directory(self) -> Directory:
        """Departments, groups, users and the catalog's courses and learning tracks."""
        departments = [
            records.parse_department(e)
            for e in self._pages("GetDepartments", (), "department", page_size=False)
        ]
        groups = [records.parse_group(e) for e in self._pages("GetGroups", (), "group", page_size=False)]
        users = [records.parse_user(e) for e in self._users()]
        items = [i for e in self._pages("ListContent", (), "contentItem") if (i := records.parse_item(e))]
        return Directory(
            users=tuple(sorted(users, key=lambda u: u.id)),
            departments=tuple(sorted(departments, key=lambda d: d.id)),
            groups=tuple(sorted(groups, key=lambda g: g.id)),
            items=tuple(sorted(items, key=lambda i: i.id)),
        )

    def _users(self) -> list[etree._Element]:
        """GetUsers with v2 statuses (5 = employment ended) where the server takes `version`, else v1."""
        # inferred: the docs name a "getUsers/v2 request" but show no SOAP form for it; `<version>2</version>`
        # is our guess. A server that refuses it answers "Wrong parameters", and v1 (3 for both inactive and
        # employment ended) is still safe: neither status is enrollable by default.
        v2: Params = [("version", 2)]
        if not self._users_v1:
            first = self.call("GetUsers", v2, idempotent=True, faults=("Wrong parameters",))
            if not isinstance(first, Fault):
                return list(self._pages("GetUsers", v2, "userProfile", page_size=False, first=first))
            log.info("iSpring GetUsers: version 2 refused, reading v1 statuses")
            self._users_v1 = True
        return list(self._pages("GetUsers", (), "userProfile", page_size=False))

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments in `item_ids`: terms and origin (ListEnrollments), progress (ListLearnersResults)."""
        if not item_ids or (user_ids is not None and not user_ids):
            return ()
        kinds = {item.id: item.kind for item in directory.items}
        size = self.options.ids_per_filter
        user_chunks: list[tuple[str, ...] | None] = (
            list(_chunks(sorted(user_ids), size)) if user_ids else [None]
        )
        chunks = [(items, users) for items in _chunks(sorted(item_ids), size) for users in user_chunks]
        found: list[Enrollment] = []
        started = time.monotonic()
        for done, (items, users) in enumerate(chunks, 1):
            found.extend(self._read_enrollment_chunk(items, users, kinds))
            # the CLI shows it (rate, time left) once the read takes a while
            label = f"{self.name}: enrollment batches read"
            self.progress(label, done, len(chunks), time.monotonic() - started)
        return tuple(sorted(found, key=lambda e: (e.item_id, e.user_id)))

    def _read_enrollment_chunk(
        self, items: tuple[str, ...], users: tuple[str, ...] | None, kinds: dict[str, ItemKind]
    ) -> tuple[Enrollment, ...]:
        user_filter = Ids(users) if users else None
        params: Params = [("courseIds", Ids(items)), ("learnerIds", user_filter)]
        enrollments = [
            records.parse_enrollment(e) for e in self._pages("ListEnrollments", params, "enrollment")
        ]
        if not enrollments:
            return ()  # no enrollments, no results to join: save the call
        result_params: Params = [
            ("userIds", user_filter),
            ("courseIds", Ids(items)),
            ("userStatuses", RESULT_USER_STATUSES),
        ]
        results = [
            records.parse_result(e)
            for e in self._pages("ListLearnersResults", result_params, "learnerResult")
        ]
        return records.join(enrollments, results, kinds)

    # --- writes ----------------------------------------------------------------------------------------

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        """Adds as learners × items rectangles per terms; one call per update and per removal."""
        return plan_batches(
            actions,
            max_learners=self.options.max_learners_per_call,
            max_items=self.options.max_items_per_call,
        )

    def write(self, batch: WriteBatch) -> list[Outcome]:
        """Perform one batch; per-action refusals become FAILED outcomes, lost writes UNKNOWN ones."""
        if batch.kind is ActionKind.ADD:
            rects = rectangles(
                batch.actions,
                max_learners=self.options.max_learners_per_call,
                max_items=self.options.max_items_per_call,
            )
            return [o for r in rects for o in self._guarded(r.actions, partial(self._enroll, r))]
        handler = self._change if batch.kind is ActionKind.UPDATE else self._unenroll
        return [o for a in batch.actions for o in self._guarded((a,), partial(handler, a))]

    def _guarded(self, actions: tuple[Action, ...], perform: Callable[[], list[Outcome]]) -> list[Outcome]:
        try:
            return perform()
        except (WriteOutcomeUnknown, ProtocolError) as exc:
            # the request reached the server but its answer was lost or unreadable: apply reads back
            return [Outcome(a.id, OutcomeStatus.UNKNOWN, str(exc)) for a in actions]

    def _enroll(self, rect: Rectangle) -> list[Outcome]:
        reply = self.call(
            "EnrollLearnersInCourses",
            enroll_params(rect),
            idempotent=False,
            faults=("Permission denied", "Unknown content item"),
        )
        return self._outcomes(rect.actions, reply)

    def _change(self, action: Action) -> list[Outcome]:
        enrollment_id = action.before.id if action.before else None
        if not enrollment_id or action.terms is None:
            return [Outcome(action.id, OutcomeStatus.FAILED, "no enrollment id or terms to change (re-plan)")]
        params = change_params(enrollment_id, action.terms, action.before)
        # a full replace with the same values is harmless, but an unknown answer is still read back
        reply = self.call(
            "ChangeEnrollment", params, idempotent=False, faults=("Permission denied", "Unknown Enrollment")
        )
        return self._outcomes((action,), reply)

    def _unenroll(self, action: Action) -> list[Outcome]:
        enrollment_id = action.before.id if action.before else None
        if not enrollment_id:
            return [Outcome(action.id, OutcomeStatus.FAILED, "no enrollment id to remove (re-plan)")]
        reply = self.call(
            "Unenroll",
            [("enrollmentId", enrollment_id)],
            idempotent=False,
            faults=("Permission denied", "Unknown Enrollment"),
        )
        if isinstance(reply, Fault) and _fault_is(reply, "Unknown Enrollment"):
            # the enrollment is gone: what the removal wanted (e.g. a re-applied plan)
            return [Outcome(action.id, OutcomeStatus.ALREADY, "enrollment no longer exists")]
        return self._outcomes((action,), reply)

    def _outcomes(self, actions: tuple[Action, ...], reply: etree._Element | Fault) -> list[Outcome]:
        if isinstance(reply, Fault):
            detail = f"iSpring answered {reply.string!r}"
            if _fault_is(reply, "Permission denied"):
                detail += f" ({SCOPE_HINT})"
            return [Outcome(a.id, OutcomeStatus.FAILED, self.http.redactor(detail)) for a in actions]
        if not success(reply):
            return [Outcome(a.id, OutcomeStatus.FAILED, "iSpring answered success=false") for a in actions]
        return [Outcome(a.id, OutcomeStatus.DONE) for a in actions]

    def due_information(self) -> DueInformation | None:
        """None: iSpring sets due dates per enrollment, so plans manage them instead of reporting them."""
        return None

    @property
    def scope_department_ids(self) -> frozenset[str] | None:
        """None: the provider does not know a department administrator's scope; it reads what it is shown."""
        return None

    def call_count(self) -> int:
        """Vendor calls sent so far."""
        return self.http.stats.total

    def close(self) -> None:
        """Close the run's HTTP client."""
        self.http.close()


def _chunks(values: Sequence[str], size: int) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(values), max(1, size)):
        yield tuple(values[start : start + max(1, size)])


def normalise_url(url: str) -> str:
    """The account identity: scheme and host lower-cased, no trailing slash."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme.lower()}://{parsed.host.lower()}{port}{parsed.path.rstrip('/')}"


def create(
    config: ProviderConfig,
    client: httpx.Client,
    credentials: Credentials,
    *,
    options: IspringOptions = IspringOptions(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    log_bodies: bool = False,
    progress: Progress = no_progress,
) -> IspringProvider:
    """The provider for one `kind: ispring` entry of enrollctl.yaml; `client` has its base_url set."""
    redactor = Redactor(credentials.secrets())
    limiter = RateLimiter(config.requests_per_minute, clock=clock, sleep=sleep)
    http = VendorClient(
        client, provider=config.name, redactor=redactor, limiter=limiter, sleep=sleep, log_bodies=log_bodies
    )
    tokens = TokenSource(http, credentials, clock=clock)
    return IspringProvider(
        config.name,
        http,
        tokens,
        requests_per_minute=config.requests_per_minute,
        options=options,
        progress=progress,
        concurrency=config.concurrency,
    )

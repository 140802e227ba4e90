"""The iSpring Learn provider: reads the directory and enrollments, writes plan actions.

The calls go over one of two wires, chosen by `api:` in enrollctl.yaml: `rest_wire` (REST v3, the default)
or `soap_wire` (SOAP API 2.0). Everything else is done here, once for both: chunking reads by ids, joining
terms with progress, grouping writes into rectangles and batches, and turning lost answers into UNKNOWN.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import httpx

from reconciler.core.due import DueInformation
from reconciler.core.model import (
    Capabilities,
    Department,
    Directory,
    Enrollment,
    Group,
    Item,
    ItemKind,
    ProviderConfig,
    ProviderKind,
    User,
)
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.errors import ConfigError, ProtocolError
from reconciler.providers.base import Credentials, Outcome, Progress, WriteBatch, no_progress
from reconciler.providers.ispring import records
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.batch import Rectangle, plan_batches, rectangles
from reconciler.providers.ispring.rest_wire import RestWire
from reconciler.providers.ispring.soap_wire import SoapWire
from reconciler.transport.http import RateLimiter, VendorClient, WriteOutcomeUnknown
from reconciler.transport.redact import Redactor

APIS = ("rest", "soap")


class Wire(Protocol):
    """The vendor calls behind the provider: `RestWire` or `SoapWire`."""

    name: str
    ids_per_filter: int

    def departments(self) -> list[Department]: ...
    def groups(self) -> list[Group]: ...
    def users(self) -> list[User]: ...
    def items(self) -> list[Item]: ...
    def enrollments(
        self, items: tuple[str, ...], users: tuple[str, ...] | None
    ) -> list[records.EnrollmentRecord]: ...
    def results(
        self, items: tuple[str, ...], users: tuple[str, ...] | None
    ) -> list[records.ResultRecord]: ...
    def enroll(self, rect: Rectangle) -> list[Outcome]: ...
    def change(self, action: Action, enrollment_id: str) -> list[Outcome]: ...
    def remove(self, removals: Sequence[tuple[Action, str]]) -> list[Outcome]: ...


@dataclass(frozen=True)
class IspringOptions:
    """Tunables; the vendor documents no limits for these, so they are conservative guesses."""

    page_size: int = 1000  # the documented default page size
    max_learners_per_call: int = 1000  # inferred: no documented limit on learnerIds per enroll call
    max_items_per_call: int = 100  # inferred: no documented limit on courseIds per enroll call
    ids_per_filter: int = 500  # ids per courseIds/learnerIds filter in reads, to keep envelopes small
    # REST filters travel in the query string; 100 uuids per filter keep a URL under ~8 KB (inferred limit)
    rest_ids_per_filter: int = 100
    max_removals_per_call: int = 500  # inferred: POST /enrollment/delete documents no limit


def capabilities_for(config: ProviderConfig, options: IspringOptions = IspringOptions()) -> Capabilities:
    """What an iSpring Learn account can do; needs no network, so `validate --offline` can check policies."""
    return _capabilities(options, config.requests_per_minute, config.api)


def _capabilities(options: IspringOptions, requests_per_minute: int | None, api: str) -> Capabilities:
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
        read_batch_users=options.rest_ids_per_filter if api == "rest" else options.ids_per_filter,
        requests_per_minute=requests_per_minute,
    )


class IspringProvider:
    """One iSpring Learn account behind the `Provider` protocol, over REST v3 or SOAP."""

    kind = ProviderKind.ISPRING

    def __init__(
        self,
        name: str,
        http: VendorClient,
        tokens: TokenSource,
        *,
        api: str = "rest",
        requests_per_minute: int | None = None,
        options: IspringOptions = IspringOptions(),
        progress: Progress = no_progress,
    ) -> None:
        self.name = name
        self.progress = progress
        self.http = http
        self.tokens = tokens
        self.options = options
        self.api = api
        self._requests_per_minute = requests_per_minute
        self.wire: Wire
        if api == "rest":
            self.wire = RestWire(
                http, tokens, page_size=options.page_size, ids_per_filter=options.rest_ids_per_filter
            )
        elif api == "soap":
            self.wire = SoapWire(
                http, tokens, page_size=options.page_size, ids_per_filter=options.ids_per_filter
            )
        else:
            raise ConfigError(f"provider {name!r}: api {api!r} is not one of {', '.join(APIS)}")

    @property
    def capabilities(self) -> Capabilities:
        return _capabilities(self.options, self._requests_per_minute, self.api)

    @property
    def account(self) -> str:
        return normalise_url(self.http.base_url)

    # --- reads -----------------------------------------------------------------------------------------

    def read_directory(self) -> Directory:
        """Departments, groups, users and the catalog's courses and learning tracks."""
        departments, groups = self.wire.departments(), self.wire.groups()
        users, items = self.wire.users(), self.wire.items()
        return Directory(
            users=tuple(sorted(users, key=lambda u: u.id)),
            departments=tuple(sorted(departments, key=lambda d: d.id)),
            groups=tuple(sorted(groups, key=lambda g: g.id)),
            items=tuple(sorted(items, key=lambda i: i.id)),
        )

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments in `item_ids`: terms and origin (ListEnrollments), progress (learner results)."""
        if not item_ids or (user_ids is not None and not user_ids):
            return ()
        kinds = {item.id: item.kind for item in directory.items}
        size = self.wire.ids_per_filter
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
        enrollments = self.wire.enrollments(items, users)
        if not enrollments:
            return ()  # no enrollments, no results to join: save the call
        return records.join(enrollments, self.wire.results(items, users), kinds)

    # --- writes ----------------------------------------------------------------------------------------

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        """Adds as learners × items rectangles per terms; one call per update; removals per call size."""
        batches = plan_batches(
            actions,
            max_learners=self.options.max_learners_per_call,
            max_items=self.options.max_items_per_call,
        )
        if self.api != "rest":
            return batches
        # REST removes many enrollments in one POST /enrollment/delete
        removals = [a for b in batches if b.kind is ActionKind.REMOVE for a in b.actions]
        kept = [b for b in batches if b.kind is not ActionKind.REMOVE]
        size = self.options.max_removals_per_call
        return kept + [
            WriteBatch(ActionKind.REMOVE, tuple(removals[i : i + size]))
            for i in range(0, len(removals), size)
        ]

    def write(self, batch: WriteBatch) -> list[Outcome]:
        """Perform one batch; per-action refusals become FAILED outcomes, lost writes UNKNOWN ones."""
        if batch.kind is ActionKind.ADD:
            rects = rectangles(
                batch.actions,
                max_learners=self.options.max_learners_per_call,
                max_items=self.options.max_items_per_call,
            )
            return [o for r in rects for o in self._guarded(r.actions, partial(self.wire.enroll, r))]
        if batch.kind is ActionKind.UPDATE:
            return [o for a in batch.actions for o in self._change(a)]
        return self._remove(batch.actions)

    def _change(self, action: Action) -> list[Outcome]:
        enrollment_id = action.before.id if action.before else None
        if not enrollment_id or action.terms is None:
            return [Outcome(action.id, OutcomeStatus.FAILED, "no enrollment id or terms to change (re-plan)")]
        return self._guarded((action,), partial(self.wire.change, action, enrollment_id))

    def _remove(self, actions: tuple[Action, ...]) -> list[Outcome]:
        known = [(a, a.before.id) for a in actions if a.before is not None and a.before.id]
        missing = [a for a in actions if a.before is None or not a.before.id]
        failed = [
            Outcome(a.id, OutcomeStatus.FAILED, "no enrollment id to remove (re-plan)") for a in missing
        ]
        if not known:
            return failed
        return failed + self._guarded(tuple(a for a, _ in known), partial(self.wire.remove, known))

    def _guarded(self, actions: tuple[Action, ...], perform: Callable[[], list[Outcome]]) -> list[Outcome]:
        try:
            return perform()
        except (WriteOutcomeUnknown, ProtocolError) as exc:
            # the request reached the server but its answer was lost or unreadable: apply reads back
            return [Outcome(a.id, OutcomeStatus.UNKNOWN, str(exc)) for a in actions]

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
        api=config.api,
        requests_per_minute=config.requests_per_minute,
        options=options,
        progress=progress,
    )

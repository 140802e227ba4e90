"""The iSpring Learn provider: reads the directory and enrollments, writes plan actions.

The calls go over one of two wires, chosen by `api:` in enrollctl.yaml: `rest_wire` (REST v3, the default)
or `soap_wire` (SOAP API 2.0, whose calls, token refresh, fault mapping and paging are `api`'s). Reads in
`read`, writes in `write`, the same for both wires; record parsing in `records`, grouping of writes in
`batch`, tokens in `auth`. This module holds the options, the capabilities and the `Provider` itself.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from reconciler.core.due import DueInformation
from reconciler.core.model import Capabilities, Directory, Enrollment, ItemKind, ProviderConfig, ProviderKind
from reconciler.core.plan import Action
from reconciler.core.profiles import ProfileNeed
from reconciler.errors import ConfigError
from reconciler.providers.base import Credentials, Diagnosis, Outcome, Progress, WriteBatch, no_progress
from reconciler.providers.ispring import probe, read, rest_wire, write
from reconciler.providers.ispring.api import IspringApi
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.probe_scope import department_scope
from reconciler.providers.ispring.rest_wire import RestWire, utc_today
from reconciler.providers.ispring.soap_wire import SoapWire
from reconciler.providers.ispring.wire import Wire
from reconciler.transport.http import RateLimiter, VendorClient
from reconciler.transport.redact import Redactor

APIS = ("rest", "soap")
DEFAULT_CONCURRENCY = 8  # write calls in flight: the vendor documents no rate limit


@dataclass(frozen=True)
class IspringOptions:
    """Tunables; the vendor documents no limits for these, so they are conservative guesses."""

    page_size: int = 1000  # the documented default page size
    max_learners_per_call: int = 1000  # inferred: no documented limit on learnerIds per enroll call
    max_items_per_call: int = 100  # inferred: no documented limit on courseIds per enroll call
    ids_per_filter: int = 500  # ids per courseIds/learnerIds filter in SOAP reads, to keep envelopes small
    # REST filters travel in the query string; 100 uuids per filter keep a URL near 8 KB (inferred limit)
    rest_ids_per_filter: int = 100
    max_removals_per_call: int = 500  # inferred: POST /enrollment/delete documents no limit


def capabilities_for(config: ProviderConfig, options: IspringOptions = IspringOptions()) -> Capabilities:
    """What an iSpring Learn account can do; needs no network, so `validate --offline` can check policies."""
    return _capabilities(options, config.requests_per_minute, config.api, config.concurrency)


def _capabilities(
    options: IspringOptions, requests_per_minute: int | None, api: str, concurrency: int | None = None
) -> Capabilities:
    return Capabilities(
        item_kinds=frozenset({ItemKind.COURSE, ItemKind.LEARNING_PATH}),
        due_dates=True,
        due_periods=True,
        lock_after_due=True,
        access_dates=True,
        update_terms=True,
        remove=True,
        notify_switch=False,  # inferred: no parameter to suppress learner e-mails is documented
        # REST: POST /enrollment/{id}/reenroll on any enrollment (inferred: learning tracks too); SOAP: none
        reenroll=frozenset({ItemKind.COURSE, ItemKind.LEARNING_PATH}) if api == "rest" else frozenset(),
        enroll_batch_users=options.max_learners_per_call,
        enroll_batch_items=options.max_items_per_call,
        read_batch_users=options.rest_ids_per_filter if api == "rest" else options.ids_per_filter,
        requests_per_minute=requests_per_minute,
        concurrency=concurrency or DEFAULT_CONCURRENCY,
    )


class IspringProvider:
    """One iSpring Learn account behind the `Provider` protocol: `api` (a wire) calls, `read`, `write`."""

    kind = ProviderKind.ISPRING

    def __init__(
        self,
        name: str,
        api: Wire,
        *,
        requests_per_minute: int | None = None,
        options: IspringOptions = IspringOptions(),
        progress: Progress = no_progress,
        concurrency: int | None = None,
    ) -> None:
        self.name = name
        self.api = api
        self.http, self.tokens = api.http, api.tokens
        self.options = options
        self.progress = progress
        self._requests_per_minute = requests_per_minute
        self._concurrency = concurrency
        self._scope: frozenset[str] | None = None

    @property
    def capabilities(self) -> Capabilities:
        return _capabilities(self.options, self._requests_per_minute, self.api.name, self._concurrency)

    @property
    def account(self) -> str:
        return normalise_url(self.http.base_url)

    def read_directory(self) -> Directory:
        """Departments, groups, users and the catalog's courses and learning tracks."""
        directory = read.read_directory(self.api)
        self._scope = department_scope(directory.departments)
        return directory

    def read_user_profiles(self, directory: Directory, need: ProfileNeed) -> Directory:
        """GetUsers already carries every profile field and `addedDate`: nothing more to read."""
        return directory

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments in `item_ids`: terms and origin (ListEnrollments), progress (learner results)."""
        return read.read_enrollments(
            self.api,
            directory,
            item_ids,
            user_ids,
            name=self.name,
            progress=self.progress,
            concurrency=self.capabilities.concurrency,
        )

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        """Adds as learners × items rectangles per terms; one call per update; removals per call size."""
        return write.batches(actions, **self._call_sizes())

    def write_calls(self, actions: Sequence[Action]) -> int:
        """The calls `batches(actions)` costs, without making them (the plan's estimate)."""
        return write.write_calls(actions, **self._call_sizes())

    def _call_sizes(self) -> dict[str, int]:
        """What one write call carries: an enroll's learners and items, a removal call's enrollments (many
        over REST's `POST /enrollment/delete`, one per SOAP `Unenroll`)."""
        options = self.options
        return {
            "max_learners": options.max_learners_per_call,
            "max_items": options.max_items_per_call,
            "removals_per_call": options.max_removals_per_call if self.api.name == "rest" else 1,
        }

    def write(self, batch: WriteBatch) -> list[Outcome]:
        """Perform one batch; per-action refusals become FAILED outcomes, lost writes UNKNOWN ones."""
        return write.write_batch(
            self.api,
            batch,
            max_learners=self.options.max_learners_per_call,
            max_items=self.options.max_items_per_call,
        )

    def due_information(self) -> DueInformation | None:
        """None: iSpring sets due dates per enrollment, so plans manage them instead of reporting them."""
        return None

    @property
    def scope_department_ids(self) -> frozenset[str] | None:
        """The departments the last directory read showed, when they are a department administrator's part of
        the tree (a listed department's parent is not listed); None for the whole account."""
        return self._scope

    def diagnose(self) -> Diagnosis:
        """`enrollctl doctor`: every read probed once over the configured API, writes listed unprobed."""
        return probe.diagnose(self.api, name=self.name, account=self.account, capabilities=self.capabilities)

    def call_count(self) -> int:
        """Vendor calls sent so far."""
        total: int = self.http.stats.total
        return total

    def close(self) -> None:
        """Close the run's HTTP client."""
        self.http.close()


def normalise_url(url: str) -> str:
    """The account identity: scheme and host lower-cased, no trailing slash."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme.lower()}://{parsed.host.lower()}{port}{parsed.path.rstrip('/')}"


def wire_for(
    config: ProviderConfig,
    http: VendorClient,
    tokens: TokenSource,
    options: IspringOptions,
    *,
    today: Callable[[], dt.date] = utc_today,
) -> Wire:
    """The wire `api:` names: REST v3 (the default) or SOAP."""
    if config.api == "rest":
        return RestWire(
            http, tokens, page_size=options.page_size, ids_per_filter=options.rest_ids_per_filter, today=today
        )
    if config.api == "soap":
        api = IspringApi(http, tokens, page_size=options.page_size)
        return SoapWire(api, ids_per_filter=options.ids_per_filter)
    raise ConfigError(f"provider {config.name!r}: api {config.api!r} is not one of {', '.join(APIS)}")


def create(
    config: ProviderConfig,
    client: httpx.Client,
    credentials: Credentials,
    *,
    options: IspringOptions = IspringOptions(),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    today: Callable[[], dt.date] = utc_today,
    log_bodies: bool = False,
    progress: Progress = no_progress,
) -> IspringProvider:
    """The provider for one `kind: ispring` entry of enrollctl.yaml; `client` has its base_url set."""
    redactor = Redactor(credentials.secrets())
    limiter = RateLimiter(config.requests_per_minute, clock=clock, sleep=sleep)
    http = VendorClient(
        client,
        provider=config.name,
        redactor=redactor,
        limiter=limiter,
        sleep=sleep,
        log_bodies=log_bodies,
        message_of=rest_wire.said,
    )
    return IspringProvider(
        config.name,
        wire_for(config, http, TokenSource(http, credentials, clock=clock), options, today=today),
        requests_per_minute=config.requests_per_minute,
        options=options,
        progress=progress,
        concurrency=config.concurrency,
    )

"""The iSpring Learn provider (SOAP API 2.0): reads the directory and enrollments, writes plan actions.

Split like Litmos: SOAP calls, token refresh, fault mapping and paging in `api`, reads in `read`, writes in
`write`; envelopes in `soap`, listings in `listing`, record parsing in `records`, grouping of writes in
`batch`, tokens in `auth`. This module holds the options, the capabilities and the `Provider` itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from reconciler.core.due import DueInformation
from reconciler.core.model import Capabilities, Directory, Enrollment, ItemKind, ProviderConfig, ProviderKind
from reconciler.core.plan import Action
from reconciler.providers.base import Credentials, Outcome, Progress, WriteBatch, no_progress
from reconciler.providers.ispring import read
from reconciler.providers.ispring.api import IspringApi
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.batch import (
    plan_batches,
)
from reconciler.providers.ispring.write import write_batch
from reconciler.transport.http import RateLimiter, VendorClient
from reconciler.transport.redact import Redactor

DEFAULT_CONCURRENCY = 8  # write calls in flight: the vendor documents no rate limit


@dataclass(frozen=True)
class IspringOptions:
    """Tunables; the vendor documents no limits for these, so they are conservative guesses."""

    page_size: int = 1000  # the documented default page size
    max_learners_per_call: int = 1000  # inferred: no documented limit on learnerIds per enroll call
    max_items_per_call: int = 100  # inferred: no documented limit on courseIds per enroll call
    ids_per_filter: int = 500  # ids per courseIds/learnerIds filter in reads, to keep envelopes small


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
    """One iSpring Learn account behind the `Provider` protocol: `api` calls, `read` reads, `write` writes."""

    kind = ProviderKind.ISPRING

    def __init__(
        self,
        name: str,
        api: IspringApi,
        *,
        requests_per_minute: int | None = None,
        options: IspringOptions = IspringOptions(),
        progress: Progress = no_progress,
        concurrency: int | None = None,
    ) -> None:
        self.name = name
        self.api = api
        self.options = options
        self.progress = progress
        self._requests_per_minute = requests_per_minute
        self._concurrency = concurrency

    @property
    def capabilities(self) -> Capabilities:
        return _capabilities(self.options, self._requests_per_minute, self._concurrency)

    @property
    def account(self) -> str:
        return normalise_url(self.api.http.base_url)

    def read_directory(self) -> Directory:
        """Departments, groups, users and the catalog's courses and learning tracks."""
        return read.read_directory(self.api)

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments in `item_ids`: terms and origin (ListEnrollments), progress (ListLearnersResults)."""
        return read.read_enrollments(
            self.api,
            directory,
            item_ids,
            user_ids,
            name=self.name,
            ids_per_filter=self.options.ids_per_filter,
            progress=self.progress,
        )

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        """Adds as learners × items rectangles per terms; one call per update and per removal."""
        return plan_batches(
            actions,
            max_learners=self.options.max_learners_per_call,
            max_items=self.options.max_items_per_call,
        )

    def write(self, batch: WriteBatch) -> list[Outcome]:
        """Perform one batch; per-action refusals become FAILED outcomes, lost writes UNKNOWN ones."""
        return write_batch(
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
        """None: the provider does not know a department administrator's scope; it reads what it is shown."""
        return None

    def call_count(self) -> int:
        """Vendor calls sent so far."""
        total: int = self.api.http.stats.total
        return total

    def close(self) -> None:
        """Close the run's HTTP client."""
        self.api.http.close()


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
    api = IspringApi(http, TokenSource(http, credentials, clock=clock), page_size=options.page_size)
    return IspringProvider(
        config.name,
        api,
        requests_per_minute=config.requests_per_minute,
        options=options,
        progress=progress,
        concurrency=config.concurrency,
    )

"""The Litmos provider: REST v1.svc behind the `Provider` protocol.

What Litmos can do shapes what policies may ask: courses and learning paths, no per-assignment due dates,
access dates or term changes; many items per assign call for one user; 25 users per bulk enrollment read;
100 requests a minute per key. Wire details live in `litmos_parse` and `litmos_api`, reads in `litmos_read`,
writes in `litmos_write`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

import httpx

from reconciler.core.due import DueFact, DueInformation
from reconciler.core.model import Capabilities, Directory, Enrollment, ItemKind, ProviderConfig, ProviderKind
from reconciler.core.plan import Action
from reconciler.core.profiles import ProfileNeed
from reconciler.errors import ConfigError
from reconciler.providers.base import Credentials, Diagnosis, Outcome, Progress, WriteBatch, no_progress
from reconciler.providers.litmos import probe
from reconciler.providers.litmos.api import LitmosApi, said
from reconciler.providers.litmos.profiles import read_profiles
from reconciler.providers.litmos.read import BULK_READ_USERS, ReadPlan, ReadStrategy, plan_read
from reconciler.providers.litmos.read import read_directory as _read_directory
from reconciler.providers.litmos.read import read_enrollments as _read_enrollments
from reconciler.providers.litmos.write import MAX_ITEMS_PER_ASSIGN, plan_batches, write_batch, write_calls
from reconciler.transport.http import RateLimiter, VendorClient
from reconciler.transport.redact import Redactor

__all__ = ["LitmosProvider", "ReadPlan", "ReadStrategy", "capabilities_for", "create"]

DEFAULT_REQUESTS_PER_MINUTE = 100  # the vendor's limit per key
DEFAULT_CONCURRENCY = 4  # write calls in flight; the per-key limit bounds the rate anyway
MAX_SOURCE_LENGTH = 50  # Litmos: "source=<app ≤50 chars>" is required on every request


def capabilities_for(config: ProviderConfig) -> Capabilities:
    """What a Litmos account can do; needs no network, so `validate` can check policies offline."""
    return Capabilities(
        item_kinds=frozenset({ItemKind.COURSE, ItemKind.LEARNING_PATH}),
        due_dates=False,
        due_periods=False,
        lock_after_due=False,
        access_dates=False,
        update_terms=False,
        remove=True,
        notify_switch=True,
        reenroll=frozenset({ItemKind.COURSE}),  # PUT /users/{id}/courses/{id}/reset; no reset for paths
        enroll_batch_users=1,
        enroll_batch_items=MAX_ITEMS_PER_ASSIGN,
        read_batch_users=BULK_READ_USERS,
        requests_per_minute=config.requests_per_minute or DEFAULT_REQUESTS_PER_MINUTE,
        concurrency=config.concurrency or DEFAULT_CONCURRENCY,
    )


class LitmosProvider:
    """One Litmos account. `read_plan` says how the last enrollment read was done (for `--verbose`)."""

    kind = ProviderKind.LITMOS

    def __init__(
        self,
        config: ProviderConfig,
        api: LitmosApi,
        *,
        strategy: ReadStrategy | None = None,
        verify_adds: bool = False,
    ) -> None:
        self.name = config.name
        self.config = config
        self.api = api
        self.strategy = strategy  # None: choose per read; set to force one (tests, benchmarks)
        # off: apply confirms every write with bulk reads afterwards, and an id Litmos silently ignored ends
        # FAILED there; on: also read each user's items back after assigning (one call more per assign
        # call), for callers that write without apply's confirmation
        self.verify_adds = verify_adds
        self.read_plan: ReadPlan | None = None
        self._roster_pages: dict[str, int] = {}  # item id → calls its roster took: prices later reads exactly
        self._due_information: DueInformation | None = None

    @property
    def capabilities(self) -> Capabilities:
        return capabilities_for(self.config)

    @property
    def account(self) -> str:
        return self.api.vendor.base_url

    @property
    def read_strategy(self) -> ReadStrategy | None:
        """The strategy the last `read_enrollments` used (None before the first read)."""
        return self.read_plan.strategy if self.read_plan else None

    def read_directory(self) -> Directory:
        """Users, teams (as departments and as groups), courses and learning paths."""
        return _read_directory(self.api)

    def read_user_profiles(self, directory: Directory, need: ProfileNeed) -> Directory:
        """Profile fields and `CreatedDate`: one `GET /users/{id}` per user `need` names, and none when the
        fields needed are all in the `/users` listing already."""
        return read_profiles(self.api, directory, need)

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments in `item_ids` of `user_ids` (default: every user), read the cheaper way."""
        dues: list[DueFact] = []
        self.read_plan, enrollments = _read_enrollments(
            self.api, directory, item_ids, user_ids, self.strategy, dues, self._roster_pages
        )
        unique = {(f.user_id, f.item_id): f for f in dues}
        source = (
            "per-user reads (POST /users/courses)"
            if self.read_plan.strategy is ReadStrategy.BULK
            else "item rosters"
        )
        self._due_information = DueInformation(
            vendor="Litmos", source=source, facts=tuple(unique[k] for k in sorted(unique))
        )
        return enrollments

    def due_information(self) -> DueInformation | None:
        """Due dates and overdue flags of the last enrollment read (Litmos cannot set them per assignment)."""
        return self._due_information

    def plan_read(self, directory: Directory, item_ids: frozenset[str], users: int | None = None) -> ReadPlan:
        """What `read_enrollments` would start with and cost at least, without calling Litmos."""
        managed = sorted(i.id for i in directory.items if i.id in item_ids)
        count = len(directory.users) if users is None else users
        return plan_read(count, managed, forced=self.strategy, known=self._roster_pages)

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        """One assign call per user, item kind and notify (a read-back too if `verify_adds`); one call
        per removal."""
        return plan_batches(actions, verify=self.verify_adds)

    def write_calls(self, actions: Sequence[Action]) -> int:
        """The calls `batches(actions)` costs, without making them (the plan's estimate)."""
        return write_calls(actions, verify=self.verify_adds)

    def write(self, batch: WriteBatch) -> list[Outcome]:
        """Perform one batch; per-action refusals and silently dropped ids become FAILED outcomes."""
        return write_batch(self.api, batch, verify=self.verify_adds)

    @property
    def scope_department_ids(self) -> frozenset[str] | None:
        """None: Litmos API keys see the whole account."""
        return None

    def call_count(self) -> int:
        """Vendor calls sent so far."""
        return self.api.vendor.stats.total

    def diagnose(self) -> Diagnosis:
        """`enrollctl doctor`: every read probed once with `limit=1`, writes listed unprobed."""
        return probe.diagnose(self.api, name=self.name, account=self.account, capabilities=self.capabilities)

    def close(self) -> None:
        """Nothing to release: the run owns the HTTP client."""


def create(
    config: ProviderConfig,
    client: httpx.Client,
    credentials: Credentials,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress = no_progress,
    today: Callable[[], dt.date] | None = None,
) -> LitmosProvider:
    """The provider for one `kind: litmos` entry; `client` has the base URL (vendor or sandbox) set.
    `today` is unused: no Litmos write carries a date of the run's (a reset starts the attempt there)."""
    if not credentials.api_key:
        raise ConfigError(
            f"provider {config.name!r} (litmos) has no API key",
            hint=f"set the environment variable {config.api_key_env or 'named by api_key_env'}",
        )
    if not 0 < len(config.source) <= MAX_SOURCE_LENGTH:
        raise ConfigError(
            f"provider {config.name!r} (litmos): `source` must be 1 to {MAX_SOURCE_LENGTH} characters",
            hint="Litmos requires a short application name on every call, e.g. source: acme-enrollctl",
        )
    limiter = RateLimiter(capabilities_for(config).requests_per_minute, clock=clock, sleep=sleep)
    vendor = VendorClient(
        client,
        provider=config.name,
        redactor=Redactor(credentials.secrets()),
        limiter=limiter,
        sleep=sleep,
        message_of=said,
    )
    return LitmosProvider(
        config,
        LitmosApi(vendor, api_key=credentials.api_key, source=config.source, clock=clock, progress=progress),
    )

"""The provider contract: what the core needs from an LMS, and nothing vendor-specific.

A provider reads the directory and the enrollments of the items policies manage, and writes batches of
plan actions, reporting an outcome per action. Vendor quirks stay inside the vendor's module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from reconciler.core.model import Capabilities, Directory, Enrollment, ProviderKind
from reconciler.core.plan import Action, ActionKind


@dataclass(frozen=True)
class Credentials:
    """Secrets read from the environment variables named in enrollctl.yaml; never printed."""

    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = None
    api_key: str | None = None

    def __repr__(self) -> str:
        present = [n for n in ("client_id", "client_secret", "token", "api_key") if getattr(self, n)]
        return f"Credentials(<redacted: {', '.join(present) or 'none'}>)"

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for the redaction filter."""
        return tuple(v for v in (self.client_secret, self.token, self.api_key) if v)


class OutcomeStatus(StrEnum):
    DONE = "done"  # the vendor made the change
    ALREADY = "already"  # the LMS was already as wanted (re-applied plan, concurrent change to the same end)
    FAILED = "failed"  # the vendor refused; `detail` says why
    UNKNOWN = "unknown"  # the call's fate is unknown (connection lost after sending); resolve by reading back


@dataclass(frozen=True)
class Outcome:
    action_id: str
    status: OutcomeStatus
    detail: str = ""


@dataclass(frozen=True)
class WriteBatch:
    """Actions of one kind that fit one vendor call (or one call per action where the API demands it)."""

    kind: ActionKind
    actions: tuple[Action, ...]
    calls: int = 1  # vendor calls this batch costs


@dataclass(frozen=True)
class DueFact:
    """One enrollment's due state as the vendor reported it, where the vendor cannot set it per assignment."""

    user_id: str
    item_id: str
    due: dt.datetime | None = None
    overdue: bool | None = None  # the vendor's own flag; None when the read carried none
    completed: bool = False

    def is_overdue(self, now: dt.datetime) -> bool:
        """The vendor's flag when read; else past its due date and not completed."""
        if self.overdue is not None:
            return self.overdue
        # inferred: without the vendor's flag, overdue reads as "past due and not completed"
        return self.due is not None and self.due < now and not self.completed


@dataclass(frozen=True)
class DueInformation:
    """Due dates and overdue flags a provider read but cannot manage; plans show them for information.

    An OPTIONAL provider extension, not part of `Provider`: a provider offering it has a method
    `due_information() -> DueInformation | None` (None before its first enrollment read).
    """

    vendor: str  # for messages, e.g. "Litmos"
    source: str  # which read supplied the facts, e.g. "item rosters"
    facts: tuple[DueFact, ...] = ()

    def overdue(self, now: dt.datetime) -> tuple[DueFact, ...]:
        """The overdue enrollments, in (user, item) order."""
        return tuple(f for f in self.facts if f.is_overdue(now))

    def due_dates(self) -> tuple[dt.datetime, ...]:
        """Every due date read, earliest first."""
        return tuple(sorted(f.due for f in self.facts if f.due is not None))


class Provider(Protocol):
    """One LMS account. Implementations take an `httpx.Client` so tests can swap the transport."""

    name: str
    kind: ProviderKind

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def account(self) -> str:
        """Identifies the account (e.g. the base URL) so a plan is never applied to another one."""
        ...

    def read_directory(self) -> Directory:
        """Users, departments, groups and catalog items visible to the credentials."""
        ...

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments in `item_ids` (optionally only of `user_ids`), with terms, origin and progress."""
        ...

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        """Group actions into vendor calls at the API's lower bound; used for estimates and by apply."""
        ...

    def write(self, batch: WriteBatch) -> list[Outcome]:
        """Perform one batch; one outcome per action, never raising for a per-action refusal."""
        ...

    def close(self) -> None: ...


# Each vendor module (`providers/ispring.py`, `providers/litmos.py`) exports
#     def create(config: ProviderConfig, client: httpx.Client, credentials: Credentials) -> Provider
# where `client` already has `base_url` set (the vendor URL, or the in-process sandbox).

"""The provider contract: what the core needs from an LMS, and nothing vendor-specific.

A provider reads the directory and the enrollments of the items policies manage, and writes batches of
plan actions, reporting an outcome per action. Vendor quirks stay inside the vendor's module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from reconciler.core.doctor import ProviderDiagnosis
from reconciler.core.due import DueInformation
from reconciler.core.model import Capabilities, Directory, Enrollment, ProviderKind
from reconciler.core.plan import Action, ActionKind, OutcomeStatus
from reconciler.core.profiles import ProfileNeed
from reconciler.transport.redact import Redactor

Progress = Callable[[str, int, int, float], None]
"""How far a long read has come: (label, done, total, seconds elapsed). The engine passes one to each
provider it builds (the CLI shows it as its progress line); providers never import the terminal."""


def no_progress(label: str, done: int, total: int, elapsed: float) -> None:
    """The default progress callback: report nothing."""


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


@dataclass(frozen=True)
class Outcome:
    action_id: str
    status: OutcomeStatus
    detail: str = ""
    # FAILED because the write was lost and reading back showed it absent: apply may send it again
    absent_after_loss: bool = False


@dataclass(frozen=True)
class WriteBatch:
    """Actions of one kind that fit one vendor call (or one call per action where the API demands it)."""

    kind: ActionKind
    actions: tuple[Action, ...]
    calls: int = 1  # vendor calls this batch costs


@dataclass(frozen=True)
class Exchange:
    """One request and its answer as a doctor probe saw them on the wire, secrets and all: whoever writes
    it out (`enrollctl doctor --record`) masks secrets and personal data first."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int | None  # None: no answer (connection failed, timed out)
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes = b""
    seconds: float = 0.0


@dataclass(frozen=True)
class Diagnosis:
    """What `Provider.diagnose` found, the exchanges behind it, and the redactor that knows every secret
    of them (the credentials and any token fetched while probing)."""

    report: ProviderDiagnosis
    exchanges: tuple[Exchange, ...]
    redactor: Redactor


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

    def read_user_profiles(self, directory: Directory, need: ProfileNeed) -> Directory:
        """`directory` with users' profile fields and join dates (`targets.where`, `joined_within`) and the
        vendor's field names; may cost a call per user (Litmos), so asked only when a policy needs them, and
        told which fields and whose (`need`): what is not needed may be left unread."""
        ...

    def read_enrollments(
        self, directory: Directory, item_ids: frozenset[str], user_ids: frozenset[str] | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments in `item_ids` (optionally only of `user_ids`), with terms, origin and progress."""
        ...

    def batches(self, actions: Sequence[Action]) -> list[WriteBatch]:
        """Group actions into vendor calls at the API's lower bound; used for estimates and by apply."""
        ...

    def write_calls(self, actions: Sequence[Action]) -> int:
        """The vendor calls `batches(actions)` costs, counted without making the batches (plan's estimate)."""
        ...

    def write(self, batch: WriteBatch) -> list[Outcome]:
        """Perform one batch; one outcome per action, never raising for a per-action refusal."""
        ...

    def due_information(self) -> DueInformation | None:
        """Due dates the vendor reports but enrollctl cannot set per assignment (Litmos), for the plan's
        information warnings; None where the provider sets due dates itself, or before its first read."""
        ...

    @property
    def scope_department_ids(self) -> frozenset[str] | None:
        """Departments the credentials are limited to, or None when the provider reads the whole account."""
        ...

    def call_count(self) -> int:
        """Vendor calls this provider has sent so far (export's summary, benchmarks)."""
        ...

    def diagnose(self) -> Diagnosis:
        """`enrollctl doctor`: probe every call plan and apply read with the smallest request that proves it,
        each sent once; never send a write (each is reported as not probed, with the permission it needs).
        Also tells the department scope the credentials have, where the vendor shows one."""
        ...

    def close(self) -> None: ...


# Each vendor module (`providers/ispring.py`, `providers/litmos.py`) exports
#     def create(config: ProviderConfig, client: httpx.Client, credentials: Credentials) -> Provider
# where `client` already has `base_url` set (the vendor URL, or the in-process sandbox).

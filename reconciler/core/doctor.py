"""What `enrollctl doctor` found: one `Check` per vendor call, the credentials' scope, a verdict.

Pure data. Providers fill it in (`Provider.diagnose`, read-only probes), the engine collects one
`ProviderDiagnosis` per provider of enrollctl.yaml, and `render.doctor` shows it as text or JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """How one probe went."""

    OK = "ok"
    REFUSED = "refused"  # the vendor answered with an error status or fault
    UNEXPECTED = "unexpected shape"  # an answer, but not in the layout the provider reads
    UNREACHABLE = "unreachable"  # no answer: DNS, TLS, connection, timeout
    NOT_PROBED = "not probed"  # a write: doctor never sends one
    SKIPPED = "skipped"  # nothing to probe it with (e.g. no course to list enrollments of)


class Need(StrEnum):
    """Which command depends on a call."""

    PLAN = "plan"
    APPLY = "apply"
    PROFILES = "plan (where:/joined_within: only)"  # read only when a policy narrows targets by profile


@dataclass(frozen=True)
class Check:
    """One vendor call, probed with the smallest request that proves it works (or not probed: a write)."""

    call: str  # the vendor's name for it: `GET /departments`, `GetUsers`
    verdict: Verdict
    needs: tuple[Need, ...]
    detail: str = ""  # what came back: records seen, the vendor's message, expected vs received
    meaning: str = ""  # what that usually means, or the permission a write needs
    status: int | None = None  # HTTP status of the answer
    seconds: float | None = None  # latency of the probe
    rate_limit: tuple[tuple[str, str], ...] = ()  # Retry-After / X-RateLimit-* headers the answer carried

    @property
    def failed(self) -> bool:
        return self.verdict in (Verdict.REFUSED, Verdict.UNEXPECTED, Verdict.UNREACHABLE)

    @property
    def blocking(self) -> bool:
        """Whether this call fails in a way every plan or apply would hit; a call only `where:` and
        `joined_within:` targets read (a Litmos profile) is a caveat instead (`limiting`)."""
        return self.failed and self.needs != (Need.PROFILES,)

    @property
    def limiting(self) -> bool:
        """A failed call that only policies narrowing targets by profile fields would hit."""
        return self.failed and self.needs == (Need.PROFILES,)


@dataclass(frozen=True)
class ScopeFinding:
    """What the credentials can see: the whole account, or a department administrator's departments."""

    department_ids: frozenset[str] | None  # None: the whole account
    detail: str
    meaning: str = ""
    departments: tuple[str, ...] = ()  # names of the scope's top departments, for the report

    @property
    def limited(self) -> bool:
        return self.department_ids is not None


WHOLE_ACCOUNT = ScopeFinding(None, "the whole account")


@dataclass(frozen=True)
class RateLimitSeen:
    """Throttling observed during the probes: refusals (429/503) and the limit headers the vendor sent."""

    throttled: int = 0
    headers: tuple[tuple[str, str], ...] = ()  # last value of each Retry-After / X-RateLimit-* header


@dataclass(frozen=True)
class ProviderDiagnosis:
    """Every check of one provider of enrollctl.yaml."""

    provider: str
    kind: str
    api: str  # the transport (`rest`, `soap`), empty where a vendor has one
    account: str
    checks: tuple[Check, ...]
    scope: ScopeFinding = WHOLE_ACCOUNT
    rate_limit: RateLimitSeen = RateLimitSeen()

    @property
    def ready(self) -> bool:
        """Everything plan and apply need answered as expected."""
        return not any(c.blocking for c in self.checks)


@dataclass(frozen=True)
class DoctorReport:
    """The diagnosis of every provider, and where the exchanges were recorded (if asked)."""

    providers: tuple[ProviderDiagnosis, ...]
    recorded_to: str | None = None
    recorded: int = 0  # exchanges written

    @property
    def ready(self) -> bool:
        return all(p.ready for p in self.providers)

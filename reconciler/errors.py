"""The one exception tree of enrollctl.

Every error a user can cause or meet derives from `EnrollctlError`, knows its exit code and prints itself
as one clear message. The CLI prints `str(error)`; only `--debug` adds a traceback. Messages never contain
secrets: providers redact before they raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2  # only `plan --detailed-exitcode`; an error never exits 2


@dataclass(frozen=True, order=True)
class Position:
    """A place in a file; lines and columns count from 1."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}" if self.col > 0 else f"{self.file}:{self.line}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in input: where, which key, what is wrong, and how to fix it."""

    position: Position
    key_path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position.file else ""
        key = f"{self.key_path}: " if self.key_path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{key}{self.message}{hint}"


class EnrollctlError(Exception):
    """Base of every expected error; `exit_code` is what the CLI exits with."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(EnrollctlError):
    """The command line itself is wrong (conflicting flags, missing file argument)."""


class ManifestError(EnrollctlError):
    """Manifests are invalid; carries every diagnostic found, sorted, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(sorted(diagnostics))
        count = len(self.diagnostics)
        # errors is the base layer and imports nothing of enrollctl: its one plural stays here
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found")

    def __str__(self) -> str:
        lines = [str(d) for d in self.diagnostics]
        lines.append(self.message)
        return "\n".join(lines)


class ResolutionError(ManifestError):
    """Names in manifests do not match the LMS directory (unknown or ambiguous departments, groups, items)."""


class ConfigError(EnrollctlError):
    """The environment is incomplete: a credential variable is unset, a sandbox file is missing."""


class ProviderError(EnrollctlError):
    """A vendor API call failed; says which call, the HTTP status or fault, and whether it may be retried."""

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        call: str = "",
        status: int | None = None,
        retryable: bool = False,
        hint: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.call = call
        self.status = status
        self.retryable = retryable

    def __str__(self) -> str:
        parts = [p for p in (self.provider, self.call) if p]
        where = f"{' '.join(parts)}: " if parts else ""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.message}{status}{hint}"


class AuthError(ProviderError):
    """Credentials were refused by the vendor."""


class PermissionDenied(ProviderError):
    """The credentials are valid but their role may not do this (e.g. a department administrator's scope)."""


class RateLimited(ProviderError):
    """The vendor throttled us and retries ran out."""


class ProtocolError(ProviderError):
    """The vendor answered with something we cannot parse (HTML error page, truncated body, wrong type)."""


class PlanError(EnrollctlError):
    """A saved plan cannot be used: unreadable, wrong format_version, other provider/account/manifests."""


class GuardTripped(EnrollctlError):
    """A safety guard refused the plan (too many removals); says the numbers and how to raise the limit."""


class StalePlan(EnrollctlError):
    """The LMS changed since the plan was made; lists the actions whose basis no longer holds."""

    def __init__(self, message: str, *, stale: tuple[str, ...] = (), hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.stale = stale

    def __str__(self) -> str:
        lines = [super().__str__(), *(f"  {s}" for s in self.stale)]
        return "\n".join(lines)


class LockHeld(EnrollctlError):
    """Another apply holds the repository lock under .enrollctl/."""


class ApplyFailed(EnrollctlError):
    """Some actions failed during apply; the journal records which, and a re-run resumes."""


@dataclass
class DiagnosticSink:
    """Collects diagnostics so validation can report every problem in one run."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, position: Position, key_path: str, message: str, hint: str = "") -> None:
        """Record one problem."""
        self.items.append(Diagnostic(position, key_path, message, hint))

    def raise_if_any(self, error_type: type[ManifestError] = ManifestError) -> None:
        """Raise all collected problems at once, if there are any."""
        if self.items:
            raise error_type(self.items)

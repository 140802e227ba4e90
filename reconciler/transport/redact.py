"""Masking of secrets in everything enrollctl writes: log lines, error messages, debug dumps.

A `Redactor` knows every secret value of one run (credentials from the environment and tokens obtained at
runtime) and replaces each occurrence, also in its URL-encoded forms, by a fixed mask.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words; no real credential is that short
# a safety net for values not registered yet (a token in the very response that delivers it): whatever
# sits in a field with one of these names is masked in JSON, XML and form/query syntax
_FIELDS = r"(?:access_token|refresh_token|token|client_secret|password|api_?key)"
_FIELD_PATTERNS = (
    re.compile(rf'("{_FIELDS}"\s*:\s*")[^"]*(")', re.IGNORECASE),
    re.compile(rf"(<(?:[\w-]+:)?{_FIELDS}>)[^<]*(</)", re.IGNORECASE),
    re.compile(rf"((?:^|[?&\s]){_FIELDS}=)[^&\s]*()", re.IGNORECASE),
)


class Redactor:
    """Replaces every known secret value in a text by `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Register more secret values (e.g. a token fetched at runtime)."""
        forms = set(self._secrets)
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                # a secret may appear raw, form-encoded (token requests) or percent-encoded (URLs)
                forms.update({secret, quote_plus(secret), quote(secret, safe="")})
        with self._lock:
            # longest first, so a secret containing another one is masked whole
            self._secrets = tuple(sorted(forms, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        """Return `text` with every secret, and every value of a secret-named field, masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _FIELD_PATTERNS:
            text = pattern.sub(rf"\g<1>{MASK}\g<2>", text)
        return text

    def bytes(self, data: bytes, *, limit: int = 2000) -> str:
        """Decode (leniently), truncate to `limit` characters and redact a body for a message or dump."""
        text = data.decode("utf-8", errors="replace")
        # redact before truncating, so a secret cut in half at the limit cannot leak its first part
        text = self(text)
        return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"

    def filter(self) -> logging.Filter:
        """A logging filter that redacts records; attach it to handlers or to third-party loggers."""
        return RedactingFilter(self)

    def install(self, *logger_names: str) -> None:
        """Attach the filter to these loggers (e.g. "httpx", "httpcore") so their records are redacted too."""
        for name in logger_names:
            logging.getLogger(name).addFilter(self.filter())


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with its arguments merged in and every secret masked."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redactor(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


THIRD_PARTY_LOGGERS = ("httpx", "httpcore")  # httpx logs every request URL at INFO
_live: weakref.WeakSet[Redactor] = weakref.WeakSet()
_installed = False


class _AllRedactorsFilter(logging.Filter):
    """Redacts with every live redactor, so one filter per logger serves every provider of the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for redactor in list(_live):
            redacted = redactor(redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def protect_third_party_logs(redactor: Redactor) -> None:
    """Make the HTTP libraries' own log records pass through `redactor` too."""
    global _installed
    _live.add(redactor)
    if not _installed:
        for name in THIRD_PARTY_LOGGERS:
            logging.getLogger(name).addFilter(_AllRedactorsFilter())
        _installed = True


def redact_known(text: str) -> str:
    """`text` masked by every live redactor: for output that may hold any provider's secret (log lines)."""
    for redactor in list(_live):
        text = redactor(text)
    return text

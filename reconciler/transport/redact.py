"""Masking of secrets in everything enrollctl writes: log lines, error messages, debug dumps.

A `Redactor` knows every secret value of one run (credentials from the environment and tokens obtained at
runtime) and masks each occurrence in every encoding a server may echo it back in: raw; URL
percent-encoding in either hex case, `+` for space; JSON escapes (`\\/`, `\\uXXXX` of any character);
XML/HTML entities (`&amp;`, `&#38;`, `&#x26;`); and base64, standard or URL-safe, padded or not, also
inside a longer blob (`id:secret` in Basic auth) at each of the three byte alignments. The encodings may be
mixed character by character, as a server that escapes only some characters produces.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import threading
import weakref
from collections.abc import Iterable

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words; no real credential is that short
MIN_BASE64_CORE = 8  # a base64 fragment shorter than this would mask ordinary text
_WIDEST_CHAR = 24  # the longest encoding of one character below (`\\ud83d\\ude00`, `&#x0000e9;`, ...)
# a safety net for values not registered yet (a token in the very response that delivers it): whatever
# sits in a field with one of these names is masked in JSON, XML and form/query syntax, also when the
# text ends inside the value (an excerpt cut short)
_FIELDS = r"(?:access_token|refresh_token|token|client_secret|password|api_?key)"
_FIELD_PATTERNS = (
    re.compile(rf'("{_FIELDS}"\s*:\s*")[^"]*("|$)', re.IGNORECASE),
    re.compile(rf"(<(?:[\w-]+:)?{_FIELDS}>)[^<]*(</|$)", re.IGNORECASE),
    re.compile(rf"((?:^|[?&\s]){_FIELDS}=)[^&\s]*()", re.IGNORECASE),
)
_NAMED = {"&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos"}
_JSON_SHORT = {"/": "\\/", '"': '\\"', "\\": "\\\\"}


def _char_pattern(char: str) -> str:
    """A regex matching `char` raw or in any of the encodings a server may echo it in."""
    code = ord(char)
    forms = [re.escape(char), "".join(f"%{byte:02x}" for byte in char.encode())]
    if char == " ":
        forms.append(r"\+")
    if code > 0xFFFF:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(rf"\\u{high:04x}\\u{low:04x}")
    else:
        forms.append(rf"\\u{code:04x}")
    if char in _JSON_SHORT:
        forms.append(re.escape(_JSON_SHORT[char]))
    forms += [rf"&\#0{{0,4}}{code};", rf"&\#x0{{0,4}}{code:x};"]
    if char in _NAMED:
        forms.append(f"&{_NAMED[char]};")
    return f"(?:{'|'.join(forms)})"


def _base64_forms(secret: str) -> set[str]:
    """The secret in base64: whole (padded and not) and, as it sits inside a longer blob, at each of the
    three byte alignments (only the characters that depend on the secret's bytes alone)."""
    data = secret.encode()
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode()
        forms.update({whole, whole.rstrip("=")})
        for offset in range(3):
            encoded = encode(b"\0" * offset + data).decode().rstrip("=")
            total = offset + len(data)
            end = 4 * (total // 3) + (total % 3)  # a trailing partial group keeps 1 or 2 pure characters
            core = encoded[(0, 2, 3)[offset] : end]
            if len(core) >= MIN_BASE64_CORE:
                forms.add(core)
    return forms


@functools.lru_cache(maxsize=64)
def _secrets_pattern(forms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for all `forms`, each character in any encoding; built once per set of secrets (building
    it is slow, and every provider of a run, and every token fetch, asks for the same one again)."""
    alternatives = ("".join(_char_pattern(c) for c in form) for form in forms)
    return re.compile("|".join(alternatives), re.IGNORECASE) if forms else None


class Redactor:
    """Replaces every known secret value in a text, in any encoding, by `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._margin = 0
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Register more secret values (e.g. a token fetched at runtime)."""
        forms = set(self._forms)
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                forms.add(secret)
                forms.update(_base64_forms(secret))
        if forms == self._forms:
            return  # nothing new (a token fetched again): the pattern stands
        with self._lock:
            # the pattern is built when a text is first redacted, not here: a run that renews its token
            # many times and never has to redact anything in between builds none of the patterns between
            self._forms, self._pattern = forms, None
            self._margin = _WIDEST_CHAR * max((len(f) for f in forms), default=0) + 256

    def _current_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._forms:
                # longest first, so a secret containing another one is masked whole
                self._pattern = _secrets_pattern(tuple(sorted(self._forms, key=lambda f: (-len(f), f))))
            return self._pattern

    def __call__(self, text: str) -> str:
        """Return `text` with every secret, and every value of a secret-named field, masked."""
        pattern = self._current_pattern()
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for field_pattern in _FIELD_PATTERNS:
            text = field_pattern.sub(rf"\g<1>{MASK}\g<2>", text)
        return text

    def excerpt(self, text: str, limit: int) -> str:
        """`text` redacted and cut to `limit` characters, without scanning more of it than the cut needs."""
        # redact a window wider than the cut by the longest encoded secret, so a secret that starts before
        # the cut is masked whole and cannot leak its first part; what lies beyond the window is dropped
        window = text[: limit + self._margin + 256]
        redacted = self(window)
        if len(redacted) <= limit and len(window) == len(text):
            return redacted
        return redacted[:limit] + f"... [cut at {limit} characters]"

    def bytes(self, data: bytes, *, limit: int = 2000) -> str:
        """Decode (leniently), truncate to `limit` characters and redact a body for a message or dump."""
        head = data[: 4 * (limit + self._margin + 256)]  # at most 4 bytes per character in UTF-8
        return self.excerpt(head.decode("utf-8", errors="replace"), limit)

    def filter(self) -> logging.Filter:
        """A logging filter that redacts records; attach it to handlers or to third-party loggers."""
        return RedactingFilter(self)


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

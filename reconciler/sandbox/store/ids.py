"""Deterministic vendor ids for sandbox entities, derived from names so they are stable across runs.

Each entity has an iSpring UUID (uuid5), a Litmos 12-character id and a Litmos `OriginalId` integer.
`kind` keeps a department and a group with the same name apart (both are Litmos teams).
"""

from __future__ import annotations

import hashlib
import uuid

# A fixed namespace so every sandbox, on every machine, derives the same ids from the same names.
SANDBOX_NAMESPACE = uuid.UUID("6f1d6a3e-3c1b-5f0e-9a53-9b5e8c1e0a11")
_NAMESPACE_BYTES = SANDBOX_NAMESPACE.bytes
_LITMOS_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# OriginalId values look like the vendor's (7-10 digit integers); collisions are possible in theory
# (about one in 10^4 for 100,000 entities of one kind), harmless: it is a display field, never a key.
_ORIGINAL_ID_BASE = 1_000_000
_ORIGINAL_ID_SPAN = 2_000_000_000


def _digest(kind: str, name: str) -> bytes:
    return hashlib.sha256(f"{kind}\x1f{name}".encode()).digest()


def ispring_uuid(kind: str, name: str) -> str:
    """The iSpring UUID of entity `name` of `kind` (department, group, user, course, ...): a uuid5."""
    # Same value as str(uuid.uuid5(SANDBOX_NAMESPACE, ...)), computed directly: seeding makes 100,000s.
    # SHA-1 because uuid5 is defined with it; an id, not a security measure
    digest = hashlib.sha1(_NAMESPACE_BYTES + f"{kind}\x1f{name}".encode(), usedforsecurity=False).digest()
    raw = bytearray(digest[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def litmos_id(kind: str, name: str) -> str:
    """A Litmos-style 12-character alphanumeric id, like `bYWg1D67tgo1`."""
    number = int.from_bytes(_digest(kind, name)[:10], "big")
    chars = []
    for _ in range(12):
        number, rest = divmod(number, 62)
        chars.append(_LITMOS_ALPHABET[rest])
    return "".join(chars)


def original_id(kind: str, name: str) -> int:
    """A Litmos `OriginalId` integer."""
    return _ORIGINAL_ID_BASE + int.from_bytes(_digest(kind, name)[10:14], "big") % _ORIGINAL_ID_SPAN


def result_id(enrollment_uuid: str) -> int:
    """A Litmos `ResultId` for an enrollment."""
    return original_id("result", enrollment_uuid)

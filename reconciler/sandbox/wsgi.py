"""WSGI plumbing shared by the emulators and their fault middleware."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def read_body(environ: Mapping[str, Any], limit: int | None = None) -> bytes:
    """The request body as CONTENT_LENGTH announces it (at most `limit` bytes); empty when none or invalid."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None:
        length = min(length, limit)
    stream = environ.get("wsgi.input")
    return bytes(stream.read(length)) if stream is not None and length > 0 else b""

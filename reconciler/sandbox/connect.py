"""The one door from enrollctl's engine into the sandbox: an emulator over a SQLite file, served in-process.

`connect` opens the store (creating and seeding it from the organisation file the first time, so `plan` and
a later `apply` see one LMS), builds the vendor's WSGI app behind the fault switches, and hands back the app
with the emulator's fixed test credentials. The engine wraps the app in an httpx WSGI transport; nothing
else of the sandbox is visible to it (import contract `sandbox-connect`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.faults import faults_from_dict, load_faults
from reconciler.sandbox.serve import SANDBOX_CREDENTIALS, WSGIApplication, build_app, open_sandbox


@dataclass(frozen=True)
class Connection:
    """A running emulator: its WSGI app, its test credentials (by field name) and how to release it."""

    app: WSGIApplication
    credentials: Mapping[str, str]
    close: Callable[[], None]


def connect(
    vendor: str,
    org_file: str,
    db_path: str,
    *,
    faults: Mapping[str, Any] | None = None,
    faults_file: str | None = None,
) -> Connection:
    """The `vendor` emulator ("ispring" or "litmos") over `db_path`, seeded from `org_file` when new.

    `faults` (switches as in docs/SANDBOX.md) or else `faults_file` (the same switches in YAML) disturb it."""
    switches = faults_from_dict(dict(faults)) if faults is not None else None
    if switches is None and faults_file:
        switches = load_faults(faults_file)
    store = open_sandbox(org_file, db_path)
    return Connection(build_app(vendor, store, switches), dict(SANDBOX_CREDENTIALS[vendor]), store.close)

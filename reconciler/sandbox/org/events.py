"""Scripted HR events of a sandbox organisation file: `events: [{at: DATE, hire|leave|move: ...}]`.

Each event is a date and exactly one action. They fire once, on the first run whose clock (`ENROLLCTL_NOW`
pins it) has passed their date, so a quarter of joiners, leavers and moves can be rehearsed against the
manifests. A new action adds a parser and an applier to `ACTIONS` (`complete` is the next one).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.errors import ConfigError
from reconciler.sandbox.org.spec import UserSpec
from reconciler.sandbox.org.yaml import to_datetime

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Payload = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """One scripted change: `action` (hire, leave, move) with its JSON-able `payload`, due at `at`."""

    at: dt.datetime
    action: str
    payload: Payload

    @property
    def key(self) -> str:
        """What identifies the event among those already fired (its date, action and payload)."""
        return json.dumps([self.at.isoformat(), self.action, self.payload], sort_keys=True)

    def describe(self) -> str:
        """`move alice@acme.example` for messages."""
        return f"{self.action} {self.payload.get('login', '')}".strip()


def _hire(value: Any) -> Payload:
    if not isinstance(value, Mapping) or not value.get("login"):
        raise ValueError("expected {login: ..., department: ..., first_name: ..., ...}")
    known = {"login", "first_name", "last_name", "email", "department", "groups", "job_title"}
    unknown = sorted(set(map(str, value)) - known)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (expected one of {', '.join(sorted(known))})")
    payload: Payload = {str(k): str(v) for k, v in value.items() if k != "groups" and v is not None}
    payload["groups"] = [str(g) for g in value.get("groups") or []]
    return payload


def _leave(value: Any) -> Payload:
    login = value.get("login") if isinstance(value, Mapping) else value
    if not isinstance(login, str) or not login:
        raise ValueError("expected a login")
    return {"login": login}


def _move(value: Any) -> Payload:
    if not isinstance(value, Mapping) or not value.get("login") or not value.get("department"):
        raise ValueError("expected {login: ..., department: ...}")
    return {"login": str(value["login"]), "department": str(value["department"])}


ACTIONS: dict[str, Callable[[Any], Payload]] = {"hire": _hire, "leave": _leave, "move": _move}


def parse_events(text: str, source: str) -> tuple[Event, ...]:
    """The `events:` list of an organisation file's text; every problem in one ConfigError."""
    if "events" not in text:  # the common case, and big generated files: no second parse
        return ()
    data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (C or Python)
    raw = data.get("events") if isinstance(data, Mapping) else None
    events: list[Event] = []
    problems: list[str] = []
    for n, entry in enumerate(raw or []):
        try:
            events.append(_event(entry))
        except ValueError as error:
            problems.append(f"{source}: events[{n}]: {error}")
    if problems:
        raise ConfigError("invalid sandbox organisation file:\n" + "\n".join(problems))
    return tuple(events)


def _event(entry: Any) -> Event:
    if not isinstance(entry, Mapping):
        raise ValueError("expected {at: DATE, <action>: ...}")
    at = to_datetime(entry.get("at"))
    if at is None:
        raise ValueError(f"`at` must be a date, not {entry.get('at')!r}")
    actions = [k for k in entry if k != "at"]
    if len(actions) != 1 or actions[0] not in ACTIONS:
        raise ValueError(f"give exactly one of {', '.join(ACTIONS)} besides `at` (found {actions or 'none'})")
    return Event(at, str(actions[0]), ACTIONS[actions[0]](entry[actions[0]]))


def dump_events(events: tuple[Event, ...]) -> str:
    """The events as JSON, to keep in the store between runs."""
    return json.dumps([[e.at.isoformat(), e.action, e.payload] for e in events])


def load_events(text: str | None) -> tuple[Event, ...]:
    """Events kept by `dump_events`."""
    return tuple(Event(dt.datetime.fromisoformat(a), b, c) for a, b, c in json.loads(text or "[]"))


def hired_user(payload: Payload) -> UserSpec:
    """The user a `hire` event adds."""
    return UserSpec(
        login=payload["login"],
        first_name=payload.get("first_name", ""),
        last_name=payload.get("last_name", ""),
        email=payload.get("email", ""),
        department=payload.get("department"),
        groups=tuple(payload.get("groups", ())),
        job_title=payload.get("job_title", ""),
    )

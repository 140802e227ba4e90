"""A sandbox that follows its organisation file: edits to the file and its scripted events reach the state.

When the file changed since the state was last synchronised, the difference in people, departments, groups
and content is applied to the store: joiners are added, users gone from the file become leavers (status
`employment_ended`), moves and other changes to a user are written over. Nothing that went away is deleted,
and no enrollment is touched, so every enrollment keeps its progress. Changes are measured against the
previous file, not the store, so what enrollctl wrote, or an event did, is not undone by an unrelated edit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable

from reconciler.errors import ConfigError
from reconciler.sandbox.org.events import Event, dump_events, hired_user, load_events, parse_events
from reconciler.sandbox.org.load import (
    _department_rows,
    _item_rows,
    _user_row,
    department_uuid,
    expand_org,
    group_uuid,
    user_uuid,
)
from reconciler.sandbox.org.yaml import parse_org
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.ids import litmos_id, original_id
from reconciler.sandbox.store.records import GroupRow, UserRow

DIGEST, USERS, EVENTS, FIRED = "org_digest", "org_users", "org_events", "org_events_fired"
LEFT = "employment_ended"


def remember_org(store: Store, org_file: str) -> None:
    """After seeding: note the file's digest, users and events, so later runs see what changed."""
    text = _read(org_file)
    org = expand_org(parse_org(text, org_file))
    with store.transaction():
        store.set_meta(USERS, json.dumps({r.uuid: _fingerprint(r) for r in map(_user_row, org.users)}))
        store.set_meta(EVENTS, dump_events(parse_events(text, org_file)))
        store.set_meta(DIGEST, _digest(text))


def follow_org(store: Store, org_file: str, now: dt.datetime) -> str | None:
    """Apply file changes and due events to `store`; one line saying what changed, or None."""
    text = _read(org_file)
    parts: list[str] = []
    with store.transaction():
        if store.get_meta(DIGEST) != _digest(text):
            counts = _apply_file(store, text, org_file)
            store.set_meta(EVENTS, dump_events(parse_events(text, org_file)))
            store.set_meta(DIGEST, _digest(text))
            changes = ", ".join(_count(n, what) for what, n in counts.items() if n)
            if changes:  # an edit of comments or layout, or a state older than following: nothing to say
                parts.append(f"followed its changes ({changes})")
        fired = _fire_due_events(store, now, org_file)
        if fired:
            what = ", ".join(e.describe() for e in fired)
            parts.append(f"fired {_count(len(fired), 'event')} due by {now.date().isoformat()} ({what})")
    if not parts:
        return None
    name = os.path.basename(org_file)
    return (
        f"Sandbox {name}: {'; '.join(parts)}; every enrollment and its progress kept "
        "(`enrollctl sandbox reset` starts over)."
    )


def _apply_file(store: Store, text: str, source: str) -> Counter[str]:
    org = expand_org(parse_org(text, source))
    counts: Counter[str] = Counter()
    departments = {d.uuid for d in store.departments()}
    new_departments = [d for d in _department_rows(org.departments, None) if d.uuid not in departments]
    store.insert_departments(new_departments)
    counts["new department"] = len(new_departments)
    groups = {g.uuid for g in store.groups()}
    new_groups = [g for g in org.groups if group_uuid(g) not in groups]
    store.insert_groups(
        GroupRow(group_uuid(g), litmos_id("group", g), original_id("group", g), g) for g in new_groups
    )
    counts["new group"] = len(new_groups)
    items = {i.uuid for i in store.items()}
    new_items = [i for i in _item_rows(org) if i.uuid not in items]
    store.insert_items(new_items)
    counts["new course"] = sum(i.kind == "course" for i in new_items)
    counts["new learning path"] = sum(i.kind == "learning_path" for i in new_items)
    counts.update(_apply_users(store, [_user_row(u) for u in org.users]))
    return counts


def _apply_users(store: Store, rows: list[UserRow]) -> Counter[str]:
    previous: dict[str, list[object]] | None = json.loads(store.get_meta(USERS) or "null")
    stored = {u.uuid: u for u in store.users()}
    wanted = {r.uuid: r for r in rows}
    joiners = [r for r in rows if r.uuid not in stored]
    store.insert_users(joiners)
    changed = [
        r
        for r in rows
        if r.uuid in stored
        and (previous is None or previous.get(r.uuid) != _fingerprint(r))
        and _fingerprint(stored[r.uuid]) != _fingerprint(r)
    ]
    store.update_users(changed)
    leavers = [
        uuid
        for uuid in previous or {}
        if uuid not in wanted and uuid in stored and stored[uuid].status != LEFT
    ]
    for uuid in leavers:
        store.set_user_status(uuid, LEFT)
    store.set_meta(USERS, json.dumps({r.uuid: _fingerprint(r) for r in rows}))
    moved = sum(stored[r.uuid].department_uuid != r.department_uuid for r in changed)
    left = sum(r.status == LEFT for r in changed) + len(leavers)
    other = len(changed) - moved - left
    return Counter({"joiner": len(joiners), "leaver": left, "move": moved, "other user change": other})


def _fingerprint(row: UserRow) -> list[object]:
    """What the file says about a user, comparably (not ids or dates, which follow from the login)."""
    return [
        *(row.email, row.first_name, row.last_name, row.status, row.department_uuid, row.role, row.job_title),
        sorted(row.group_uuids),
        sorted(row.manageable_department_uuids),
    ]


def _fire_due_events(store: Store, now: dt.datetime, source: str) -> list[Event]:
    fired = set(json.loads(store.get_meta(FIRED) or "[]"))
    due = sorted(
        (e for e in load_events(store.get_meta(EVENTS)) if e.at <= now and e.key not in fired),
        key=lambda e: e.at,
    )
    for event in due:
        try:
            _APPLY[event.action](store, event)
        except LookupError as error:
            raise ConfigError(
                f"{source}: event `{event.describe()}` at {event.at.date().isoformat()}: {error.args[0]}",
                hint="fix the event (or the organisation) in the file; `enrollctl sandbox reset` starts over",
            ) from None
        fired.add(event.key)
    if due:
        store.set_meta(FIRED, json.dumps(sorted(fired)))
    return due


def _department(store: Store, path: str | None) -> str | None:
    if path is None:
        return None
    if store.get_department(department_uuid(path)) is None:
        raise LookupError(f"unknown department {path!r}")
    return department_uuid(path)


def _existing_user(store: Store, login: str) -> UserRow:
    user = store.get_user(user_uuid(login))
    if user is None:
        raise LookupError(f"unknown user {login!r}")
    return user


def _hire(store: Store, event: Event) -> None:
    spec = hired_user(event.payload)
    _department(store, spec.department)
    for group in spec.groups:
        if store.get_group(group_uuid(group)) is None:
            raise LookupError(f"unknown group {group!r}")
    row = dataclasses.replace(_user_row(spec), added_date=event.at)
    if store.get_user(row.uuid) is None:
        store.insert_users([row])
    else:  # a returner: hired again, as the event describes them
        store.update_users([row])


def _leave(store: Store, event: Event) -> None:
    store.set_user_status(_existing_user(store, event.payload["login"]).uuid, LEFT)


def _move(store: Store, event: Event) -> None:
    user = _existing_user(store, event.payload["login"])
    store.move_user(user.uuid, _department(store, event.payload["department"]))


_APPLY: dict[str, Callable[[Store, Event], None]] = {"hire": _hire, "leave": _leave, "move": _move}


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except OSError as error:
        raise ConfigError(f"cannot read sandbox organisation file {path}: {error.strerror}") from error


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"

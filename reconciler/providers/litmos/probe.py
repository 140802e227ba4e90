"""`enrollctl doctor` for Litmos: each call plan and apply read, probed once with `limit=1`.

The directory lists (`/users`, `/teams`, a team's sub-teams and members, `/courses`, `/learningpaths`), the
two ways enrollments are read (an item's roster, and `POST /users/courses` for one user), and a single
user's profile (read only when a policy narrows targets with `where:` or `joined_within:`). Writes are
never sent: Litmos documents no harmless form of assigning, removing or resetting. Litmos API keys see the
whole account, so there is no department scope to find.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import httpx

from reconciler.core.doctor import Need, ProviderDiagnosis, ScopeFinding
from reconciler.core.model import Capabilities, ItemKind
from reconciler.errors import ProtocolError
from reconciler.providers.base import Diagnosis, Exchange
from reconciler.providers.litmos.api import LitmosApi, segment
from reconciler.providers.litmos.body import (
    BULK_RESULTS,
    COURSES,
    LEARNING_PATHS,
    TEAMS,
    USERS,
    Record,
    Shape,
    records_from_body,
)
from reconciler.providers.litmos.parse import as_text, parse_bulk_results, parse_item, parse_team, parse_user
from reconciler.providers.probing import Prober, meaning_for, not_probed, skipped
from reconciler.transport.safexml import local_name, parse_xml

PLAN = (Need.PLAN, Need.APPLY)  # apply reads enrollments again before writing and to confirm
APPLY = (Need.APPLY,)
PROFILES = (Need.PROFILES,)
FORBIDDEN = (
    "Litmos answers 403 for a wrong API key, a missing or too long `source`, plain HTTP instead of HTTPS, "
    "and an IP allow-list alike"
)
WRITE_PERMISSION = "need the account's API key (only account owners can see theirs)"
WHOLE_ACCOUNT = ScopeFinding(None, "the whole account (a Litmos API key sees every user and team)")


def explain(exchange: Exchange) -> tuple[str, str]:
    """Litmos's message in a refused answer (`{"Detail": ...}`, `{"Message": ...}`, or the text)."""
    status = exchange.status or 0
    body = exchange.response_body
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    message = ""
    if isinstance(payload, dict):
        message = next((str(payload[k]) for k in ("Detail", "Message", "message") if payload.get(k)), "")
    meaning = meaning_for(status, FORBIDDEN)
    if status == 401:
        meaning = "a wrong or revoked API key"
    return message or body[:200].decode("utf-8", "replace").strip(), meaning


class _Run:
    def __init__(self, api: LitmosApi) -> None:
        self.prober = Prober(api.vendor, explain)
        # the account's own addressing (apikey header, source, format=json), sending each call once
        self.api = copy.copy(api)
        self.api.vendor = self.prober.once

    def rows(
        self,
        call: str,
        path: str,
        shape: Shape,
        parse: Callable[[Record], object],
        needs: tuple[Need, ...] = PLAN,
    ) -> list[Record]:
        """Probe one list with `limit=1`; its rows (empty when it failed)."""
        rows: list[Record] = []

        def send() -> httpx.Response:
            return self.api.send("GET", path, call=call, params={"limit": 1, "start": 0})

        def read(response: httpx.Response) -> str:
            rows.extend(records_from_body(response.content, response.headers.get("Content-Type", ""), shape))
            for row in rows:
                parse(row)
            return f"{len(rows)} {shape.record} record{'s' if len(rows) != 1 else ''} (limit=1)"

        self.prober.run(call, needs, send, read)
        return rows

    def first(self, rows: list[Record]) -> str | None:
        return as_text(rows[0].get("Id")) if rows else None

    def reads(self) -> None:
        users = self.rows("GET /users", "/users", USERS, parse_user)
        teams = self.rows("GET /teams", "/teams", TEAMS, parse_team)
        team = self.first(teams)
        if team is None:
            for call in ("GET /teams/{id}/teams", "GET /teams/{id}/users"):
                self.prober.add(skipped(call, PLAN, "no team to ask about"))
        else:
            self.rows("GET /teams/{id}/teams", f"/teams/{segment(team)}/teams", TEAMS, parse_team)
            self.rows("GET /teams/{id}/users", f"/teams/{segment(team)}/users", USERS, parse_user)
        courses = self.rows("GET /courses", "/courses", COURSES, lambda r: parse_item(r, ItemKind.COURSE))
        paths = self.rows(
            "GET /learningpaths",
            "/learningpaths",
            LEARNING_PATHS,
            lambda r: parse_item(r, ItemKind.LEARNING_PATH),
        )
        for kind, rows in (("courses", courses), ("learningpaths", paths)):
            item = self.first(rows)
            call = f"GET /{kind}/{{id}}/users"
            if item is None:
                self.prober.add(skipped(call, PLAN, f"no {kind} to ask about"))
            else:
                self.rows(call, f"/{kind}/{segment(item)}/users", USERS, lambda r: as_text(r.get("Id")))
        user = self.first(users)
        if user is None:
            for call in ("POST /users/courses", "GET /users/{id}"):
                self.prober.add(skipped(call, PLAN, "no user to ask about"))
            return
        self.bulk(user)
        self.profile(user)

    def bulk(self, user: str) -> None:
        """`POST /users/courses` for one user: a read, though sent with POST (documented as such)."""

        def send() -> httpx.Response:
            body = [{"Id": user}]
            return self.api.send("POST", "/users/courses", call="POST /users/courses", body=body)

        def read(response: httpx.Response) -> str:
            rows = records_from_body(response.content, response.headers.get("Content-Type", ""), BULK_RESULTS)
            found = parse_bulk_results(rows)
            return f"{len(rows)} User record{'s' if len(rows) != 1 else ''} with {len(found)} assignments"

        self.prober.run("POST /users/courses", PLAN, send, read)

    def profile(self, user: str) -> None:
        def send() -> httpx.Response:
            return self.api.send("GET", f"/users/{segment(user)}", call="GET /users/{id}")

        def read(response: httpx.Response) -> str:
            record = _object(response.content)
            return f"a user with {len(record)} fields"

        self.prober.run("GET /users/{id}", PROFILES, send, read)


def _object(body: bytes) -> dict[str, Any]:
    """A single user's answer: a JSON object, or (XML) a `<User>`."""
    stripped = body.lstrip()
    if stripped[:1] == b"<":
        root = parse_xml(stripped)
        if local_name(root) != "User":
            raise ProtocolError(f"expected a <User>, got <{local_name(root)}>")
        return {local_name(e): e.text for e in root if isinstance(e.tag, str)}
    try:
        data = json.loads(body)
    except ValueError:
        raise ProtocolError(f"expected a JSON object or a <User>, got {body[:60]!r}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"expected a JSON object or a <User>, got {type(data).__name__}")
    return data


WRITES = (
    ("POST /users/{id}/courses", "adds of courses"),
    ("POST /users/{id}/learningpaths", "adds of learning paths"),
    ("DELETE /users/{id}/courses/{id}", "removals of courses"),
    ("DELETE /users/{id}/learningpaths/{id}", "removals of learning paths"),
)


def diagnose(api: LitmosApi, *, name: str, account: str, capabilities: Capabilities) -> Diagnosis:
    """Probe every read once, list the writes unprobed; Litmos keys have no department scope."""
    run = _Run(api)
    with run.prober.capturing():
        run.reads()
    writes: tuple[tuple[str, str], ...] = WRITES
    if capabilities.reenroll:
        writes = (*writes, ("PUT /users/{id}/courses/{id}/reset", "re-enrollments"))
    for call, what in writes:
        run.prober.add(not_probed(call, APPLY, f"apply's {what} {WRITE_PERMISSION}"))
    checks = tuple(run.prober.checks)
    report = ProviderDiagnosis(name, "litmos", "", account, checks, WHOLE_ACCOUNT, run.prober.rate_limit())
    return Diagnosis(report, tuple(run.prober.exchanges), api.vendor.redactor)

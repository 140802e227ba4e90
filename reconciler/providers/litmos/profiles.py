"""Litmos user profiles for `targets.where` and `joined_within`: the `/users` listing's fields for free, the
rest at one `GET /users/{id}` per user.

The `/users` list carries only `Id, UserName, FirstName, LastName, Active, Email, AccessLevel` (recorded
traffic, vendor-docs/litmos-recorded/users-all-paginated.yml): `read.read_directory` keeps those as fields
(LISTED_FIELDS), so a `where` on them costs nothing more. The other profile fields and `CreatedDate` come
only with the single-user read (find-user.yml): one call per user, made only for the users the policies'
cheaper targets select (`core.profiles.ProfileNeed`), paced by the provider's rate limiter like every call,
and counted (`-v` prints the price before and after). Litmos has no hire date: `joined` is `CreatedDate`
(when the account was created).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from reconciler.core.attributes import field_key
from reconciler.core.model import Directory, User
from reconciler.core.profiles import ProfileNeed
from reconciler.errors import ProtocolError
from reconciler.providers.litmos.api import LitmosApi, Progress, segment
from reconciler.providers.litmos.body import Record, xml_record
from reconciler.providers.litmos.parse import as_datetime, as_text
from reconciler.transport.safexml import local_name, parse_xml

log = logging.getLogger("enrollctl.litmos")

# the fields of each `/users` row a policy may select on (users-all-paginated.yml), in the vendor's spelling
LISTED_FIELDS = ("UserName", "FirstName", "LastName", "Email", "AccessLevel")
# the profile fields of `GET /users/{id}` a policy may select on (find-user.yml), in the vendor's spelling
PROFILE_FIELDS = (
    *("JobTitle", "CompanyName", "Street1", "Street2", "City", "State", "PostalCode", "Country"),
    *("ExternalEmployeeId", "ManagerId", "Culture", "TimeZone", "AccessLevel"),
    *(f"CustomField{n}" for n in range(1, 11)),
)
USER_FIELDS = tuple(dict.fromkeys(LISTED_FIELDS + PROFILE_FIELDS))  # every field `where` may name
LISTED_KEYS = frozenset(field_key(name) for name in LISTED_FIELDS)
JOINED_FIELD = "CreatedDate"
CALL = "GET /users/{id}"


def listed_fields(record: Record) -> tuple[tuple[str, str], ...]:
    """The `where` fields a `/users` row carries."""
    return tuple((name, text) for name in LISTED_FIELDS if (text := as_text(record.get(name))))


def profile_calls(directory: Directory, need: ProfileNeed) -> frozenset[str]:
    """Ids of the users whose `GET /users/{id}` the need requires: none when the listing has every field."""
    if not need.join_dates and need.field_keys <= LISTED_KEYS:
        return frozenset()
    users = frozenset(u.id for u in directory.users)
    return users if need.user_ids is None else users & need.user_ids


def read_profiles(api: LitmosApi, directory: Directory, need: ProfileNeed) -> Directory:
    """The directory with the profile fields and join date (`CreatedDate`) of the users `need` names."""
    wanted = profile_calls(directory, need)
    others = len(directory.users) - len(wanted)
    log.info("%s: %s", api.provider, describe(len(wanted), others).replace("reading", "starts reading", 1))
    progress = Progress(api, "user profiles read", len(wanted))
    users: list[User] = []
    done = 0
    for user in directory.users:
        if user.id in wanted:
            user = _with_profile(user, _profile(api, user.id))
            done += 1
            progress.step(done)
        users.append(user)
    log.info("%s: %s", api.provider, describe(done, others).replace("reading", "read", 1))
    return replace(directory, users=tuple(users), user_fields=USER_FIELDS, joined_from=JOINED_FIELD)


def describe(calls: int, others: int) -> str:
    """The price of the profile read, for `-v`: `reading 40 user profiles: 40 calls (GET /users/{id}) ...`."""
    if not calls:
        return "reading user profiles: 0 calls (the fields policies select on are in the /users listing)"
    skipped = (
        f"; {others:,} other users skipped (not selected by the policies' other targets)" if others else ""
    )
    return f"reading {calls:,} user profiles: {calls:,} calls ({CALL}, one per user){skipped}"


def _profile(api: LitmosApi, user_id: str) -> Record:
    response = api.send("GET", f"/users/{segment(user_id)}", call=CALL)
    api.raise_for_status(response, call=CALL)  # the `Detail` of an error, not its raw body
    body = response.content.lstrip()
    if body[:1] == b"{":
        try:
            data = json.loads(body)
        except ValueError as error:
            raise api.vendor.error(ProtocolError, f"Litmos sent malformed JSON: {error}", call=CALL) from None
        if isinstance(data, dict):
            return data
    elif body[:1] == b"<":
        root = parse_xml(body)
        if local_name(root) == "User":
            return xml_record(root)
    raise api.vendor.error(
        ProtocolError, "Litmos answered a user read without a <User> / JSON object", call=CALL
    )


def _with_profile(user: User, record: Record) -> User:
    listed = dict(user.fields)
    profile = {name: text for name in PROFILE_FIELDS if (text := as_text(record.get(name)))}
    fields = tuple((name, value) for name in USER_FIELDS if (value := profile.get(name) or listed.get(name)))
    return replace(user, fields=fields, joined=as_datetime(record.get(JOINED_FIELD)))

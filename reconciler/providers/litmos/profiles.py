"""Litmos user profiles for `targets.where` and `joined_within`: one `GET /users/{id}` per user.

The `/users` list carries only `Id, UserName, FirstName, LastName, Active, Email, AccessLevel` (recorded
traffic, vendor-docs/litmos-recorded/users-all-paginated.yml); the profile fields and `CreatedDate` come
only with the single-user read (find-user.yml). So this read costs one call per user and is made only when
a policy of the provider narrows its targets by them. Litmos has no hire date: `joined` is `CreatedDate`
(when the account was created).
"""

from __future__ import annotations

import json
from dataclasses import replace

from reconciler.core.model import Directory, User
from reconciler.errors import ProtocolError
from reconciler.providers.litmos.api import LitmosApi, Progress, segment
from reconciler.providers.litmos.body import Record, xml_record
from reconciler.providers.litmos.parse import as_datetime, as_text
from reconciler.transport.safexml import local_name, parse_xml

# the profile fields of `GET /users/{id}` a policy may select on (find-user.yml), in the vendor's spelling
PROFILE_FIELDS = (
    *("JobTitle", "CompanyName", "Street1", "Street2", "City", "State", "PostalCode", "Country"),
    *("ExternalEmployeeId", "ManagerId", "Culture", "TimeZone", "AccessLevel"),
    *(f"CustomField{n}" for n in range(1, 11)),
)
JOINED_FIELD = "CreatedDate"
CALL = "GET /users/{id}"


def read_profiles(api: LitmosApi, directory: Directory) -> Directory:
    """The directory with every user's profile fields and join date (`CreatedDate`) filled in."""
    progress = Progress(api, "user profiles read", len(directory.users))
    users: list[User] = []
    for done, user in enumerate(directory.users, start=1):
        users.append(_with_profile(user, _profile(api, user.id)))
        progress.step(done)
    return replace(directory, users=tuple(users), user_fields=PROFILE_FIELDS, joined_from=JOINED_FIELD)


def _profile(api: LitmosApi, user_id: str) -> Record:
    response = api.send("GET", f"/users/{segment(user_id)}", call=CALL)
    api.vendor.raise_for_status(response, call=CALL)
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
    fields = tuple((name, text) for name in PROFILE_FIELDS if (text := as_text(record.get(name))))
    return replace(user, fields=fields, joined=as_datetime(record.get(JOINED_FIELD)))

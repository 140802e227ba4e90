"""What every iSpring method handler gets: the store, the clock, the caller's scope, the parsed call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from reconciler.sandbox.ispring.soap import (
    PERMISSION_DENIED,
    WRONG_PARAMETERS,
    SoapCall,
    SoapFault,
    decode_page_token,
    encode_page_token,
    parse_int,
    text,
)
from reconciler.sandbox.store.database import Store
from reconciler.sandbox.store.records import UserQuery

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000  # inferred: the vendor documents only the default; larger requests are capped


@dataclass
class Context:
    """One SOAP call being answered. `scope` is None for account administrators, else department uuids."""

    store: Store
    now: dt.datetime
    call: SoapCall
    scope: frozenset[str] | None = None
    page_token_ttl: dt.timedelta | None = None  # fault switch: page tokens older than this are refused
    notes: list[str] = field(default_factory=list)  # goes to the request log's detail

    def in_scope(self, department_uuid: str | None) -> bool:
        """Whether the caller may see or change users of this department."""
        return self.scope is None or (department_uuid is not None and department_uuid in self.scope)

    def require_scope(self, department_uuids: set[str | None]) -> None:
        """`Permission denied` unless every department is in the caller's scope."""
        outside = [d for d in department_uuids if not self.in_scope(d)]
        if outside:
            raise SoapFault(PERMISSION_DENIED, f"{len(outside)} department(s) outside the caller's scope")

    def require_users_in_scope(self, user_uuids: list[str] | None) -> None:
        """`Permission denied` when a department administrator names a user outside their departments.

        Unknown ids are left to the query (they match nothing); the pages document this fault for
        "results of users belonging to a department they don't manage".
        """
        if self.scope is None or not user_uuids:
            return
        found = self.store.users(UserQuery(uuids=frozenset(user_uuids)))
        self.require_scope({user.department_uuid for user in found})

    def page_size(self) -> int:
        """`pageSize` (default 1000), at least 1."""
        value = text(self.call, "pageSize")
        return min(MAX_PAGE_SIZE, parse_int(value, "pageSize", 1)) if value else DEFAULT_PAGE_SIZE

    def page_start(self, kind: str) -> int:
        """Where `pageToken` says to continue (0 without a token); expired tokens are `Wrong parameters`."""
        token = text(self.call, "pageToken")
        if token is None:
            return 0
        position, issued = decode_page_token(token, kind)
        if self.page_token_ttl is not None and self.now - issued > self.page_token_ttl:
            # inferred: the vendor does not document token expiry; an invalid parameter is the closest fault
            raise SoapFault(WRONG_PARAMETERS, "pageToken expired")
        return position

    def next_token(self, kind: str, position: int) -> str:
        """A token to continue after `position`."""
        return encode_page_token(kind, position, self.now)

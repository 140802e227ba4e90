"""What the provider needs from one iSpring API: `rest_wire.RestWire` (REST v3) or `soap_wire.SoapWire`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from reconciler.core.model import Department, Group, Item, User
from reconciler.core.plan import Action
from reconciler.providers.base import Outcome
from reconciler.providers.ispring.auth import TokenSource
from reconciler.providers.ispring.batch import Rectangle
from reconciler.providers.ispring.records import EnrollmentRecord, ResultRecord
from reconciler.transport.http import VendorClient


class Wire(Protocol):
    """The vendor calls behind the provider's reads and writes, over one API."""

    name: str
    http: VendorClient
    tokens: TokenSource
    ids_per_filter: int

    def departments(self) -> list[Department]: ...
    def groups(self) -> list[Group]: ...
    def users(self) -> list[User]: ...
    def items(self) -> list[Item]: ...
    def enrollments(
        self, items: tuple[str, ...], users: tuple[str, ...] | None
    ) -> list[EnrollmentRecord]: ...
    def results(self, items: tuple[str, ...], users: tuple[str, ...] | None) -> list[ResultRecord]: ...
    def enroll(self, rect: Rectangle) -> list[Outcome]: ...
    def change(self, action: Action, enrollment_id: str) -> list[Outcome]: ...
    def reenroll(self, action: Action, enrollment_id: str) -> list[Outcome]: ...
    def remove(self, removals: Sequence[tuple[Action, str]]) -> list[Outcome]: ...

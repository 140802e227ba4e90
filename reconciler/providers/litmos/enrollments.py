"""Reading the enrollments policies manage, the cheaper of Litmos's two ways, priced from what is known.

`POST /users/courses` reads 25 users a call, every item of theirs: ⌈users / 25⌉ calls, known before reading.
An item's roster (`/courses/{id}/users`, `/learningpaths/{id}/users`) lists everyone assigned it in the whole
account, ⌊assigned / 1000⌋ + 1 calls; Litmos reports no roster size, so that price is learnt only by
reading. The reader therefore:

1. prices each roster at the pages a previous read of this provider saw, or at its least (one call);
2. reads per user straight away if the rosters cost more even so;
3. otherwise reads rosters and, after every page, prices the rosters still unread (at the average rows of
   those read so far) and switches to per-user reads once they are expected to cost more than
   `SWITCH_MARGIN` × all the per-user reads, or once the rosters have cost as much as all the per-user
   reads and are not done (so an unlucky guess costs at most about twice the cheaper way). Calls already
   made are sunk: only what is still to read is compared.

Both ways give the same enrollments. Apply's staleness and confirmation reads go through the same code, and
the provider remembers roster sizes between reads, so the confirmation read is priced exactly.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from enum import StrEnum

from reconciler.core.due import DueFact
from reconciler.core.model import Directory, Enrollment, Item
from reconciler.providers.litmos.api import PAGE_LIMIT, LitmosApi, Progress, chunked, collection_of, segment
from reconciler.providers.litmos.body import BULK_RESULTS, USERS, Record
from reconciler.providers.litmos.parse import (
    parse_bulk_dues,
    parse_bulk_results,
    parse_roster_in_scope,
)

log = logging.getLogger("enrollctl.litmos")

BULK_READ_USERS = 25  # documented maximum of POST /users/courses: "no greater than a list of 25 users"
# rosters still unread must be expected to cost this many times all per-user reads before we switch:
# a roster or two is a small sample, and one everyone-roster among small ones inflates the average
SWITCH_MARGIN = 1.5

RosterPages = MutableMapping[str, int]  # item id → calls its roster took when last read


class ReadStrategy(StrEnum):
    BULK = "bulk"  # POST /users/courses, 25 users a call
    ROSTERS = "rosters"  # GET /courses/{id}/users and /learningpaths/{id}/users, per managed item


@dataclass(frozen=True)
class ReadPlan:
    """How enrollments were (or would be) read and what each way costs in calls.

    `roster_calls` is the rosters' price as known: before reading, the least they can cost (or what they
    cost last time); after reading them, what they cost. `roster_calls_spent` counts roster calls made
    before switching to per-user reads (0 when no switch happened).
    """

    strategy: ReadStrategy
    bulk_calls: int
    roster_calls: int
    roster_calls_spent: int = 0

    @property
    def calls(self) -> int:
        if self.strategy is ReadStrategy.BULK:
            return self.bulk_calls + self.roster_calls_spent
        return self.roster_calls

    def describe(self) -> str:
        """One line for `--verbose`: the choice, its price and the other way's price."""
        way = "per user (POST /users/courses)" if self.strategy is ReadStrategy.BULK else "per item (rosters)"
        switched = (
            f", after {self.roster_calls_spent} roster calls showed rosters dearer"
            if self.roster_calls_spent
            else ""
        )
        return (
            f"reading enrollments {way}: {self.calls} calls{switched} "
            f"(per user: {self.bulk_calls}, per item: {self.roster_calls})"
        )


def plan_read(
    users: int,
    items: Iterable[str] | int,
    directory_users: int = 0,
    forced: ReadStrategy | None = None,
    known: Mapping[str, int] | None = None,
) -> ReadPlan:
    """The way to start reading `items` for `users` users, from what is known before reading.

    A roster costs at least one call, or the calls `known` says it took last time. Ties go to rosters,
    which carry only the managed items. `directory_users` is accepted for callers of the old estimate.
    """
    ids = [str(n) for n in range(items)] if isinstance(items, int) else list(items)
    bulk = math.ceil(users / BULK_READ_USERS) if ids else 0
    rosters = sum((known or {}).get(i, 1) for i in ids) if users else 0
    strategy = forced or (ReadStrategy.ROSTERS if rosters <= bulk else ReadStrategy.BULK)
    return ReadPlan(strategy, bulk, rosters)


def read_bulk(
    api: LitmosApi, user_ids: list[str], items: Mapping[str, Item], dues: list[DueFact] | None = None
) -> list[Enrollment]:
    """Enrollments in `items` of `user_ids`, 25 users per `POST /users/courses` (never more).

    `dues`, when given, collects the same rows' due facts (overdue flags only: this read has no due dates).
    """
    found: list[Enrollment] = []
    progress = Progress(api, "users' enrollments read", len(user_ids))
    done = 0
    for chunk in chunked(user_ids, BULK_READ_USERS):
        wanted = set(chunk)
        body = [{"Id": user_id} for user_id in chunk]
        rows = api.records(
            "POST", "/users/courses", call="POST /users/courses", shape=BULK_RESULTS, body=body
        )
        found.extend(e for e in parse_bulk_results(rows) if e.item_id in items and e.user_id in wanted)
        if dues is not None:
            dues.extend(f for f in parse_bulk_dues(rows) if f.item_id in items and f.user_id in wanted)
        done += len(chunk)
        progress.step(done)
    # the bulk answer flags learning paths itself; the catalog's kind is the authority
    return [replace(e, item_kind=items[e.item_id].kind) for e in found]


class RosterReader:
    """Reads rosters one page at a time; gives up as soon as the rest would cost more than per-user reads.

    `bulk_calls` is the price of reading every user in scope; None never gives up (a forced strategy).
    """

    def __init__(self, api: LitmosApi, items: list[Item], bulk_calls: int | None, known: RosterPages) -> None:
        self.api, self.items, self.bulk_calls, self.known = api, items, bulk_calls, known
        self.spent = 0  # roster calls made
        self.rows = 0  # rows of the rosters read to the end
        self.finished = 0  # rosters read to the end

    def read(self, user_ids: set[str], dues: list[DueFact] | None) -> list[Enrollment] | None:
        """Enrollments of `user_ids` in the items; None when it gave up for per-user reads."""
        found: list[Enrollment] = []
        progress = Progress(self.api, "item rosters read", len(self.items))
        for position, item in enumerate(self.items):
            if position and self._dearer(self.items[position:], part_read=0):
                return None
            rows = self._roster(item, unread=self.items[position + 1 :])
            if rows is None:
                return None
            enrollments, facts = parse_roster_in_scope(rows, item, user_ids)
            found.extend(enrollments)
            if dues is not None:
                dues.extend(facts)
            progress.step(position + 1)
        return found

    def _roster(self, item: Item, unread: list[Item]) -> list[Record] | None:
        kind = collection_of(item.kind)
        path, call = f"/{kind}/{segment(item.id)}/users", f"GET /{kind}/{{id}}/users"
        rows: list[Record] = []
        calls = 0
        pages = self.api.page_by_page(path, call=call, shape=USERS)
        for page, more in pages:
            calls += 1
            self.spent += 1
            rows.extend(page)
            if more and self._dearer(unread, part_read=calls):
                pages.close()
                self.known[item.id] = calls + 1  # at least: the next read prices it no lower
                return None
        self.known[item.id] = calls
        self.rows += len(rows)
        self.finished += 1
        return rows

    def _dearer(self, unread: list[Item], part_read: int) -> bool:
        """Whether the `unread` rosters, and the rest of one `part_read` pages in, cost too much."""
        if self.bulk_calls is None:
            return False
        average = int(self.rows / self.finished) // PAGE_LIMIT + 1 if self.finished else 1
        expected = sum(self.known.get(i.id, average) for i in unread)
        if part_read:  # at least one more page, or as many as an average roster has left
            expected += max(1, average - part_read)
        if expected > SWITCH_MARGIN * self.bulk_calls:
            return True
        # the rosters have cost as much as reading every user, and are not done: stop losing
        return self.spent >= self.bulk_calls


def read_enrollments(
    api: LitmosApi,
    directory: Directory,
    item_ids: frozenset[str],
    user_ids: frozenset[str] | None,
    forced: ReadStrategy | None = None,
    dues: list[DueFact] | None = None,
    known: RosterPages | None = None,
) -> tuple[ReadPlan, tuple[Enrollment, ...]]:
    """Enrollments in the managed items (of `user_ids`, or of every known user), the cheaper way.

    `dues`, when given, collects the due facts the chosen read carries (see `parse_due`); `known` holds
    roster sizes learnt by earlier reads and receives the ones this read learns.
    """
    learnt: RosterPages = {} if known is None else known
    items = {i.id: i for i in directory.items if i.id in item_ids}
    scope = sorted(user_ids if user_ids is not None else {u.id for u in directory.users})
    plan = plan_read(len(scope), sorted(items), forced=forced, known=learnt)
    log.info("%s: %s", api.provider, plan.describe().replace("reading", "starts reading", 1))
    if not items or not scope:
        return plan, ()
    found: list[Enrollment] | None = None
    if plan.strategy is ReadStrategy.ROSTERS:
        ordered = sorted(items.values(), key=lambda i: (i.kind, i.id))
        reader = RosterReader(api, ordered, None if forced else plan.bulk_calls, learnt)
        roster_dues: list[DueFact] = []
        found = reader.read(set(scope), roster_dues)
        if found is None:
            priced = sum(learnt.get(i, 1) for i in items)  # the rosters' least price, now better known
            plan = replace(
                plan, strategy=ReadStrategy.BULK, roster_calls=priced, roster_calls_spent=reader.spent
            )
        else:
            plan = replace(plan, roster_calls=reader.spent)
            if dues is not None:
                dues.extend(roster_dues)
    if found is None:
        found = read_bulk(api, scope, items, dues)
    log.info("%s: %s", api.provider, plan.describe().replace("reading", "read", 1))
    unique = {e.key: e for e in found}
    return plan, tuple(unique[k] for k in sorted(unique))

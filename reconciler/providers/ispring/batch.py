"""Grouping plan actions into iSpring calls, and terms into SOAP parameters (pure, no I/O).

`EnrollLearnersInCourses` enrolls every listed learner in every listed course, so one call can only cover
a *rectangle* of wanted (learner, course) pairs with identical terms: sending L1, L2 × C1, C2 when only
(L1, C1) and (L2, C2) are wanted would enroll L1 in C2 too. Adds are therefore grouped by terms, then into
rectangles, and split only where a rectangle exceeds the configured call size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from reconciler.core.model import DueKind, Enrollment, Terms
from reconciler.core.plan import Action, ActionKind
from reconciler.providers.base import WriteBatch
from reconciler.providers.ispring.soap import Ids, Params

DUE_DATE_TYPES = {
    DueKind.DEFAULT: "default",
    DueKind.UNLIMITED: "unlimited",
    DueKind.DATE: "due_date",
    DueKind.WITHIN: "due_period",
}
_USER_ID = attrgetter("user_id")
_ITEM_ID = attrgetter("item_id")


@dataclass(frozen=True)
class Rectangle:
    """Learners × items that all want the same terms: one EnrollLearnersInCourses call."""

    learners: tuple[str, ...]
    items: tuple[str, ...]
    terms: Terms
    actions: tuple[Action, ...]


def plan_batches(actions: Sequence[Action], *, max_learners: int, max_items: int) -> list[WriteBatch]:
    """Adds as rectangles per terms, then one batch per update, re-enrollment and removal, each kind
    ordered by item id, then user id."""
    by_kind: dict[ActionKind, list[Action]] = {kind: [] for kind in ActionKind}
    for action in actions:
        by_kind[action.kind].append(action)
    batches = [
        WriteBatch(ActionKind.ADD, r.actions)
        for r in rectangles(by_kind[ActionKind.ADD], max_learners=max_learners, max_items=max_items)
    ]
    for kind in (ActionKind.UPDATE, ActionKind.REENROLL, ActionKind.REMOVE):
        batches.extend(WriteBatch(kind, (a,)) for a in _by_item_then_user(by_kind[kind]))
    return batches


def _by_item_then_user(actions: list[Action]) -> list[Action]:
    """`sorted(actions, key=lambda a: (a.item_id, a.user_id))`, as two stable sorts on one string each:
    comparing plain strings is several times cheaper than comparing tuples (100,000s of removals)."""
    return sorted(sorted(actions, key=_USER_ID), key=_ITEM_ID)


def rectangles(adds: Sequence[Action], *, max_learners: int, max_items: int) -> list[Rectangle]:
    """Exact covers of the wanted pairs, per terms, in as few calls as the two simple groupings allow."""
    by_terms = _by_terms(adds)
    result: list[Rectangle] = []
    for terms in sorted(by_terms, key=_terms_order):
        chosen, wanted = _cover(by_terms[terms], max_learners, max_items)
        result.extend(
            Rectangle(learners, items, terms, tuple(a for u in learners for i in items for a in wanted[u][i]))
            for learners, items in chosen
        )
    return result


def rectangle_count(adds: Sequence[Action], *, max_learners: int, max_items: int) -> int:
    """`len(rectangles(adds, ...))`, without making the rectangles (the plan's estimate of calls)."""
    return sum(len(_cover(group, max_learners, max_items)[0]) for group in _by_terms(adds).values())


def _by_terms(adds: Sequence[Action]) -> dict[Terms, list[Action]]:
    by_terms: dict[Terms, list[Action]] = {}
    # a plan's adds share a few terms objects: find each one's group once, by identity (the adds hold the
    # objects, so no id is reused), rather than hashing equal terms field by field for every add
    group_of: dict[int, list[Action]] = {}
    for action in adds:
        group = group_of.get(id(action.terms))
        if group is None:
            group = by_terms.setdefault(action.terms or Terms(), [])
            group_of[id(action.terms)] = group
        group.append(action)
    return by_terms


Cover = list[tuple[tuple[str, ...], tuple[str, ...]]]  # (learners, items) per call


def _cover(
    actions: list[Action], max_learners: int, max_items: int
) -> tuple[Cover, dict[str, dict[str, list[Action]]]]:
    """The calls covering these adds of one terms, and the adds by learner and item."""
    wanted: dict[str, dict[str, list[Action]]] = {}  # learner -> item -> its adds (one, bar repeats)
    for action in actions:
        items = wanted.get(action.user_id)
        if items is None:
            items = wanted[action.user_id] = {}
        same = items.get(action.item_id)
        if same is None:
            items[action.item_id] = [action]
        else:
            same.append(action)
    learners: dict[str, list[str]] = defaultdict(list)  # item -> its learners, each once
    for learner, items in wanted.items():
        for item in items:
            learners[item].append(learner)
    # group learners by their set of items, or items by their set of learners; keep the smaller cover
    by_learner = _group(wanted, max_learners, max_items)
    by_item = [(ls, its) for its, ls in _group(learners, max_items, max_learners)]
    return (by_item if len(by_item) < len(by_learner) else by_learner), wanted


def _group(
    columns: Mapping[str, Iterable[str]], max_rows: int, max_cols: int
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Rows with identical column sets form one rectangle, split into chunks of at most max × max.
    `columns` gives each row's columns, each once."""
    rows_by_columns: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for row, cols in columns.items():
        rows_by_columns[tuple(sorted(cols))].append(row)
    out = []
    for col_set in sorted(rows_by_columns):  # distinct keys: the rows never decide the order
        for row_chunk in _chunks(sorted(rows_by_columns[col_set]), max_rows):
            for col_chunk in _chunks(col_set, max_cols):
                out.append((row_chunk, col_chunk))
    return out


def _chunks(values: Sequence[str], size: int) -> list[tuple[str, ...]]:
    size = max(1, size)
    return [tuple(values[i : i + size]) for i in range(0, len(values), size)]


def _terms_order(terms: Terms) -> tuple[str, str, bool, str]:
    return (terms.due.kind.value, str(terms.due), terms.lock_after_due, str(terms.access or ""))


def due_params(terms: Terms) -> Params:
    """`dueDateType` and its `dueDate` (a date) or `duePeriod` (hours)."""
    due = terms.due
    return [
        ("dueDateType", DUE_DATE_TYPES[due.kind]),
        ("dueDate", due.date if due.kind is DueKind.DATE else None),
        ("duePeriod", due.hours if due.kind is DueKind.WITHIN else None),
    ]


def access_time(access: dt.date | None) -> dt.datetime | None:
    """A manifest access date as the start of that day (the samples send `YYYY-MM-DD HH:MM:SS`)."""
    # inferred: the account's time zone is not exposed; midnight of the date in UTC
    return dt.datetime.combine(access, dt.time()) if access is not None else None


def enroll_params(rectangle: Rectangle) -> Params:
    """EnrollLearnersInCourses parameters, in the order of the vendor sample."""
    return [
        ("courseIds", Ids(rectangle.items)),
        ("learnerIds", Ids(rectangle.learners)),
        ("accessDate", access_time(rectangle.terms.access)),
        *due_params(rectangle.terms),
        ("lockAfterDueDate", rectangle.terms.lock_after_due),
    ]


def change_params(enrollment_id: str, terms: Terms, before: Enrollment | None) -> Params:
    """ChangeEnrollment parameters: a full replace, so the access date is re-sent even when unchanged."""
    access: dt.datetime | None = access_time(terms.access)
    if access is None and before is not None and before.access is not None:
        access = before.access.astimezone(dt.UTC).replace(tzinfo=None)
    return [
        ("enrollmentId", enrollment_id),
        ("accessDate", access),
        *due_params(terms),
        ("lockAfterDueDate", terms.lock_after_due),
    ]

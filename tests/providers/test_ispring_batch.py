"""Grouping plan actions into iSpring calls: exact learner × course rectangles, split only at the limits."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.model import Due, DueKind, Enrollment, ItemKind, Terms
from reconciler.core.plan import Action, ActionKind
from reconciler.providers.ispring import write
from reconciler.providers.ispring.batch import change_params, enroll_params, plan_batches, rectangles
from reconciler.providers.ispring.soap import Ids

IN_30_DAYS = Terms(due=Due(DueKind.WITHIN, hours=720))
BY_NEW_YEAR = Terms(due=Due(DueKind.DATE, date=dt.date(2027, 1, 1)), lock_after_due=True)


def add(user: str, item: str, terms: Terms = IN_30_DAYS) -> Action:
    return Action(ActionKind.ADD, user, user, item, ItemKind.COURSE, item, terms=terms)


def existing(user: str, item: str, **kwargs: object) -> Enrollment:
    return Enrollment(user, item, id=f"e-{user}-{item}", **kwargs)  # type: ignore[arg-type]


def test_learners_wanting_the_same_courses_share_one_call() -> None:
    adds = [add(u, c) for u in ("u1", "u2", "u3") for c in ("c1", "c2")]
    (batch,) = plan_batches(adds, max_learners=1000, max_items=100)
    assert batch.kind is ActionKind.ADD and len(batch.actions) == 6 and batch.calls == 1


def test_a_diagonal_is_never_sent_as_a_cross_product() -> None:
    # one call for u1,u2 × c1,c2 would also enroll u1 in c2 and u2 in c1
    rects = rectangles([add("u1", "c1"), add("u2", "c2")], max_learners=1000, max_items=100)
    assert sorted((r.learners, r.items) for r in rects) == [(("u1",), ("c1",)), (("u2",), ("c2",))]


def test_different_terms_never_share_a_call() -> None:
    rects = rectangles([add("u1", "c1"), add("u2", "c1", BY_NEW_YEAR)], max_learners=1000, max_items=100)
    assert len(rects) == 2 and {r.terms for r in rects} == {IN_30_DAYS, BY_NEW_YEAR}


def test_the_smaller_of_the_two_groupings_is_chosen() -> None:
    # every learner has a different course set, but every course has the same learner set... almost:
    # u1:{c1,c2,c3}, u2:{c1,c2,c3} u3:{c1} → by learner: 2 calls; by course: c1:{u1,u2,u3}, c2,c3:{u1,u2} → 2
    adds = [add(u, c) for u in ("u1", "u2") for c in ("c1", "c2", "c3")] + [add("u3", "c1")]
    assert len(rectangles(adds, max_learners=1000, max_items=100)) == 2
    # many learners each with one distinct course, all also in c0: by course is 1 + n, by learner n
    adds = [a for i in range(5) for a in (add(f"u{i}", "c0"), add(f"u{i}", f"c{i + 1}"))]
    assert len(rectangles(adds, max_learners=1000, max_items=100)) == 5


def test_rectangles_are_split_only_at_the_configured_size() -> None:
    adds = [add(f"u{i:02}", c) for i in range(25) for c in ("c1", "c2", "c3")]
    rects = rectangles(adds, max_learners=10, max_items=2)
    assert len(rects) == 3 * 2
    assert max(len(r.learners) for r in rects) == 10 and max(len(r.items) for r in rects) == 2


pairs = st.sets(
    st.tuples(st.sampled_from([f"u{i}" for i in range(8)]), st.sampled_from([f"c{i}" for i in range(5)]))
)


@given(
    wanted=pairs,
    terms_of=st.lists(st.sampled_from([IN_30_DAYS, BY_NEW_YEAR, Terms()]), min_size=40, max_size=40),
    max_learners=st.integers(1, 5),
    max_items=st.integers(1, 5),
)
def test_calls_cover_exactly_the_wanted_pairs_with_their_terms(
    wanted: set[tuple[str, str]], terms_of: list[Terms], max_learners: int, max_items: int
) -> None:
    terms = {pair: terms_of[i] for i, pair in enumerate(sorted(wanted))}
    adds = [add(u, c, terms[(u, c)]) for u, c in sorted(wanted)]
    rects = rectangles(adds, max_learners=max_learners, max_items=max_items)
    sent = [(u, c, r.terms) for r in rects for u in r.learners for c in r.items]
    assert sorted(sent, key=str) == sorted(((u, c, terms[(u, c)]) for u, c in wanted), key=str)
    assert all(len(r.learners) <= max_learners and len(r.items) <= max_items for r in rects)
    assert sorted(a.id for r in rects for a in r.actions) == sorted(a.id for a in adds)


def update(user: str, item: str) -> Action:
    return Action(
        ActionKind.UPDATE,
        user,
        user,
        item,
        ItemKind.COURSE,
        item,
        terms=IN_30_DAYS,
        before=existing(user, item),
    )


def remove(user: str, item: str) -> Action:
    return Action(ActionKind.REMOVE, user, user, item, ItemKind.COURSE, item, before=existing(user, item))


def test_updates_and_removals_are_one_call_each_after_the_adds() -> None:
    actions = [
        remove("u2", "c1"),
        update("u1", "c2"),
        remove("u1", "c1"),
        update("u1", "c1"),
        add("u3", "c1"),
    ]
    batches = plan_batches(actions, max_learners=10, max_items=10)
    assert [b.kind for b in batches] == [ActionKind.ADD] + [ActionKind.UPDATE] * 2 + [ActionKind.REMOVE] * 2
    changes = batches[1:]
    # one call each: a batch per action, costing one vendor call, in (item, user) order
    assert [len(b.actions) for b in changes] == [1, 1, 1, 1] and [b.calls for b in changes] == [1, 1, 1, 1]
    assert [(b.actions[0].item_id, b.actions[0].user_id) for b in changes] == [
        ("c1", "u1"),
        ("c2", "u1"),
        ("c1", "u1"),
        ("c1", "u2"),
    ]


def test_terms_map_to_due_date_types() -> None:
    (rect,) = rectangles([add("u1", "c1", BY_NEW_YEAR)], max_learners=10, max_items=10)
    params = dict(enroll_params(rect))
    assert params["courseIds"] == Ids(("c1",)) and params["learnerIds"] == Ids(("u1",))
    assert (params["dueDateType"], params["dueDate"], params["duePeriod"]) == (
        "due_date",
        dt.date(2027, 1, 1),
        None,
    )
    assert params["lockAfterDueDate"] is True and params["accessDate"] is None
    (rect,) = rectangles([add("u1", "c1", IN_30_DAYS)], max_learners=10, max_items=10)
    assert (dict(enroll_params(rect))["dueDateType"], dict(enroll_params(rect))["duePeriod"]) == (
        "due_period",
        720,
    )
    for kind, wire in ((DueKind.DEFAULT, "default"), (DueKind.UNLIMITED, "unlimited")):
        (rect,) = rectangles([add("u1", "c1", Terms(due=Due(kind)))], max_learners=10, max_items=10)
        assert dict(enroll_params(rect))["dueDateType"] == wire


def test_a_change_re_sends_the_current_access_date_because_it_is_a_full_replace() -> None:
    before = existing("u1", "c1", access=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
    params = dict(change_params("e-1", IN_30_DAYS, before))
    assert params["enrollmentId"] == "e-1" and params["accessDate"] == dt.datetime(2026, 3, 2, 9, 30)
    assert params["dueDateType"] == "due_period"
    with_access = dict(change_params("e-1", Terms(access=dt.date(2026, 5, 1)), before))
    assert with_access["accessDate"] == dt.datetime(2026, 5, 1, 0, 0)


def plain_batches(
    actions: list[Action], max_learners: int, max_items: int
) -> list[tuple[ActionKind, list[str]]]:
    """What `plan_batches` means, written plainly and slowly: per terms (compared by value), learners
    grouped by their item sets or items by their learner sets, whichever makes fewer calls; then one call
    per update, re-enrollment and removal in (item, user) order."""

    def group(pairs: set[tuple[str, str]], rows: int, cols: int) -> list[tuple[tuple[str, ...], ...]]:
        columns: dict[str, set[str]] = {}
        for row, col in pairs:
            columns.setdefault(row, set()).add(col)
        by_set: dict[tuple[str, ...], list[str]] = {}
        for row, found in columns.items():
            by_set.setdefault(tuple(sorted(found)), []).append(row)
        return [
            (tuple(rs[i : i + rows]), col_set[j : j + cols])
            for col_set, rs in sorted((k, sorted(v)) for k, v in by_set.items())
            for i in range(0, len(rs), rows)
            for j in range(0, len(col_set), cols)
        ]

    def order(terms: Terms) -> tuple[str, str, bool, str]:
        return (terms.due.kind.value, str(terms.due), terms.lock_after_due, str(terms.access or ""))

    out: list[tuple[ActionKind, list[str]]] = []
    adds = [a for a in actions if a.kind is ActionKind.ADD]
    for terms in sorted({a.terms or Terms() for a in adds}, key=order):
        mine = [a for a in adds if (a.terms or Terms()) == terms]
        pairs = {(a.user_id, a.item_id) for a in mine}
        by_learner = group(pairs, max_learners, max_items)
        by_item = [(ls, its) for its, ls in group({(i, u) for u, i in pairs}, max_items, max_learners)]
        for learners, items in by_item if len(by_item) < len(by_learner) else by_learner:
            covered = [
                a.id for u in learners for i in items for a in mine if (a.user_id, a.item_id) == (u, i)
            ]
            out.append((ActionKind.ADD, covered))
    for kind in (ActionKind.UPDATE, ActionKind.REENROLL, ActionKind.REMOVE):
        ordered = sorted((a for a in actions if a.kind is kind), key=lambda a: (a.item_id, a.user_id))
        out.extend((kind, [a.id]) for a in ordered)
    return out


def action_of(kind: ActionKind, user: str, item: str, due_days: int | None) -> Action:
    # a fresh Terms object per action: equal terms held in distinct objects must still share calls
    terms = None if due_days is None else Terms(due=Due(DueKind.WITHIN, hours=24 * due_days))
    before = None if kind is ActionKind.ADD else existing(user, item)
    return Action(kind, user, user, item, ItemKind.COURSE, item, terms=terms, before=before)


# (kind, learner, course, due in days or None) of a plan's actions
WANTED = st.lists(
    st.tuples(
        st.sampled_from(list(ActionKind)),
        st.sampled_from([f"u{i}" for i in range(7)]),
        st.sampled_from([f"c{i}" for i in range(5)]),
        st.sampled_from([None, 30, 60]),
    ),
    max_size=60,
)


@given(
    wanted=WANTED,
    max_learners=st.integers(1, 4),
    max_items=st.integers(1, 4),
)
def test_batches_are_what_the_plain_grouping_makes(
    wanted: list[tuple[ActionKind, str, str, int | None]], max_learners: int, max_items: int
) -> None:
    actions = [action_of(*w) for w in wanted]
    batches = plan_batches(actions, max_learners=max_learners, max_items=max_items)
    assert [(b.kind, [a.id for a in b.actions]) for b in batches] == plain_batches(
        actions, max_learners, max_items
    )
    assert all(b.calls == 1 for b in batches)


@given(
    wanted=WANTED,
    max_learners=st.integers(1, 4),
    max_items=st.integers(1, 4),
    removals_per_call=st.sampled_from([1, 2, 3, 500]),
)
def test_the_plans_estimate_counts_exactly_the_calls_of_the_batches(
    wanted: list[tuple[ActionKind, str, str, int | None]],
    max_learners: int,
    max_items: int,
    removals_per_call: int,
) -> None:
    actions = [action_of(*w) for w in wanted]
    sizes = {"max_learners": max_learners, "max_items": max_items, "removals_per_call": removals_per_call}
    made = write.batches(actions, **sizes)
    assert write.write_calls(actions, **sizes) == sum(b.calls for b in made)

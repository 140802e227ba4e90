"""Litmos write calls: the plan's estimate counts exactly the calls `plan_batches` makes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.model import ItemKind
from reconciler.core.plan import Action, ActionKind
from reconciler.providers.litmos import write

KINDS = {"c": ItemKind.COURSE, "p": ItemKind.LEARNING_PATH}
wanted = st.lists(
    st.tuples(
        st.sampled_from(list(ActionKind)),
        st.sampled_from([f"u{i}" for i in range(5)]),
        st.sampled_from([f"c{i}" for i in range(4)] + [f"p{i}" for i in range(3)]),  # courses, paths
        st.booleans(),
    ),
    max_size=80,
)


@given(wanted, st.booleans(), st.sampled_from([1, 2, 3, 100]))
def test_the_plans_estimate_counts_exactly_the_calls_of_the_batches(
    rows: list[tuple[ActionKind, str, str, bool]], verify: bool, per_assign: int
) -> None:
    unique = {(k, u, i): n for k, u, i, n in rows}  # a plan's actions: one per id (kind, user, item)
    actions = [Action(k, u, u, i, KINDS[i[0]], i, notify=n) for (k, u, i), n in unique.items()]
    with pytest.MonkeyPatch.context() as patch:  # small assign calls: several per user and kind
        patch.setattr(write, "MAX_ITEMS_PER_ASSIGN", per_assign)
        made = write.plan_batches(actions, verify=verify)
        assert write.write_calls(actions, verify=verify) == sum(b.calls for b in made)


def test_adds_cost_a_call_per_user_kind_and_notification_and_removals_one_each() -> None:
    actions = [
        Action(ActionKind.ADD, "u1", "u1", "c1", ItemKind.COURSE, "c1"),
        Action(ActionKind.ADD, "u1", "u1", "c2", ItemKind.COURSE, "c2"),
        Action(ActionKind.ADD, "u1", "u1", "c3", ItemKind.COURSE, "c3", notify=False),
        Action(ActionKind.ADD, "u1", "u1", "p1", ItemKind.LEARNING_PATH, "p1"),
        Action(ActionKind.REMOVE, "u2", "u2", "c1", ItemKind.COURSE, "c1"),
        Action(ActionKind.REMOVE, "u2", "u2", "c2", ItemKind.COURSE, "c2"),
        Action(ActionKind.UPDATE, "u3", "u3", "c1", ItemKind.COURSE, "c1"),  # refused without a call
    ]
    assert write.write_calls(actions) == 3 + 2
    assert write.write_calls(actions, verify=True) == 2 * 3 + 2

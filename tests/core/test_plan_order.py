"""A plan's order of actions: the bucketed sort means the plain five-field sort, ties kept in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.model import ItemKind
from reconciler.core.plan import PLAN_ORDER, Action, ActionKind, in_plan_order

RANK = {kind: n for n, kind in enumerate(PLAN_ORDER)}

# few values each, so titles are shared by items, logins by users, and whole keys repeat
actions = st.lists(
    st.builds(
        lambda kind, user, login, item, title, notify: Action(
            kind, user, login, item, ItemKind.COURSE, title, notify=notify
        ),
        st.sampled_from(PLAN_ORDER),
        st.sampled_from(["u1", "u2", "u10", "U3"]),
        st.sampled_from(["ann", "bob", "Ann", "ann2"]),
        st.sampled_from(["c1", "c2", "c3"]),
        st.sampled_from(["Safety", "Ethics", "safety"]),
        st.booleans(),  # tells apart actions whose sort keys tie
    ),
    max_size=40,
)


@given(actions)
def test_plan_order_is_the_plain_sort_on_kind_title_login_user_and_item(planned: list[Action]) -> None:
    by_kind: dict[ActionKind, list[Action]] = {kind: [] for kind in PLAN_ORDER}
    for action in planned:
        by_kind[action.kind].append(action)
    plain = sorted(planned, key=lambda a: (RANK[a.kind], a.item_title, a.user_login, a.user_id, a.item_id))
    assert list(in_plan_order(by_kind)) == plain

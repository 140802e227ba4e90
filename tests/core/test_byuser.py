"""UserItemMap behaves as the dict keyed by (user, item) it replaces, without keeping a tuple per entry."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.core.byuser import UserItemMap

ids = st.text(alphabet="abc", max_size=2)
entries = st.lists(st.tuples(st.tuples(ids, ids), st.integers()), max_size=30)


@given(entries)
def test_reads_like_the_dict_of_the_same_entries(pairs: list[tuple[tuple[str, str], int]]) -> None:
    expected = dict(sorted(pairs))  # sorted by key, as expand builds it: users, then their items
    mapping = UserItemMap(sorted(pairs))
    assert list(mapping) == list(expected)
    assert list(mapping.items()) == list(expected.items())
    assert list(mapping.values()) == list(expected.values())
    assert len(mapping) == len(expected)
    assert mapping == expected and expected == mapping
    for key, value in expected.items():
        assert key in mapping and mapping[key] == value and mapping.get(key) == value
    assert sorted(mapping.users()) == sorted({user for user, _ in expected})


@given(entries)
def test_of_users_is_the_map_of_the_same_entries(pairs: list[tuple[tuple[str, str], int]]) -> None:
    by_user: dict[str, dict[str, int]] = {"nobody": {}}  # a user without items is no user of the map
    for (user, item), value in sorted(pairs):
        by_user.setdefault(user, {})[item] = value
    mapping = UserItemMap.of_users(by_user)
    assert list(mapping.items()) == list(UserItemMap(sorted(pairs)).items())
    assert len(mapping) == len(dict(pairs)) and "nobody" not in mapping.users()


def test_missing_keys_and_odd_keys() -> None:
    mapping = UserItemMap([(("u1", "i1"), 1)])
    with pytest.raises(KeyError):
        mapping[("u1", "i2")]
    with pytest.raises(KeyError):
        mapping[("u2", "i1")]
    assert ("u2", "i1") not in mapping and "u1" not in mapping and ("u1",) not in mapping
    assert mapping.get(("u1", "i2"), 0) == 0
    assert mapping != UserItemMap([(("u1", "i1"), 2)])


def test_holds_no_key_tuple_per_entry() -> None:
    users = [f"user{n}" for n in range(200)]
    items = [f"item{n}" for n in range(50)]
    pairs = [((u, i), n) for n, (u, i) in enumerate((u, i) for u in users for i in items)]
    as_dict = dict(pairs)
    mapping = UserItemMap(pairs)
    del pairs
    tuples_in_dict = sum(sys.getsizeof(k) for k in as_dict)
    inner = sum(sys.getsizeof(d) for d in mapping._by_user.values()) + sys.getsizeof(mapping._by_user)
    assert inner < sys.getsizeof(as_dict) + tuples_in_dict / 2

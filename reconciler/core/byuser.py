"""A mapping keyed by (user id, item id) that holds no key tuple per entry (issue 16: a lean plan).

The desired state of a million enrollments as a dict keyed by `(user_id, item_id)` keeps a million tuples
(about 55 MB) that say nothing the values do not already say. `UserItemMap` keeps one dict of items per
user instead, the ids being strings the directory already holds; lookups, iteration order (users in the
order given, then their items) and equality are a dict's. Tuples are made only while iterating keys.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, Mapping, ValuesView
from typing import TypeVar

V = TypeVar("V")
Key = tuple[str, str]


class UserItemMap(Mapping[Key, V]):
    """`{(user_id, item_id): value}`, stored as `{user_id: {item_id: value}}`."""

    __slots__ = ("_by_user", "_count")

    def __init__(self, entries: Iterable[tuple[Key, V]] = ()) -> None:
        by_user: dict[str, dict[str, V]] = {}
        for (user_id, item_id), value in entries:
            items = by_user.get(user_id)
            if items is None:
                items = by_user[user_id] = {}
            items[item_id] = value
        self._by_user = by_user
        self._count = sum(len(items) for items in by_user.values())

    @classmethod
    def of_users(cls, by_user: dict[str, dict[str, V]]) -> UserItemMap[V]:
        """The map of `{user_id: {item_id: value}}`, in its order; takes the dicts as they are, no copy."""
        mapping: UserItemMap[V] = cls()
        mapping._by_user = {user_id: items for user_id, items in by_user.items() if items}
        mapping._count = sum(len(items) for items in mapping._by_user.values())
        return mapping

    def __getitem__(self, key: Key) -> V:
        user_id, item_id = key
        items = self._by_user.get(user_id)
        if items is None or item_id not in items:
            raise KeyError(key)
        return items[item_id]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        items = self._by_user.get(key[0])
        return items is not None and key[1] in items

    def __iter__(self) -> Iterator[Key]:
        for user_id, items in self._by_user.items():
            for item_id in items:
                yield (user_id, item_id)

    def __len__(self) -> int:
        return self._count

    def values(self) -> ValuesView[V]:
        return _Values(self)

    def items(self) -> ItemsView[Key, V]:
        return _Items(self)

    def users(self) -> Iterable[str]:
        """The user ids with at least one entry, in order."""
        return self._by_user.keys()

    def __repr__(self) -> str:
        return f"UserItemMap({dict(self.items())!r})"


class _Values(ValuesView[V]):
    _mapping: UserItemMap[V]

    def __iter__(self) -> Iterator[V]:
        for items in self._mapping._by_user.values():
            yield from items.values()


class _Items(ItemsView[Key, V]):
    _mapping: UserItemMap[V]

    def __iter__(self) -> Iterator[tuple[Key, V]]:
        for user_id, items in self._mapping._by_user.items():
            for item_id, value in items.items():
                yield (user_id, item_id), value

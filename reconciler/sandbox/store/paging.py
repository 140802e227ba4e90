"""Keyset paging behind offset-paged APIs: each page costs the same, however deep into a list it is.

Litmos pages by `start` (an offset). SQLite answers `OFFSET n` by stepping over n rows, so reading a list of
n rows page by page costs O(n²). A client pages in order, so the store remembers, per query and offset, the
key of the last row it served; the next page then starts from that key through the primary key (or an index
ending in it). A `start` nobody asked for before (a jump) falls back to `OFFSET`.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

CURSORS_KEPT = 256  # a few concurrent listings each; old cursors only cost a fallback to OFFSET

CursorKey = tuple[str, tuple[Any, ...], int]


class Cursors:
    """The key after which each (query, offset) continues; forgotten whenever the data changes."""

    def __init__(self, kept: int = CURSORS_KEPT) -> None:
        self._after: OrderedDict[CursorKey, int] = OrderedDict()
        self._kept = kept

    def clear(self) -> None:
        """Forget every cursor (rows were added or removed, so offsets moved)."""
        self._after.clear()

    def page(
        self,
        db: sqlite3.Connection,
        query: str,
        params: Sequence[Any],
        *,
        key: str,
        limit: int | None,
        offset: int,
    ) -> list[tuple[Any, ...]]:
        """Rows of `query` (a SELECT ... WHERE, first column `key`) ordered by `key`, from `offset`."""
        name = (query, tuple(params), offset)
        after = self._after.pop(name, None) if offset else 0
        skip = offset if after is None else 0
        rows = db.execute(
            f"{query} AND {key} > ? ORDER BY {key} LIMIT ? OFFSET ?",
            (*params, after or 0, -1 if limit is None else limit, skip),
        ).fetchall()
        if rows and limit is not None and len(rows) == limit:
            self._after[(query, tuple(params), offset + len(rows))] = int(rows[-1][0])
            while len(self._after) > self._kept:
                self._after.popitem(last=False)
        return rows

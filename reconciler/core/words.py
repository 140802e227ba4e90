"""Counting words: the one place enrollctl decides between `1 enrollment` and `2 enrollments`."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`word` for one, `many` (or `word` + s) for any other count."""
    return word if n == 1 else (many or word + "s")


def number(n: int, word: str, many: str | None = None) -> str:
    """`1 removal`, `2 removals`, `1,200 learners`: the count with thousands separators and the right word."""
    return f"{n:,} {plural(n, word, many)}"

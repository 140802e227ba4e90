"""Counting words: the one place enrollctl decides between `1 enrollment` and `2 enrollments`."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`word` for one, `many` (or `word` + s) for any other count; also picks verbs (`matches`/`match`)."""
    return word if n == 1 else (many or word + "s")


def counted(n: int, singular: str, many: str = "", *, grouped: bool = False) -> str:
    """`1 enrollment`, `3 enrollments` (`1,234` with `grouped`); `many` where adding "s" is wrong."""
    count = f"{n:,}" if grouped else str(n)
    return f"{count} {plural(n, singular, many or None)}"


def number(n: int, word: str, many: str | None = None) -> str:
    """`1 removal`, `2 removals`, `1,200 learners`: `counted` with thousands separators."""
    return counted(n, word, many or "", grouped=True)

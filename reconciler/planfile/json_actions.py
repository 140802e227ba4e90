"""The plan file's action and kept lists: one member per line (issue 16: a lean plan).

A plan file is indented JSON, except that each member of a provider's `actions` and `kept` lists is one
line of compact JSON with sorted keys (`json.dumps(member, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`). An action's line is the text its approval digest hashes (`digest.action_line`), so
writing a plan encodes each action once for both; a first run of 100,000s of actions is also 40 % fewer bytes
to write than indented, and a line per action is what `grep` and `wc -l` expect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from reconciler.core.plan import ProviderPlan
from reconciler.planfile.digest import DigestWriter, action_slices, compact
from reconciler.planfile.json_text import INDENT, Fragment, Shared

KEPT_SLICE = 2048  # kept lines joined into one piece


class _Listed(Fragment):
    """A list written a line per member, in pieces (`pieces`); its whole text is their concatenation."""

    def json(self, newline: str) -> str:
        return "".join(self.pieces(newline))


class ActionLines(_Listed):
    """A provider's actions, a line each, at whatever depth the plan puts them; a `DigestWriter` given is
    fed the same lines as they are written."""

    def __init__(self, provider: ProviderPlan, digest: DigestWriter | None, shared: Shared) -> None:
        self.provider = provider
        self.digest = digest
        self.shared = shared  # terms and sources by value, shared by the providers of one plan

    def pieces(self, newline: str) -> Iterator[str]:
        """The list `digest.SLICE` actions a piece: a plan's actions are never held as text all at once."""
        digest = self.digest
        if digest is not None:
            digest.begin(self.provider)
        slices = action_slices(self.provider.actions, self.shared)
        yield from _lines(slices, newline, digest.lines if digest is not None else None)
        if digest is not None:
            digest.end(self.provider)


class Lines(_Listed):
    """Any list of JSON values, a compact line each (the kept enrollments)."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values

    def pieces(self, newline: str) -> Iterator[str]:
        values = self.values
        slices = (
            [compact(v) for v in values[start : start + KEPT_SLICE]]
            for start in range(0, len(values), KEPT_SLICE)
        )
        yield from _lines(slices, newline, None)


def _lines(
    slices: Iterator[list[str]], newline: str, seen: Callable[[list[str]], None] | None
) -> Iterator[str]:
    deeper = newline + INDENT
    separator = "," + deeper
    opening = "[" + deeper
    for texts in slices:
        if seen is not None:
            seen(texts)
        yield opening + separator.join(texts)
        opening = separator
    yield "[]" if opening.startswith("[") else newline + "]"

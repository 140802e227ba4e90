"""The JSON text of a plan's actions, written straight from the actions (issue 16: a lean plan).

Byte for byte what `dumps_indented` writes for `codec._action_to_dict` of each action, but without a
dictionary per action (a first run holds 100,000s of them at once otherwise), and with the terms and
sources that many actions share encoded once. `render_json` uses it; `plan_to_dict` is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reconciler.core.model import Enrollment
from reconciler.core.plan import Action
from reconciler.planfile import codec
from reconciler.planfile.json_text import INDENT, Fragment, Shared, encode_string, encode_value, once

# terms and sources by value (frozen, hashable; their fields are strings, numbers, dates and enums, so
# equal values write equal text): a first run's 100,000 actions share a handful of each
SLICE = 2048  # actions per piece of `ActionsJson.pieces`
_KEYS = tuple(encode_string(k) for k in codec.ENROLLMENT_KEYS)


class ActionsJson(Fragment):
    """A list of actions that encodes itself at whatever depth the plan puts it."""

    def __init__(self, actions: Sequence[Action]) -> None:
        self.actions = actions

    def json(self, newline: str) -> str:
        if not self.actions:
            return "[]"
        deeper = newline + INDENT
        shared: Shared = {}
        texts = [_action(a, deeper, shared) for a in self.actions]
        texts[0] = "[" + deeper + texts[0]  # the brackets ride on the first and last action: no extra copy
        texts[-1] = texts[-1] + newline + "]"
        return ("," + deeper).join(texts)

    def pieces(self, newline: str) -> Iterator[str]:
        """The same text, `SLICE` actions a piece: a plan's actions are never held as text all at once."""
        if not self.actions:
            yield "[]"
            return
        deeper = newline + INDENT
        separator = "," + deeper
        shared: Shared = {}
        opening = "[" + deeper
        for start in range(0, len(self.actions), SLICE):
            texts = [_action(a, deeper, shared) for a in self.actions[start : start + SLICE]]
            yield opening + separator.join(texts)
            opening = separator
        yield newline + "]"


def _enrollment(e: Enrollment, newline: str) -> str:
    inner = newline + INDENT
    values = codec.enrollment_values(e, encode_string)
    return (
        "{"
        + inner
        + ("," + inner).join([f"{k}: {v}" for k, v in zip(_KEYS, values, strict=True)])
        + newline
        + "}"
    )


def _action(a: Action, newline: str, shared: Shared) -> str:
    inner = newline + INDENT
    s = encode_string
    terms = a.terms
    terms_text = (
        "null"
        if terms is None
        else once(shared, terms, lambda: encode_value(codec.terms_to_dict(terms), inner))
    )
    sources = a.sources
    sources_text = once(
        shared, sources, lambda: encode_value([codec.source_to_dict(x) for x in sources], inner)
    )
    before = "null" if a.before is None else _enrollment(a.before, inner)
    # the kinds are StrEnums: as str they are their values (what `.value` gives, without the descriptor)
    kind, user_id, item_id = a.kind, a.user_id, a.item_id
    return (
        f'{{{inner}"id": {s(f"{kind}:{user_id}:{item_id}")},{inner}"kind": {s(kind)},'
        f'{inner}"user_id": {s(user_id)},{inner}"user_login": {s(a.user_login)},'
        f'{inner}"department": {s(a.department)},{inner}"item_id": {s(item_id)},'
        f'{inner}"item_kind": {s(a.item_kind)},{inner}"item_title": {s(a.item_title)},'
        f'{inner}"terms": {terms_text},'
        f'{inner}"changes": {encode_value(list(a.changes), inner) if a.changes else "[]"},'
        f'{inner}"risks": {encode_value(list(a.risks), inner) if a.risks else "[]"},'
        f'{inner}"notify": {"true" if a.notify else "false"},{inner}"sources": {sources_text},'
        f'{inner}"before": {before}{newline}}}'
    )

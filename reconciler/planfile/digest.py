"""The approval digest, and the one line of text per action that both the digest and the plan file hold.

The digest is the sha256 of one compact JSON document (sorted keys, `,`/`:` separators, ASCII only): the
manifest digest, the options, and per provider its name, kind, account and actions. Until issue 16 it was
made with `json.dumps` of `codec.plan_to_dict`, a dictionary per action. Now each action is written once, as
the line the plan file holds (`action_line`: the same compact, sorted text, non-ASCII characters kept), and
the digest hashes those lines with non-ASCII characters escaped as `json.dumps` escapes them. The bytes
hashed are exactly those `json.dumps` wrote, so every digest stays what it was (approvals given for saved
plans keep matching; tests compare with the old construction on random plans).
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import re
from collections.abc import Iterator, Sequence
from typing import Any

from reconciler.core.model import Enrollment
from reconciler.core.plan import Action, Plan, ProviderPlan
from reconciler.planfile.json_text import Shared, once

_text = json.encoder.encode_basestring  # the C function json.dumps uses with ensure_ascii=False
_ascii = json.encoder.encode_basestring_ascii  # ... and with ensure_ascii on
_SORTED: dict[tuple[str, ...], tuple[tuple[int, str], ...]] = {}  # keys → (index, text) in sorted order
SLICE = 4096  # actions hashed per update: bounds the text held at once for a plan of 100,000s
# what `encode_basestring_ascii` escapes that `encode_basestring` leaves as it is: DEL and every non-ASCII
# character (quotes, backslashes and control characters both escape alike)
_NOT_ASCII = re.compile("[\x7f-\U0010ffff]")

_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact(value: Any) -> str:
    """`value` as an action line writes it: `json.dumps` with sorted keys, no spaces, non-ASCII kept."""
    return _COMPACT.encode(value)


def as_ascii(text: str) -> str:
    """`text` (compact JSON with non-ASCII kept) as `json.dumps(ensure_ascii=True)` would have written it."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _NOT_ASCII.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as json.dumps writes characters beyond the basic plane
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


class DigestWriter:
    """The digest's text hashed as it is made: `plan_digest` feeds every provider at once, the plan file's
    writer feeds each slice of action lines as it writes them, so each action is encoded once for both."""

    def __init__(self, plan: Plan, options: dict[str, Any]) -> None:
        self._hash = hashlib.sha256()
        self._expected = len(plan.providers)
        self._done = 0
        self._first = True
        self._update(
            f'{{"manifest_digest":{_ascii(plan.manifest_digest)},"options":{compact(options)},"providers":['
        )

    def begin(self, p: ProviderPlan) -> None:
        self._update(f'{"," if self._done else ""}{{"account":{_ascii(p.account)},"actions":[')
        self._first = True

    def lines(self, texts: Sequence[str]) -> None:
        """The next action lines of the provider begun last (`action_line` texts)."""
        if texts:
            joined = ",".join(texts)
            self._update(joined if self._first else "," + joined)
            self._first = False

    def end(self, p: ProviderPlan) -> None:
        self._update(f'],"kind":{_ascii(p.kind.value)},"provider":{_ascii(p.provider)}}}')
        self._done += 1

    def hexdigest(self) -> str | None:
        """The full sha256 hex digest, or None unless every provider was fed from beginning to end."""
        if self._done != self._expected:
            return None
        final = self._hash.copy()
        final.update(b"]}")
        return final.hexdigest()

    def _update(self, text: str) -> None:
        """Hash `text`, escaped as `json.dumps(ensure_ascii=True)` writes it (every piece passes here)."""
        self._hash.update(as_ascii(text).encode("ascii"))


def plan_digest(plan: Plan, options: dict[str, Any]) -> str:
    """The full sha256 hex digest of the plan's approval text; `options` is the plan file's `options`."""
    writer = DigestWriter(plan, options)
    for p in plan.providers:
        writer.begin(p)
        for texts in action_slices(p.actions, {}):
            writer.lines(texts)
        writer.end(p)
    found = writer.hexdigest()
    assert found is not None  # every provider was fed
    return found


def action_slices(actions: Sequence[Action], shared: Shared) -> Iterator[list[str]]:
    """`action_line` of each action, `SLICE` at a time."""
    from reconciler.planfile import codec  # codec imports this module

    for start in range(0, len(actions), SLICE):
        yield [action_line(a, shared, codec) for a in actions[start : start + SLICE]]


def _enrollment(e: Enrollment, codec: Any) -> str:
    keys = codec.ENROLLMENT_KEYS
    order = _SORTED.get(keys)
    if order is None:
        order = _SORTED[keys] = tuple((i, _text(k)) for k, i in sorted((k, i) for i, k in enumerate(keys)))
    values = codec.enrollment_values(e, _text)
    return "{" + ",".join([f"{key}:{values[i]}" for i, key in order]) + "}"


def action_line(a: Action, shared: Shared, codec: Any) -> str:
    """`compact(codec._action_to_dict(a))` without the dictionary; terms and sources that many actions share
    are encoded once per `shared`."""
    # the keys of codec._action_to_dict in sorted order; nested values through json.dumps itself
    terms = a.terms
    terms_text = "null" if terms is None else once(shared, terms, lambda: compact(codec.terms_to_dict(terms)))
    sources = a.sources
    sources_text = once(shared, sources, lambda: compact([codec.source_to_dict(s) for s in sources]))
    before = "null" if a.before is None else _enrollment(a.before, codec)
    changes = compact(list(a.changes)) if a.changes else "[]"
    risks = a.risks
    risks_text = once(shared, risks, lambda: compact([str(r) for r in risks])) if risks else "[]"
    # the kinds are StrEnums: as str they are their values (what `.value` gives, without the descriptor)
    kind, user_id, item_id = a.kind, a.user_id, a.item_id
    return (
        f'{{"before":{before},"changes":{changes},"department":{_text(a.department)},'
        f'"id":{_text(f"{kind}:{user_id}:{item_id}")},"item_id":{_text(item_id)},'
        f'"item_kind":{_text(a.item_kind)},"item_title":{_text(a.item_title)},"kind":{_text(kind)},'
        f'"notify":{"true" if a.notify else "false"},"risks":{risks_text},"sources":{sources_text},'
        f'"terms":{terms_text},"user_id":{_text(user_id)},"user_login":{_text(a.user_login)}}}'
    )

"""The approval digest's text, written straight from the plan's actions (issue 16: a lean plan).

The digest is the sha256 of one compact JSON document (sorted keys, `,`/`:` separators, ASCII only): the
manifest digest, the options, and per provider its name, kind, account and actions. Until issue 16 it was
made with `json.dumps` of `codec.plan_to_dict`, a dictionary per action; here each action's text is put
together from its fields, with the terms and sources that many actions share encoded once, and hashed in
slices. The bytes hashed are exactly those `json.dumps` wrote, so every digest stays what it was (approvals
given for saved plans keep matching; tests compare with the old construction on random plans).
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from reconciler.core.model import Enrollment
from reconciler.core.plan import Action, Plan
from reconciler.planfile.json_text import Shared, once

_ascii = json.encoder.encode_basestring_ascii  # the C function json.dumps uses when ensure_ascii is on
_SORTED: dict[tuple[str, ...], tuple[tuple[int, str], ...]] = {}  # keys → (index, text) in sorted order
SLICE = 4096  # actions hashed per update: bounds the text held at once for a plan of 100,000s

# terms and sources by value (frozen, hashable; their fields are strings, numbers, dates and enums, so
# equal values write equal text): a first run's 100,000 actions share a handful of each
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def compact(value: Any) -> str:
    """`value` as the digest writes it: `json.dumps` with sorted keys, no spaces, ASCII only."""
    return _ENCODER.encode(value)


def plan_digest(plan: Plan, options: dict[str, Any]) -> str:
    """The full sha256 hex digest of the plan's approval text; `options` is the plan file's `options`."""
    from reconciler.planfile import codec  # codec imports this module

    digest = hashlib.sha256()
    head = f'{{"manifest_digest":{_ascii(plan.manifest_digest)},"options":{compact(options)},"providers":['
    digest.update(head.encode("ascii"))
    shared: Shared = {}
    for number, p in enumerate(plan.providers):
        opening = "," if number else ""
        digest.update(f'{opening}{{"account":{_ascii(p.account)},"actions":['.encode("ascii"))
        for text in _slices(p.actions, lambda a: _action(a, shared, codec)):
            digest.update(text.encode("ascii"))
        digest.update(f'],"kind":{_ascii(p.kind.value)},"provider":{_ascii(p.provider)}}}'.encode("ascii"))
    digest.update(b"]}")
    return digest.hexdigest()


def _slices(actions: Sequence[Action], text: Callable[[Action], str]) -> Iterator[str]:
    for start in range(0, len(actions), SLICE):
        part = ",".join([text(a) for a in actions[start : start + SLICE]])
        yield part if start == 0 else "," + part


def _enrollment(e: Enrollment, codec: Any) -> str:
    keys = codec.ENROLLMENT_KEYS
    order = _SORTED.get(keys)
    if order is None:
        order = _SORTED[keys] = tuple((i, _ascii(k)) for k, i in sorted((k, i) for i, k in enumerate(keys)))
    values = codec.enrollment_values(e, _ascii)
    return "{" + ",".join([f"{key}:{values[i]}" for i, key in order]) + "}"


def _action(a: Action, shared: Shared, codec: Any) -> str:
    # the keys of codec._action_to_dict in sorted order; nested values through json.dumps itself
    terms = a.terms
    terms_text = "null" if terms is None else once(shared, terms, lambda: compact(codec.terms_to_dict(terms)))
    sources = a.sources
    sources_text = once(shared, sources, lambda: compact([codec.source_to_dict(s) for s in sources]))
    before = "null" if a.before is None else _enrollment(a.before, codec)
    changes = compact(list(a.changes)) if a.changes else "[]"
    risks = compact([str(r) for r in a.risks]) if a.risks else "[]"
    # the kinds are StrEnums: as str they are their values (what `.value` gives, without the descriptor)
    kind, user_id, item_id = a.kind, a.user_id, a.item_id
    return (
        f'{{"before":{before},"changes":{changes},"department":{_ascii(a.department)},'
        f'"id":{_ascii(f"{kind}:{user_id}:{item_id}")},"item_id":{_ascii(item_id)},'
        f'"item_kind":{_ascii(a.item_kind)},"item_title":{_ascii(a.item_title)},"kind":{_ascii(kind)},'
        f'"notify":{"true" if a.notify else "false"},"risks":{risks},"sources":{sources_text},'
        f'"terms":{terms_text},"user_id":{_ascii(user_id)},"user_login":{_ascii(a.user_login)}}}'
    )

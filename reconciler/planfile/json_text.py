"""Indented JSON text, byte for byte what `json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)`
writes, several times faster.

The standard library encodes indented JSON with its pure-Python generator encoder (the C encoder only runs
without `indent`); a plan of 40,000 actions then takes seconds to render. This encoder handles exactly the
types plan data holds (dict, list, tuple, str, int, float, bool, None; keys as `json.dumps` converts them)
and builds the text with joins; anything else raises TypeError like `json.dumps` would.
"""

from __future__ import annotations

import json.encoder
import math
from collections.abc import Callable, Iterator
from typing import Any

_encode_string = json.encoder.encode_basestring  # the C function when available, as json.dumps uses
_INDENT = "  "
INDENT = _INDENT
LIST_SLICE = 1024  # list members joined into one piece by `iter_indented`
encode_string = _encode_string


class Fragment:
    """A value that writes its own JSON text at the depth it is found (see `json_actions`)."""

    def json(self, newline: str) -> str:
        """The value's text; `newline` is the newline and indentation of the line it starts on."""
        raise NotImplementedError

    def pieces(self, newline: str) -> Iterator[str]:
        """The same text in pieces (`iter_indented`); one piece unless a fragment knows better."""
        yield self.json(newline)


def iter_indented(data: Any, end: str = "") -> Iterator[str]:
    """`data` as JSON indented by two spaces, non-ASCII kept, NaN and infinities refused (ValueError), and
    `end` appended, in pieces whose concatenation is the whole: containers piece by piece and fragments in
    their own pieces, so a plan's text is never held whole."""
    return _pieces(data, "\n", end)


def _pieces(value: Any, newline: str, end: str = "") -> Iterator[str]:
    """Dicts member by member; list members whole (`LIST_SLICE` to a piece) unless a member is a dict
    holding a fragment (a provider and its actions): few pieces, none of them large."""
    if isinstance(value, Fragment):
        yield from value.pieces(newline)
        if end:
            yield end
        return
    if not isinstance(value, dict | list | tuple) or not value:
        yield _encode(value, newline, end)
        return
    deeper = newline + _INDENT
    separator = "," + deeper
    if isinstance(value, dict):
        opening = "{" + deeper
        for key, item in value.items():
            name = key if isinstance(key, str) else _key_text(key)
            yield opening + _encode_string(name) + ": "
            yield from _pieces(item, deeper)
            opening = separator
        yield newline + "}" + end
        return
    opening = "[" + deeper
    texts: list[str] = []
    for item in value:
        if isinstance(item, Fragment) or (
            isinstance(item, dict) and any(isinstance(v, Fragment) for v in item.values())
        ):
            if texts:
                yield opening + separator.join(texts)
                opening, texts = separator, []
            yield opening
            yield from _pieces(item, deeper)
            opening = separator
            continue
        texts.append(_encode(item, deeper))
        if len(texts) == LIST_SLICE:
            yield opening + separator.join(texts)
            opening, texts = separator, []
    if texts:
        yield opening + separator.join(texts)
    yield newline + "]" + end


def _encode(value: Any, newline: str, end: str = "") -> str:
    if isinstance(value, str):
        return _encode_string(value) + end
    if value is None:
        return "null" + end
    if value is True:
        return "true" + end
    if value is False:
        return "false" + end
    if isinstance(value, int):
        return int.__repr__(value) + end
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return float.__repr__(value) + end
    if isinstance(value, dict | list | tuple):
        return _container(value, newline, end)
    if isinstance(value, Fragment):
        return value.json(newline) + end
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _container(value: dict[Any, Any] | list[Any] | tuple[Any, ...], newline: str, end: str) -> str:
    """A dict or list in one join of all its pieces: no `+` or f-string copies a member's text again (a
    plan's actions are 100s of MB of text, and each copy would be held next to the original)."""
    is_dict = isinstance(value, dict)
    if not value:
        return ("{}" if is_dict else "[]") + end
    deeper = newline + _INDENT
    separator = "," + deeper
    pieces = ["{" if is_dict else "[", deeper]
    if isinstance(value, dict):
        for key, item in value.items():
            name = key if isinstance(key, str) else _key_text(key)
            pieces += (_encode_string(name), ": ", _encode(item, deeper), separator)
    else:
        for item in value:
            pieces += (_encode(item, deeper), separator)
    pieces[-1] = newline
    pieces += ("}" if is_dict else "]", end)
    return "".join(pieces)


def _key_text(key: Any) -> str:
    """A non-string key as `json.dumps` writes it: scalars as their JSON text, anything else refused."""
    if isinstance(key, bool | int | float) or key is None:
        return _encode(key, "")
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


Shared = dict[object, str]  # a text by object identity and by value, for `once`


def once(shared: Shared, value: object, text: Callable[[], str]) -> str:
    """The text of `value`, made once per object and once per value: the lookup by identity comes first
    (hashing a tuple of sources by value costs more than the lookup saves); every action is alive while its
    plan is written, so an identity is never reused within one call."""
    found = shared.get(id(value))
    if found is None:
        found = shared.get(value)
        if found is None:
            found = shared[value] = text()
        shared[id(value)] = found
    return found

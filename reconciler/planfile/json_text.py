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
from typing import Any

_encode_string = json.encoder.encode_basestring  # the C function when available, as json.dumps uses
_INDENT = "  "
INDENT = _INDENT
encode_string = _encode_string


class Fragment:
    """A value that writes its own JSON text at the depth it is found (see `json_actions`)."""

    def json(self, newline: str) -> str:
        """The value's text; `newline` is the newline and indentation of the line it starts on."""
        raise NotImplementedError


def encode_value(value: Any, newline: str) -> str:
    """`value`'s text as `dumps_indented` writes it where the enclosing line ends in `newline`."""
    return _encode(value, newline)


def dumps_indented(data: Any) -> str:
    """`data` as JSON indented by two spaces, non-ASCII kept, NaN and infinities refused (ValueError)."""
    return _encode(data, "\n")


def _encode(value: Any, newline: str) -> str:
    if isinstance(value, str):
        return _encode_string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        return float.__repr__(value)
    deeper = newline + _INDENT
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = []
        for key, item in value.items():
            name = key if isinstance(key, str) else _key_text(key)
            parts.append(f"{_encode_string(name)}: {_encode(item, deeper)}")
        # one join, not a chain of `+`: each `+` copies the whole text, 100s of MB for a large plan
        return "".join(("{", deeper, ("," + deeper).join(parts), newline, "}"))
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = ("," + deeper).join([_encode(item, deeper) for item in value])
        return "".join(("[", deeper, items, newline, "]"))
    if isinstance(value, Fragment):
        return value.json(newline)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key_text(key: Any) -> str:
    """A non-string key as `json.dumps` writes it: scalars as their JSON text, anything else refused."""
    if isinstance(key, bool | int | float) or key is None:
        return _encode(key, "")
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")

"""`iter_indented` writes exactly what `json.dumps(indent=2, ensure_ascii=False, allow_nan=False)` writes."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.planfile.json_text import iter_indented

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
keys = (
    st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=25,
)


def dumps_indented(data: Any, end: str = "") -> str:
    return "".join(iter_indented(data, end))


def reference(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)


@given(values)
def test_indented_text_is_byte_for_byte_the_standard_librarys(data: Any) -> None:
    assert dumps_indented(data) == reference(data)


def test_empty_containers_unicode_and_escapes_match() -> None:
    data = {"a": [], "b": {}, "c": 'Zoë "quoted" \\ \n\t\u2028', "d": [1.5, -0.0, 10**30, True, None]}
    assert dumps_indented(data) == reference(data)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_refused_like_json_dumps(bad: float) -> None:
    with pytest.raises(ValueError):
        reference([bad])
    with pytest.raises(ValueError):
        dumps_indented([bad])


def test_objects_json_cannot_encode_are_refused() -> None:
    with pytest.raises(TypeError):
        dumps_indented({"when": object()})


@pytest.mark.parametrize("data", [{"a": [1, {"b": None}]}, [], {}, "x", 1.5, None, [[], {}]])
def test_the_end_is_written_in_the_same_text(data: Any) -> None:
    assert dumps_indented(data, end="\n") == json.dumps(data, indent=2, ensure_ascii=False) + "\n"

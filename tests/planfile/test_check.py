"""The compiled plan-schema checker agrees with jsonschema, on valid and on tampered plans."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.plan import Plan
from reconciler.planfile.check import SchemaCompileError, compile_schema, compile_validity
from reconciler.planfile.codec import plan_to_dict
from reconciler.planfile.file import plan_schema
from tests.support.plan_strategies import plans

JSONSCHEMA = jsonschema.Draft202012Validator(plan_schema())
CHECK = compile_schema(plan_schema())
VALID = compile_validity(plan_schema())
ODD_VALUES = [None, True, 0, 1, -1, 1.5, "", "x", "2026-01-01", "course", [], {}, [1], {"a": 1}]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(paths(item, (*prefix, index)))
    return found


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _replace(parent: Any, key: Any, data: st.DataObject) -> None:
    parent[key] = data.draw(st.sampled_from(ODD_VALUES))


def _delete(parent: dict[str, Any], key: str, data: st.DataObject) -> None:
    del parent[key]


def _extra(parent: dict[str, Any], key: str, data: st.DataObject) -> None:
    parent["unexpected"] = 1


# each mutation with the paths it applies to: any value can be replaced; keys are deleted or added to objects
MUTATIONS = {"replace": (_replace, False), "delete": (_delete, True), "extra": (_extra, True)}


@settings(max_examples=300, deadline=None)
@given(plans, st.sampled_from(sorted(MUTATIONS)), st.data())
def test_checker_agrees_with_jsonschema_on_tampered_plans(
    plan: Plan, mutation: str, data: st.DataObject
) -> None:
    document = json.loads(json.dumps(plan_to_dict(plan)))
    assert CHECK(document) is None
    mutate, in_objects_only = MUTATIONS[mutation]
    candidates = [
        p for p in paths(document)[1:] if isinstance(parent_of(document, p), dict) or not in_objects_only
    ]
    path = data.draw(st.sampled_from(candidates))
    mutate(parent_of(document, path), path[-1], data)
    expected = JSONSCHEMA.is_valid(document)
    assert VALID(document) == expected, (mutation, path)
    assert (CHECK(document) is None) == expected, (mutation, path)


CORNERS: dict[
    str, tuple[dict[str, Any], list[Any], list[Any]]
] = {  # each keyword's edge: JSON's true is no number, 1.0 is an integer, a missing key, a wrong type
    "integer": ({"type": "integer"}, [1, 1.0, -3], [True, 1.5, "1", None]),
    "number or null": ({"type": ["number", "null"]}, [0, 2.5, None], [False, "0", []]),
    "const": ({"const": 1}, [1, 1.0], [True, "1"]),
    "enum": ({"enum": ["a", 2, None]}, ["a", 2, None], ["b", True, 2.5]),
    "pattern": ({"pattern": "^x"}, ["xy", 3], ["yx"]),
    "minimum": ({"minimum": 0}, [0, 5, "s", True], [-1, -0.5]),
    "object": (
        {
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "string"}},
            "additionalProperties": False,
        },
        [{"a": ""}],
        [{}, {"a": 1}, {"a": "", "b": 1}, [], None],
    ),
    "open object": (
        {"required": ["a"], "additionalProperties": {"type": "integer"}},
        [{"a": 1, "b": 2}, "not an object"],
        [{"b": 2}, {"a": "1"}],
    ),
    "items": ({"type": "array", "items": {"type": "boolean"}}, [[], [True, False]], [[1], [True, None], {}]),
    "one of": ({"oneOf": [{"type": "null"}, {"$ref": "#/$defs/s"}]}, [None, "s"], [1, []]),
}


@pytest.mark.parametrize("case", sorted(CORNERS))
def test_the_yes_no_test_agrees_with_jsonschema_at_each_keywords_edges(case: str) -> None:
    node, good, bad = CORNERS[case]
    schema = {**node, "$defs": {"s": {"type": "string"}}}
    valid, check, reference = (
        compile_validity(schema),
        compile_schema(schema),
        jsonschema.Draft202012Validator(schema),
    )
    for value in good:
        assert reference.is_valid(value) and valid(value) and check(value) is None, value
    for value in bad:
        assert not reference.is_valid(value) and not valid(value) and check(value) is not None, value


def test_failure_names_the_path_and_the_problem() -> None:
    assert CHECK({"format_version": 1}) == ("", "'created_at' is a required property")
    assert CHECK([]) == ("", "[] is not of type 'object'")


def test_null_or_object_reports_the_problem_inside_the_object() -> None:
    schema = {
        "type": "object",
        "properties": {"terms": {"oneOf": [{"$ref": "#/$defs/t"}, {"type": "null"}]}},
        "$defs": {"t": {"type": "object", "required": ["due"]}},
    }
    assert compile_schema(schema)({"terms": {}}) == ("terms", "'due' is a required property")


def test_unsupported_keywords_are_refused_when_compiling() -> None:
    with pytest.raises(SchemaCompileError, match="maxLength"):
        compile_schema({"type": "string", "maxLength": 3})

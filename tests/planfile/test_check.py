"""The compiled plan-schema checker agrees with jsonschema, on valid and on tampered plans."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.plan import Plan
from reconciler.planfile.check import SchemaCompileError, compile_schema
from reconciler.planfile.codec import plan_to_dict
from reconciler.planfile.file import plan_schema
from tests.support.plan_strategies import plans

JSONSCHEMA = jsonschema.Draft202012Validator(plan_schema())
CHECK = compile_schema(plan_schema())
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
    assert (CHECK(document) is None) == JSONSCHEMA.is_valid(document), (mutation, path)


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

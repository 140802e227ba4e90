"""The JSON plan: a lossless, schema-valid, stable, secret-free form of a Plan."""

from __future__ import annotations

import dataclasses
import json
import re
import typing

import jsonschema
import pytest
from hypothesis import given, settings

from reconciler.core import plan as plan_module
from reconciler.errors import PlanError
from reconciler.planfile.codec import plan_to_dict
from reconciler.planfile.decode import plan_from_dict
from reconciler.planfile.file import plan_schema
from reconciler.render.json import render_json
from tests.support import render_builders as b
from tests.support.plan_strategies import plans

SAMPLES = {
    "small_mixed": b.small_mixed_plan,
    "empty": b.empty_plan,
    "kept_identity": b.kept_identity_plan,
}
SECRET_WORDS = re.compile(r"secret|token|password|passwd|api_?key|credential|authorization", re.IGNORECASE)


def validate(data: object) -> None:
    jsonschema.Draft202012Validator(plan_schema()).validate(data)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_json_golden(name: str, golden: typing.Callable[[str, str], None]) -> None:
    golden(f"plans/{name}.json", render_json(SAMPLES[name]()))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_plans_round_trip_exactly(name: str) -> None:
    plan = SAMPLES[name]()
    assert plan_from_dict(json.loads(render_json(plan))) == plan


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_rendered_sample_plans_match_the_schema(name: str) -> None:
    validate(json.loads(render_json(SAMPLES[name]())))


@settings(max_examples=150, deadline=None)
@given(plans)
def test_any_plan_round_trips_through_json_and_matches_the_schema(plan: plan_module.Plan) -> None:
    data = json.loads(render_json(plan))
    validate(data)
    assert plan_from_dict(data) == plan


def test_format_version_comes_first_and_keys_are_stable() -> None:
    plan = b.small_mixed_plan()
    text = render_json(plan)
    assert text.startswith('{\n  "format_version": 1,\n')
    reordered = dataclasses.replace(plan, guard=dict(reversed(list(plan.guard.items()))))
    assert render_json(reordered) == text


def test_enums_dates_positions_and_before_are_plain_json() -> None:
    data = plan_to_dict(b.small_mixed_plan())
    update = next(a for a in data["providers"][0]["actions"] if a["kind"] == "update")
    assert update["terms"]["due"] == {"kind": "date", "date": "2026-11-30", "hours": None}
    assert update["before"]["access"] == "2026-01-15T08:00:00+00:00"
    assert update["before"]["completion"] == "not_started"
    assert update["sources"][0]["position"] == {
        "file": "policies/security-awareness.yaml",
        "line": 10,
        "col": 7,
    }
    assert update["id"] == "update:u-carol:c-security-awareness-2026"
    assert data["created_at"] == "2026-11-25T09:30:00+00:00"


def test_plan_json_holds_no_secrets() -> None:
    """No key in the JSON (hence no Plan field) may be named like a credential."""
    for name, build in SAMPLES.items():
        keys = _all_keys(plan_to_dict(build()))
        assert not [k for k in keys if SECRET_WORDS.search(k)], name
    schema_keys = _all_keys(plan_schema())
    assert not [k for k in schema_keys if SECRET_WORDS.search(k)]


def test_plan_dataclasses_have_no_secret_fields() -> None:
    """Guard against someone adding e.g. a `token` field to a plan type later."""
    types = [getattr(plan_module, n) for n in dir(plan_module)]
    fields = [f.name for t in types if dataclasses.is_dataclass(t) for f in dataclasses.fields(t)]
    assert fields
    assert not [f for f in fields if SECRET_WORDS.search(f)]


def test_malformed_plan_data_raises_plan_error_naming_the_field() -> None:
    data = plan_to_dict(b.small_mixed_plan())
    del data["providers"][0]["actions"][0]["item_title"]
    with pytest.raises(PlanError, match="item_title"):
        plan_from_dict(data)


def test_equal_terms_and_sources_are_read_once_and_shared() -> None:
    plan = plan_from_dict(plan_to_dict(b.small_mixed_plan()))
    actions = plan.providers[0].actions
    by_terms = {a.terms: a.terms for a in actions if a.terms is not None}
    by_sources = {a.sources: a.sources for a in actions}
    assert all(a.terms is None or a.terms is by_terms[a.terms] for a in actions)
    assert all(a.sources is by_sources[a.sources] for a in actions)
    assert len(by_sources) < len(actions)  # the sample has actions with equal sources


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "grant", "'grant' is not a valid ActionKind"),
        ("kind", ["add"], r"\['add'\] is not a valid ActionKind"),
        ("risks", ["risky"], "'risky' is not a valid Risk"),
        ("terms", {"due": {"kind": "date", "date": [], "hours": None}}, "malformed"),
    ],
)
def test_a_value_no_member_of_its_kind_is_refused(field: str, value: object, message: str) -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["providers"][0]["actions"][0][field] = value
    with pytest.raises(PlanError, match=message):
        plan_from_dict(data)


def test_edited_action_id_is_refused() -> None:
    data = plan_to_dict(b.small_mixed_plan())
    data["providers"][0]["actions"][0]["user_id"] = "u-someone-else"
    with pytest.raises(PlanError, match=r"providers\[0\]\.actions\[0\]\.id"):
        plan_from_dict(data)


def _all_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _all_keys(v)}
    return set()


def reference_text(plan: plan_module.Plan) -> str:
    """The plan file's text as specified (`planfile.codec.plan_json_pieces`): `json.dumps(indent=2)` of
    `plan_to_dict`, except that each action and kept enrollment is one line, compact, keys sorted."""
    data = plan_to_dict(plan)
    lines: list[str] = []
    for provider in data["providers"]:
        for key in ("actions", "kept"):
            members = provider[key]
            provider[key] = [f"\0{len(lines) + i}\0" for i in range(len(members))]
            lines += (
                json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
                for m in members
            )
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return re.sub(r'"\\u0000(\d+)\\u0000"', lambda m: lines[int(m.group(1))], text)


@settings(max_examples=150, deadline=None)
@given(plans)
def test_render_json_is_byte_for_byte_the_specified_text(plan: plan_module.Plan) -> None:
    # render_json writes actions straight from the plan (json_actions); it must not differ by one byte
    assert render_json(plan) == reference_text(plan)


def test_each_action_and_kept_enrollment_is_one_line() -> None:
    plan = b.kept_identity_plan()
    lines = render_json(plan).splitlines()
    for provider in plan.providers:
        for action in provider.actions:
            assert sum(f'"id":"{action.id}"' in line for line in lines) == 1
        for kept in provider.kept:
            mine = [line for line in lines if f'"user_id":"{kept.user_id}"' in line and '"reason"' in line]
            assert len(mine) == 1
            assert json.loads(mine[0].strip().rstrip(","))["item_id"] == kept.item_id
    assert plan.providers[0].actions and plan.providers[0].kept


def test_actions_sharing_terms_and_sources_render_as_specified() -> None:
    plan = b.small_mixed_plan()
    part = plan.providers[0]
    shared = [dataclasses.replace(a, terms=part.actions[0].terms) for a in part.actions if a.terms]
    twice = dataclasses.replace(plan, providers=(dataclasses.replace(part, actions=(*shared, *shared)),))
    assert render_json(twice) == reference_text(twice)

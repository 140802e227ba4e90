"""The approval digest: built without dictionaries, yet byte for byte the digest it always was.

Approvals are given for saved plans (`apply plan.json --approve DIGEST`); a digest that changed for the same
plan would refuse every approval given before the change. The reference below is the construction the
digest had until issue 16 (`json.dumps` of the plan file's data), kept here as the specification.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.plan import Plan
from reconciler.planfile import codec, digest
from reconciler.planfile.codec import APPROVAL_DIGITS, approval_digest, plan_to_dict, plan_to_json
from reconciler.planfile.file import load_plan
from tests.support import render_builders as b
from tests.support.plan_strategies import plans

GOLDEN_PLANS = Path(__file__).parents[1] / "golden" / "plans"


def reference_digest(plan: Plan) -> str:
    """The digest as `codec.approval_digest` computed it before issue 16."""
    data = plan_to_dict(plan, verdict=False)
    bound = {
        "manifest_digest": data["manifest_digest"],
        "options": data["options"],
        "providers": [
            {key: p[key] for key in ("provider", "kind", "account", "actions")} for p in data["providers"]
        ],
    }
    text = json.dumps(bound, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:APPROVAL_DIGITS]


@settings(max_examples=300, deadline=None)
@given(plans)
def test_digest_is_the_reference_digest_for_any_plan(plan: Plan) -> None:
    assert approval_digest(plan) == reference_digest(plan)


@pytest.mark.parametrize("name", ["small_mixed", "recurring", "kept_identity", "empty"])
def test_golden_plan_files_keep_the_digest_they_were_approved_with(name: str) -> None:
    path = GOLDEN_PLANS / f"{name}.json"
    written = json.loads(path.read_text(encoding="utf-8"))["verdict"]["approval_digest"]
    plan = load_plan(path)
    assert approval_digest(plan) == written == reference_digest(plan)


def test_digest_of_a_plan_longer_than_one_slice_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest, "SLICE", 7)
    plan = b.large_plan(50)
    assert approval_digest(plan) == reference_digest(plan)


def test_non_ascii_fields_are_escaped_as_json_dumps_escapes_them() -> None:
    plan = b.small_mixed_plan()
    first = plan.providers[0]
    action = dataclasses.replace(first.actions[0], user_login="zoë@acme.example", department="Zürich/Ü")
    odd = dataclasses.replace(plan, providers=(dataclasses.replace(first, actions=(action,)),))
    assert approval_digest(odd) == reference_digest(odd) != reference_digest(plan)


def test_a_changed_action_changes_the_digest_and_the_json() -> None:
    plan = b.small_mixed_plan()
    first = plan.providers[0]
    action = dataclasses.replace(first.actions[0], notify=not first.actions[0].notify)
    changed = dataclasses.replace(first, actions=(action, *first.actions[1:]))
    other = dataclasses.replace(plan, providers=(changed, *plan.providers[1:]))
    assert approval_digest(plan) == approval_digest(plan)
    assert approval_digest(other) != approval_digest(plan)
    assert plan_to_json(other) != plan_to_json(plan)
    assert approval_digest(plan) == reference_digest(plan)


def test_remembered_texts_go_with_their_plan() -> None:
    plan = b.small_mixed_plan()
    text = plan_to_json(plan)
    assert plan_to_json(plan) is text  # the second rendering of the same plan object is the first one's
    assert plan_to_json(b.small_mixed_plan()) == text  # an equal plan renders the same bytes
    plan_to_json(plan)
    assert codec._last is not None and codec._last.plan() is plan
    del plan
    gc.collect()
    assert codec._last is None


def test_enrollment_keys_are_the_plan_files_in_its_order() -> None:
    before = b.small_mixed_plan().providers[0].actions[-1].before
    assert before is not None
    assert tuple(codec.enrollment_to_dict(before)) == codec.ENROLLMENT_KEYS


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_progress_json_cannot_hold_is_refused_in_both_texts(bad: float) -> None:
    plan = b.small_mixed_plan()
    first = plan.providers[0]
    index, action = next((n, a) for n, a in enumerate(first.actions) if a.before is not None)
    assert action.before is not None
    odd = dataclasses.replace(action, before=dataclasses.replace(action.before, progress=bad))
    actions = (*first.actions[:index], odd, *first.actions[index + 1 :])
    broken = dataclasses.replace(plan, providers=(dataclasses.replace(first, actions=actions),))
    with pytest.raises(ValueError, match="not JSON compliant"):
        approval_digest(broken)
    with pytest.raises(ValueError, match="not JSON compliant"):
        plan_to_json(broken)


@given(
    st.text()
    | st.lists(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\x7f\u2028\U0001f600")))
)
def test_as_ascii_escapes_what_json_dumps_escapes_with_ensure_ascii(value: object) -> None:
    kept = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert digest.as_ascii(kept) == json.dumps(value, ensure_ascii=True, separators=(",", ":"))


@pytest.mark.parametrize("known_first", [False, True])
def test_the_digest_written_while_saving_is_the_approval_digest(
    known_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest, "SLICE", 3)  # several slices per provider, two providers
    plan = b.large_plan(20)
    first = plan.providers[0]
    second = dataclasses.replace(first, provider="lms2", account="https://other.example")
    plan = dataclasses.replace(plan, providers=(first, second))
    if known_first:
        approval_digest(plan)
    written = json.loads(plan_to_json(plan))["verdict"]["approval_digest"]
    assert written == approval_digest(plan) == reference_digest(plan)


def test_a_digest_writer_not_fed_every_provider_gives_no_digest() -> None:
    plan = b.small_mixed_plan()
    writer = digest.DigestWriter(plan, codec.options_to_dict(plan.options))
    assert writer.hexdigest() is None
    for p in plan.providers:
        writer.begin(p)
        writer.end(p)
    assert writer.hexdigest() is not None

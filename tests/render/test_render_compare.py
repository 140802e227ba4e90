"""A plan comparison in words: long sections stop at the limit and say how many more; JSON keeps them all."""

from __future__ import annotations

import json

from reconciler.core.plan import Plan
from reconciler.planfile.compare import compare_plans
from reconciler.render.compare import render_compare_json, render_compare_markdown, render_compare_text
from tests.support.render_builders import add, plan, provider_plan


def _grown(n: int) -> tuple[Plan, Plan]:
    old = plan(provider_plan([]))
    new = plan(provider_plan([add(f"user{i:03}@acme.example") for i in range(n)]))
    return old, new


def test_a_long_section_stops_at_the_limit_and_counts_the_rest() -> None:
    old, new = _grown(60)
    comparison = compare_plans(old, new)
    text = render_compare_text(comparison)
    assert "# 60 actions planned now, not before" in text
    assert text.count("\n  + user") == 50
    assert "…and 10 more (`show NEW --compare OLD --full` lists them)" in text
    assert render_compare_text(comparison, full=True).count("\n  + user") == 60
    assert render_compare_markdown(comparison, limit=20).count("\n+ user") == 20


def test_json_lists_every_action() -> None:
    old, new = _grown(60)
    data = json.loads(render_compare_json(compare_plans(old, new)))
    assert len(data["actions"]["added"]) == 60
    assert data["plan"] == [
        {"field": "lms: add", "old": "0", "new": "60"},
        {"field": "lms: notifications", "old": "0", "new": "60"},
    ]
    assert data["same_actions"] is False

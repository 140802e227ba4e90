"""The plan as JSON for machines: the saved-plan format itself, so `plan --format json` and `plan --out`
print the same bytes. The codec (both directions, key order, format version) lives in `planfile.codec`."""

from __future__ import annotations

from reconciler.core.plan import Plan
from reconciler.planfile.codec import plan_to_json


def render_json(plan: Plan) -> str:
    """The plan as the JSON of schemas/plan.schema.json: stable key order, trailing newline."""
    return plan_to_json(plan)

"""The plan as JSON for machines: the saved-plan format itself, so `plan --format json` and `plan --out`
print the same bytes. The codec (both directions, key order, format version) lives in `planfile.codec`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.core.plan import Plan
from reconciler.planfile.codec import plan_json_pieces, plan_to_json

READ_SLICE = 1 << 20  # characters of a saved plan read back at a time


def render_json(plan: Plan) -> str:
    """The plan as the JSON of schemas/plan.schema.json: stable key order, trailing newline."""
    return plan_to_json(plan)


def echo_json(plan: Plan, write: Callable[[str], None], saved: Path | None = None) -> None:
    """`render_json(plan)` given to `write` in pieces, never held whole (100s of MB for a large plan): the
    file `save_plan` just wrote for it, read back in slices, or the text's pieces as they are made."""
    if saved is None:
        for piece in plan_json_pieces(plan):
            write(piece)
        return
    with saved.open(encoding="utf-8", newline="") as handle:
        for piece in iter(lambda: handle.read(READ_SLICE), ""):
            write(piece)
